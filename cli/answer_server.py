"""The answer server: imports once what `pulse risk|forecast|show` need, then forks per question.

`pulse serve` runs one per configuration file ([schedule] answer_server); by hand:

    python -m pulse.cli.answer_server --socket PATH | --config FILE [--parent-pid N] [--log-level L]

The client is cli/launch.py. A request is one length-prefixed JSON message (argv, environment,
working directory, umask, stdio encodings, Python and code root) carrying the client's stdin,
stdout and stderr as file descriptors. The server refuses what it cannot answer as a fresh
process would (not a question, another Python, another checkout, code changed on disk since it
started: then it also stops), else forks. The child takes over the client's stdio, environment,
cwd and umask, sends its pid, waits for the client's go-ahead (so a client that gave up never gets
a second run), runs `cli.main.main()` exactly as a fresh process would, sends the exit code.

The server is single-threaded (it forks) and opens no database: every child opens its own store.
Nothing here logs argv or environment values, which may hold secrets.
"""

from __future__ import annotations

import argparse
import fcntl
import gc
import importlib
import io
import locale
import logging
import os
import pkgutil
import signal
import socket
import struct
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from types import FrameType
from typing import Any, NoReturn

from pulse.cli.launch import (
    FORK_TIMEOUT,
    ROOT,
    ROUTED,
    STREAMS,
    command,
    interpreter,
    is_private,
    receive_message,
    send_message,
    socket_path,
)

log = logging.getLogger("pulse.answer_server")

# What a question imports, beyond the command modules cli.main.COMMANDS names for ROUTED.
PRELOAD = (
    "pulse.cli.main",
    "pulse.cli.common",
    "pulse.cli.names",
    "safetext",
    "pulse.store.status",
    "settings",
    "store",
    "pulse.store.snapshots",
    "sqlalchemy",
    "sqlite3",
    "sqlalchemy.dialects.sqlite.pysqlite",
    "psycopg",
    "sqlalchemy.dialects.postgresql.psycopg",
    "numpy",
    "pandas",
    "rich.console",
    "rich.table",
    "rich.text",
    "rich.box",
    "rich._emoji_codes",
)
PRELOAD_PACKAGES = (
    "pulse.reports.queries",
    "pulse.reports.metrics",
    "rich._unicode_data",
)  # all modules
CHECK_PARENT_EVERY = 2.0  # seconds between checks that the parent (pulse serve) still runs
REQUEST_TIMEOUT = 2.0  # seconds a client may take to send its request
STOP_WAIT = 1.5  # seconds pulse serve waits after SIGTERM before it kills the server
STALE = "stale"  # the refusal after which the server stops
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

Stamp = dict[str, tuple[int, int] | None]


# -- run by pulse serve ---------------------------------------------------------------------------


@contextmanager
def running(config: str, log_level: str) -> Iterator[None]:
    """An answer server for ``config`` while the block runs; stopped however the block ends."""
    argv = [sys.executable, "-m", "pulse.cli.answer_server", "--socket", socket_path(config)]
    argv += ["--parent-pid", str(os.getpid()), "--log-level", log_level]
    process: subprocess.Popen[bytes] | None = None
    try:
        # Its own session: a Ctrl-C meant for `pulse serve` must not reach it or its answers;
        # serve stops it with SIGTERM below, and it stops by itself when serve is gone.
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        log.warning("answer server not started: %s", exc)
    try:
        yield
    finally:
        if process is not None:
            stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it is still there after STOP_WAIT seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_WAIT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- the server -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Serve answers on the socket until a signal, the parent's end, or a code change."""
    options = _options(argv)
    _log_to_stderr(options.log_level)
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, _exit_on_signal)
    path = options.socket or socket_path(options.config)
    directory = os.path.dirname(path)
    if not _private_directory(directory):
        log.error(
            "not serving answers: %s must be a directory of this user with mode 0700", directory
        )
        return 1
    lock = _lock(path)
    if lock is None:
        log.info("%s is already served by another answer server", path)
        return 0
    try:
        preload()
        stamp = code_stamp()
        try:
            listener = _listen(path)
        except OSError as exc:
            log.error("not serving answers: cannot listen on %s: %s", path, exc)
            return 1
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
        gc.freeze()  # keep the preloaded objects out of every child's garbage collections
        log.info("answer server listening on %s", path)
        _accept(listener, lock, stamp, options.parent_pid)
    finally:
        for owned in (path, lock_path(path)):  # the lock file last, while we still hold it
            with suppress(FileNotFoundError):
                os.unlink(owned)
        log.info("answer server stopped")
    return 0


def _options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m pulse.cli.answer_server",
        description="Answer pulse risk, forecast and show fast (see docs/operations.md).",
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--socket", help="Unix socket to listen on")
    where.add_argument("--config", help="listen where `pulse` looks for this config's server")
    parser.add_argument("--parent-pid", type=int, help="stop when this process is gone")
    parser.add_argument(
        "--log-level", default="info", choices=["debug", "info", "warning", "error"]
    )
    return parser.parse_args(argv)


def _log_to_stderr(level: str) -> None:
    """Log to a copy of our stderr, so children (whose fd 2 is the client's) log here too."""
    stream = os.fdopen(os.dup(2), "w", buffering=1, errors="backslashreplace")
    handler = _QuietHandler(stream)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    log.addHandler(handler)
    log.setLevel(level.upper())
    log.propagate = False  # the root logger stays unconfigured, as in a fresh `pulse`


class _QuietHandler(logging.StreamHandler):
    """A failed log write (the service's stderr gone) must not reach a client's stderr."""

    def handleError(self, record: logging.LogRecord) -> None:
        pass


def _exit_on_signal(_signum: int, _frame: FrameType | None) -> NoReturn:
    """SIGTERM, SIGINT, SIGHUP: leave through main's cleanup (the socket file goes)."""
    raise SystemExit(0)


def _private_directory(directory: str) -> bool:
    """Create the socket directory (0700) if needed; True when it is private to this user."""
    with suppress(FileExistsError, FileNotFoundError):
        os.mkdir(directory, 0o700)
    return is_private(directory)


def lock_path(path: str) -> str:
    """The lock file that makes one answer server per socket."""
    return os.path.splitext(path)[0] + ".lock"


def _lock(path: str) -> int | None:
    """Hold the socket's lock file for life; None when another answer server holds it.

    The holder deletes the file when it stops, so a lock taken on a file deleted meanwhile is
    worthless: retry on the one now there."""
    while True:
        fd = os.open(lock_path(path), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        with suppress(FileNotFoundError):
            if os.stat(lock_path(path)).st_ino == os.fstat(fd).st_ino:
                return fd
        os.close(fd)


def preload() -> None:
    """Import (not run) every module a question needs, so no child imports anything heavy."""
    from pulse.cli.main import COMMANDS

    for name in (*PRELOAD, *(COMMANDS[name].split(":")[0] for name in sorted(ROUTED))):
        importlib.import_module(name)
    for package_name in PRELOAD_PACKAGES:
        package = importlib.import_module(package_name)
        for module in pkgutil.walk_packages(package.__path__, f"{package_name}."):
            importlib.import_module(module.name)


def code_stamp() -> Stamp:
    """Modification time and size of every loaded module's file: the code this server runs."""
    files = {getattr(module, "__file__", None) for module in list(sys.modules.values())}
    return {path: _file_stamp(path) for path in files if isinstance(path, str)}


def changed_file(stamp: Stamp) -> str | None:
    """A file of ``stamp`` that changed or vanished since, if any."""
    return next((path for path, old in stamp.items() if _file_stamp(path) != old), None)


def _file_stamp(path: str) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


def _listen(path: str) -> socket.socket:
    """Listen on ``path`` (0600); a socket file there is stale, since we hold the lock."""
    with suppress(FileNotFoundError):
        os.unlink(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    os.chmod(path, 0o600)
    listener.listen(16)
    return listener


def _accept(listener: socket.socket, lock: int, stamp: Stamp, parent: int | None) -> None:
    """Take questions one at a time until the parent is gone or the code changed."""
    listener.settimeout(CHECK_PARENT_EVERY)
    while True:
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            if parent is not None and os.getppid() != parent:
                log.info("parent process %d is gone; stopping", parent)
                return
            continue
        with conn:
            if not _take(conn, listener, lock, stamp):
                return


def _take(conn: socket.socket, listener: socket.socket, lock: int, stamp: Stamp) -> bool:
    """Answer one connection (fork) or refuse it; False when the server must stop."""
    conn.settimeout(REQUEST_TIMEOUT)
    if not _same_user(conn):
        return True
    try:
        request, fds = receive_message(conn, max_fds=STREAMS)
    except (OSError, ValueError) as exc:
        log.warning("dropped a request: %s", exc)
        return True
    try:
        refusal = _refusal(request, fds, stamp)
        if refusal is None:
            _fork(conn, request, fds, [listener.fileno(), lock])
        else:
            log.info("refused a question: %s", refusal)
            with suppress(OSError):
                send_message(conn, {"refused": refusal})
        return refusal != STALE
    finally:
        for fd in fds:
            os.close(fd)


def _same_user(conn: socket.socket) -> bool:
    """Whether the peer runs as our user (SO_PEERCRED; assumed where the OS lacks it)."""
    if not hasattr(socket, "SO_PEERCRED"):
        return True
    credentials = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", credentials)
    if uid != os.getuid():
        log.warning("refused a connection from uid %d", uid)
    return uid == os.getuid()


def _refusal(request: Any, fds: list[int], stamp: Stamp) -> str | None:
    """Why this server cannot answer the request as a fresh `pulse` would; None if it can."""
    if len(fds) != STREAMS or not _well_formed(request):
        return "malformed request"
    if command(request["argv"]) not in ROUTED:
        return "not a question"
    if request["python"] != interpreter():
        return "another Python"
    if request["root"] != ROOT:
        return "another code root"
    changed = changed_file(stamp)
    if changed is not None:
        log.info("%s changed since it started; stopping", changed)
        return STALE
    return None


def _well_formed(request: Any) -> bool:
    """The request has the fields and types the child relies on."""
    kinds = {
        "argv": list,
        "program": str,
        "cwd": str,
        "env": dict,
        "umask": int,
        "stdio": list,
        "python": list,
        "root": str,
    }
    return (
        isinstance(request, dict)
        and all(isinstance(request.get(key), kind) for key, kind in kinds.items())
        and all(isinstance(arg, str) for arg in request["argv"])
        and all(isinstance(v, str) for v in request["env"].values())
        and len(request["stdio"]) == STREAMS
        and all(isinstance(spec, dict) for spec in request["stdio"])
    )


# -- the child: one question ----------------------------------------------------------------------


def _fork(conn: socket.socket, request: dict[str, Any], fds: list[int], close: list[int]) -> None:
    """Fork the answering process; the parent returns at once (SIGCHLD is ignored)."""
    stops = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, stops)  # no server handler in the child
    try:
        if os.fork() == 0:
            status = 1
            try:
                status = _child(conn, request, fds, close, mask)
            finally:
                os._exit(status)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def _child(
    conn: socket.socket,
    request: dict[str, Any],
    fds: list[int],
    close: list[int],
    mask: set[int | signal.Signals],
) -> int:
    """Become the client's process, wait for the go-ahead, answer; the exit status."""
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
        signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    for fd in close:
        os.close(fd)
    conn.settimeout(FORK_TIMEOUT)
    try:
        os.chdir(request["cwd"])
    except OSError:
        send_message(conn, {"refused": "no such working directory"})
        return 0
    _take_over(request, fds)
    send_message(conn, {"pid": os.getpid()})
    try:
        go, _ = receive_message(conn)
    except (OSError, ValueError):
        go = None
    if not go:
        return 0  # the client gave up before it let us run: it runs the command itself
    started, modules = time.monotonic(), len(sys.modules)
    code = _flush(run())
    log.info(
        "answered %s: exit %d in %.2fs, %d new imports",
        command(request["argv"]),
        code,
        time.monotonic() - started,
        len(sys.modules) - modules,
    )
    conn.settimeout(None)
    send_message(conn, {"exit": code})
    return 0


def _take_over(request: dict[str, Any], fds: list[int]) -> None:
    """The client's stdio (fds 0-2 and sys.std*), environment, time zone, locale, umask, argv."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    for fd, name in enumerate(("stdin", "stdout", "stderr")):
        stream = _text_stream(fd, request["stdio"][fd])
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)
    os.environ.clear()
    os.environ.update(request["env"])
    time.tzset()
    with suppress(locale.Error):
        locale.setlocale(locale.LC_CTYPE, "")  # as Python does at start-up
    os.umask(request["umask"])
    sys.argv = [request["program"], *request["argv"]]


def _text_stream(fd: int, spec: dict[str, Any]) -> io.TextIOWrapper:
    """A sys.std* stream over ``fd`` made the way the client's Python made its own."""
    binary = open(fd, "rb" if fd == 0 else "wb", closefd=False)  # noqa: SIM115
    return io.TextIOWrapper(
        binary,
        encoding=spec.get("encoding"),
        errors=spec.get("errors"),
        newline="\n",
        line_buffering=bool(spec.get("line_buffering")),
        write_through=bool(spec.get("write_through")),
    )


def run() -> int:
    """`pulse` with sys.argv, as a fresh process runs it; its exit code as Python computes it."""
    from pulse.cli.main import main as pulse

    try:
        pulse()
    except SystemExit as exc:
        return exit_code(exc.code)
    except BaseException:
        traceback.print_exc()
        return 1
    return 0


def exit_code(value: object) -> int:
    """Python's exit status for SystemExit(value): None is 0, an int itself, else 1 (printed)."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    print(value, file=sys.stderr)
    return 1


def _flush(code: int) -> int:
    """Flush stdout and stderr; like Python, exit 120 when stdout cannot be flushed."""
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        code = 120
    with suppress(OSError, ValueError):
        sys.stderr.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
