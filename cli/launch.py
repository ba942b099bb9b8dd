"""`pulse` entry point: hand a question to the answer server when one runs, else run it here.

A fresh process spends about a second importing click, pydantic, SQLAlchemy, pandas and rich
before it can answer `pulse risk`. `pulse serve` keeps an answer server (cli/answer_server.py)
that has imported them once and forks a process per question, which gets this process's argv,
environment, working directory, umask and stdin/stdout/stderr. Anything else, and any question
the server cannot take before it starts answering, runs in this process as before.

This module is imported first by every `pulse` command, so it imports only the standard
library's cheapest modules, and nothing of Pulse.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import socket
import stat
import struct
import sys
from types import FrameType

TYPE_CHECKING = False  # typing costs a few milliseconds to import; only mypy needs Any
if TYPE_CHECKING:
    from typing import Any

ROUTED = frozenset({"risk", "forecast", "show"})  # the questions the answer server takes
DISABLE_ENV = "PULSE_NO_ANSWER_SERVER"
GLOBAL_OPTIONS = ("--log-level", "--config", "-c")  # the options `pulse` takes before a command
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the dir holding cli/
CONNECT_TIMEOUT = 0.5  # seconds; a server that does not accept by then is not used
FORK_TIMEOUT = 5.0  # seconds for the server to fork the answering process
FRAME = struct.Struct("!I")  # every message: 4-byte big-endian length, then that much JSON
MAX_MESSAGE = 4 << 20  # bytes; a request is argv + environment, far below this
STREAMS = 3  # stdin, stdout, stderr travel with the request
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
NO_EXIT_STATUS = "pulse: error: the answer process ended without an exit status\n"


def main() -> None:
    """Console entry point: the answer server's exit code, or the in-process run."""
    args = sys.argv[1:]
    if routed(args):
        code = ask(args)
        if code is not None:
            sys.exit(code)
    from pulse.cli.main import main as run_here

    run_here()


def routed(args: list[str]) -> bool:
    """Whether these arguments go to the answer server: a question, on POSIX, not disabled."""
    return os.name == "posix" and not os.environ.get(DISABLE_ENV) and command(args) in ROUTED


def command(args: list[str]) -> str | None:
    """The subcommand name, after the global options (`--log-level X`, `--config FILE`)."""
    rest = list(args)
    while rest and rest[0].split("=", 1)[0] in GLOBAL_OPTIONS:
        del rest[: 1 if "=" in rest[0] else 2]
    return rest[0] if rest else None


def config_path(args: list[str]) -> str:
    """The configuration file the command will read, as cli.common.config_option finds it."""
    found = None
    pending = False
    for arg in args:
        if arg == "--":
            break
        if pending:
            found, pending = arg, False
        elif arg in ("--config", "-c"):
            pending = True
        elif arg.startswith("--config="):
            found = arg.split("=", 1)[1]
        elif arg.startswith("-c") and not arg.startswith("--"):
            found = arg[2:]
    return found or os.environ.get("PULSE_CONFIG") or "pulse.toml"


def runtime_dir() -> str:
    """The private directory of answer server sockets: $XDG_RUNTIME_DIR/pulse, else a per-user
    directory in $TMPDIR (or /tmp)."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    if base:
        return os.path.join(base, "pulse")
    return os.path.join(os.environ.get("TMPDIR") or "/tmp", f"pulse-{os.getuid()}")


def socket_path(config: str) -> str:
    """The answer server socket of one configuration file (named relative to the cwd)."""
    digest = hashlib.sha256(os.fsencode(os.path.abspath(config))).hexdigest()[:16]
    return os.path.join(runtime_dir(), f"{digest}.sock")


def is_private(directory: str) -> bool:
    """True when ``directory`` is a real directory of this user that nobody else may enter."""
    try:
        info = os.lstat(directory)
    except OSError:
        return False
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid == os.getuid()
        and not info.st_mode & (stat.S_IRWXG | stat.S_IRWXO)
    )


def interpreter() -> list[str]:
    """This Python: its binary (venv/bin/python and python3 are one) and its prefix (the venv)."""
    return [os.path.realpath(sys.executable), sys.prefix]


# -- framing, shared with the server --------------------------------------------------------------


def send_message(sock: socket.socket, doc: dict[str, Any], fds: list[int] | None = None) -> None:
    """Send one length-prefixed JSON message, with ``fds`` attached to its first byte."""
    data = json.dumps(doc).encode()
    frame = FRAME.pack(len(data)) + data
    sent = socket.send_fds(sock, [frame], fds) if fds else 0
    sock.sendall(frame[sent:])


def receive_message(sock: socket.socket, max_fds: int = 0) -> tuple[Any, list[int]]:
    """One message and the file descriptors sent with it; (None, []) at end of stream."""
    fds: list[int] = []
    if max_fds:
        head, fds, flags, _ = socket.recv_fds(sock, FRAME.size, max_fds)
        if flags & socket.MSG_CTRUNC:
            _close_all(fds)
            raise ConnectionError("file descriptors were cut off")
    else:
        head = sock.recv(FRAME.size)
    try:
        if not head:
            return None, fds
        head += _receive_exactly(sock, FRAME.size - len(head))
        (size,) = FRAME.unpack(head) if len(head) == FRAME.size else (-1,)
        if not 0 <= size <= MAX_MESSAGE:
            raise ConnectionError("a message ended early or is too long")
        body = _receive_exactly(sock, size)
        if len(body) < size:
            raise ConnectionError("a message ended early")
        return json.loads(body), fds
    except BaseException:
        _close_all(fds)
        raise


def _receive_exactly(sock: socket.socket, size: int) -> bytes:
    """Up to ``size`` bytes; fewer only when the peer closed the connection."""
    chunks = []
    while size > 0:
        chunk = sock.recv(size)
        if not chunk:
            break
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _close_all(fds: list[int]) -> None:
    for fd in fds:
        os.close(fd)


# -- the client -----------------------------------------------------------------------------------


def ask(args: list[str]) -> int | None:
    """Answer through the answer server: its exit code, or None when it did not run the command
    (no server, refused, gone before it started), so the caller runs it here."""
    path = socket_path(config_path(args))
    if None in (sys.stdin, sys.stdout, sys.stderr) or not is_private(os.path.dirname(path)):
        return None
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    except OSError:
        return None
    with sock:
        try:
            pid = _start(sock, path, args)
        except (OSError, ValueError):
            return None
        return None if pid is None else _await_exit(sock, pid)


def _start(sock: socket.socket, path: str, args: list[str]) -> int | None:
    """Connect, send the request with our stdio; the answering process's pid, or None when the
    server refused."""
    sock.settimeout(CONNECT_TIMEOUT)
    sock.connect(path)
    sock.settimeout(FORK_TIMEOUT)
    send_message(sock, request(args), fds=[0, 1, 2])
    reply, _ = receive_message(sock)
    if not isinstance(reply, dict) or not isinstance(reply.get("pid"), int):
        return None
    return int(reply["pid"])


def request(args: list[str]) -> dict[str, Any]:
    """Everything of this process the answering process must take over."""
    umask = os.umask(0o077)
    os.umask(umask)
    return {
        "argv": args,
        "program": sys.argv[0],
        "cwd": os.getcwd(),
        "env": dict(os.environ),
        "umask": umask,
        "stdio": [
            {
                "encoding": stream.encoding,
                "errors": stream.errors,
                "line_buffering": stream.line_buffering,
                "write_through": getattr(stream, "write_through", False),
            }
            for stream in (sys.stdin, sys.stdout, sys.stderr)
        ],
        "python": interpreter(),
        "root": ROOT,
    }


def _await_exit(sock: socket.socket, pid: int) -> int | None:
    """Tell the answering process to run, forward our signals to it, return its exit code.

    None only when the go-ahead cannot be sent (the process is gone before it started);
    once it is sent the command may have run, so this never falls back to running it here.
    """
    received: list[int] = []

    def forward(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)

    previous = {
        signum: signal.signal(signum, forward)
        for signum in FORWARDED
        if signal.getsignal(signum) != signal.SIG_IGN  # e.g. SIGHUP under nohup stays ignored
    }
    try:
        send_message(sock, {"go": True})
    except OSError:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        return None
    try:
        sock.settimeout(None)
        reply, _ = receive_message(sock)
    except (OSError, ValueError):
        reply = None
    if isinstance(reply, dict) and isinstance(reply.get("exit"), int):
        return int(reply["exit"])
    _die_like(received)
    os.write(2, NO_EXIT_STATUS.encode())
    return 1


def _die_like(received: list[int]) -> None:
    """When a forwarded SIGTERM or SIGHUP ended the answering process, end by it too."""
    for signum in received:
        if signum != signal.SIGINT:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
