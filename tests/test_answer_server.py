"""The answer server and its client as real processes: same answers as a fresh `pulse`, fallback
whenever the server cannot answer, private sockets, stale code, `pulse serve`, signals."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from pulse.cli.launch import runtime_dir, socket_path
from tests.reports.test_queries import WORLD_END, PlantedOrg
from tests.test_query_cli import org
from tests.test_serve import serving, write_config

__all__ = ["org"]  # the planted store and its pulse.toml, shared with tests/test_query_cli.py

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the answer server is POSIX only")

PULSE = [sys.executable, "-m", "pulse.cli"]
SERVER = [sys.executable, "-m", "pulse.cli.answer_server"]
AS_OF = WORLD_END.isoformat()  # the planted world's end, as an instant
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh XDG_RUNTIME_DIR (short: socket paths are limited to 107 bytes) for each test."""
    base = Path(tempfile.mkdtemp(prefix="pulse-xdg-", dir="/tmp"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(base))
    monkeypatch.delenv("PULSE_NO_ANSWER_SERVER", raising=False)
    monkeypatch.delenv("PULSE_CONFIG", raising=False)
    yield base
    shutil.rmtree(base, ignore_errors=True)


class AnswerServer:
    """`python -m pulse.cli.answer_server` for one configuration file, its log in a file."""

    def __init__(self, config: Path, log: Path, env: dict[str, str] | None = None) -> None:
        self.socket = socket_path(str(config))
        self.log = log
        with log.open("w") as stderr:
            self.process = subprocess.Popen(
                [*SERVER, "--socket", self.socket],
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stderr=stderr,
                env={**os.environ, **(env or {})},
            )

    def wait_until_listening(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not accepts(self.socket):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"not listening:\n{self.lines()}")
            time.sleep(0.05)

    def lines(self) -> list[str]:
        return self.log.read_text().splitlines()

    def answered(self, since: int) -> list[str]:
        """The 'answered ...' parts of the log lines written after line ``since``."""
        return [line.split(": ", 1)[1] for line in self.lines()[since:] if "answered" in line]

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def accepts(path: str) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(path)
        except OSError:
            return False
    return True


def start_server(config: Path, log: Path, env: dict[str, str] | None = None) -> AnswerServer:
    server = AnswerServer(config, log, env)
    try:
        server.wait_until_listening()
    except BaseException:
        server.close()
        raise
    return server


def client_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PULSE_TEST_TOKEN": "x", "COLUMNS": "80", "TERM": "dumb", **extra}


def pulse(*args: str, cwd: Path = ROOT, direct: bool = False) -> subprocess.CompletedProcess[str]:
    """`python -m pulse.cli ARGS` as a user runs it; ``direct`` keeps it off the answer server."""
    env = client_env(PULSE_NO_ANSWER_SERVER="1") if direct else client_env()
    return subprocess.run(
        [*PULSE, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture(scope="module")
def server(org: tuple[PlantedOrg, Path]) -> Iterator[AnswerServer]:
    """An answer server for the planted store's pulse.toml, started without its token."""
    _, config = org
    base = Path(tempfile.mkdtemp(prefix="pulse-xdg-", dir="/tmp"))
    log = config.parent / "answer-server.log"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_RUNTIME_DIR", str(base))
        patch.delenv("PULSE_TEST_TOKEN", raising=False)
        answer_server = start_server(config, log)
    try:
        yield answer_server
    finally:
        answer_server.close()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def served(server: AnswerServer, monkeypatch: pytest.MonkeyPatch) -> AnswerServer:
    """The module's answer server, its runtime directory this test's."""
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(Path(server.socket).parents[1]))
    return server


def test_answers_are_byte_identical_to_a_fresh_process(
    org: tuple[PlantedOrg, Path], served: AnswerServer
) -> None:
    built, config = org
    epic, item = built.planted["forecast_late_epic"][0], built.planted["blocked_epic"][1]
    questions = [
        ("risk", "--format", "json"),
        ("show", item),
        ("forecast", epic, "--format", "json"),
    ]
    for question in questions:
        args = (*question, "--as-of", AS_OF, "--config", str(config))
        mark = len(served.lines())
        fresh, answered = pulse(*args, direct=True), pulse(*args)
        assert fresh.returncode == 0, fresh.stderr
        assert (answered.returncode, answered.stdout, answered.stderr) == (
            fresh.returncode,
            fresh.stdout,
            fresh.stderr,
        )
        [line] = served.answered(mark)
        assert line.startswith(f"answered {question[0]}: exit 0 in ")
        assert line.endswith(" 0 new imports"), "the server should preload what questions need"


def test_an_unknown_key_is_one_line_and_exit_2(
    org: tuple[PlantedOrg, Path], served: AnswerServer
) -> None:
    _, config = org
    mark = len(served.lines())
    result = pulse("show", "NOPE-1", "--as-of", AS_OF, "--config", str(config))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("pulse: error: ")
    assert [line.split(" in ")[0] for line in served.answered(mark)] == ["answered show: exit 2"]


def test_the_answer_runs_in_the_clients_directory_with_its_environment(
    org: tuple[PlantedOrg, Path], served: AnswerServer
) -> None:
    _, config = org  # the server was started without PULSE_TEST_TOKEN, which pulse.toml needs
    mark = len(served.lines())
    result = pulse("risk", "--as-of", AS_OF, "--config", "pulse.toml", cwd=config.parent)
    assert result.returncode == 0, result.stderr
    assert "at risk" in result.stdout.splitlines()[-1]
    assert len(served.answered(mark)) == 1


def test_the_console_scripts_python3_counts_as_the_same_python(
    org: tuple[PlantedOrg, Path], served: AnswerServer
) -> None:
    """The server runs `.venv/bin/python`; the installed `pulse` script runs `python3`."""
    python3 = Path(sys.executable).with_name("python3")
    if not python3.exists():
        pytest.skip(f"no {python3}")
    _, config = org
    mark = len(served.lines())
    result = subprocess.run(
        [str(python3), "-m", "pulse.cli", "risk", "--as-of", AS_OF, "--config", str(config)],
        cwd=ROOT,
        env=client_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert len(served.answered(mark)) == 1


def test_without_a_server_or_with_a_dead_ones_socket_the_answer_comes_from_here(
    org: tuple[PlantedOrg, Path], runtime: Path
) -> None:
    built, config = org
    args = ("show", built.planted["stalled_epic"][0], "--as-of", AS_OF, "--config", str(config))
    alone = pulse(*args)
    assert alone.returncode == 0, alone.stderr
    killed = start_server(config, config.parent / "killed.log")
    killed.process.kill()
    killed.process.wait()
    assert Path(killed.socket).exists() and not accepts(killed.socket)
    stale = pulse(*args)
    assert (stale.returncode, stale.stdout, stale.stderr) == (0, alone.stdout, alone.stderr)
    replacement = start_server(config, config.parent / "replacement.log")  # over the stale file
    try:
        again = pulse(*args)
        assert (again.returncode, again.stdout) == (0, alone.stdout)
        assert len(replacement.answered(0)) == 1
        second = subprocess.run(
            [*SERVER, "--socket", replacement.socket], capture_output=True, text=True, timeout=60
        )
        assert second.returncode == 0
        assert second.stderr.rstrip().endswith("is already served by another answer server")
        assert accepts(replacement.socket)
    finally:
        replacement.close()


def test_a_socket_directory_others_may_enter_is_not_used(
    org: tuple[PlantedOrg, Path], runtime: Path
) -> None:
    _, config = org
    directory = Path(runtime_dir())
    directory.mkdir(mode=0o755)
    os.chmod(directory, 0o755)
    refused = subprocess.run(
        [*SERVER, "--socket", socket_path(str(config))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1
    assert f"not serving answers: {directory} must be a directory of this user with mode 0700" in (
        refused.stderr
    )
    assert list(directory.iterdir()) == []
    # A socket someone else could have put there is not even tried.
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as planted:
        planted.bind(socket_path(str(config)))
        planted.listen(1)
        result = pulse("risk", "--as-of", AS_OF, "--config", str(config))
        planted.setblocking(False)
        with pytest.raises(BlockingIOError):
            planted.accept()
    assert result.returncode == 0, result.stderr
    assert "at risk" in result.stdout.splitlines()[-1]


def test_changed_code_is_refused_and_stops_the_server(
    org: tuple[PlantedOrg, Path], tmp_path: Path
) -> None:
    """Any module file the server loaded counts; here one outside the repository, loaded by
    Python at start-up (sitecustomize on PYTHONPATH), so no repository file is touched."""
    built, config = org
    plugin = tmp_path / "plugins"
    plugin.mkdir()
    module = plugin / "sitecustomize.py"
    module.write_text("", encoding="utf-8")
    server = start_server(config, tmp_path / "server.log", env={"PYTHONPATH": str(plugin)})
    try:
        args = ("show", built.planted["overdue_epic"][0], "--as-of", AS_OF, "--config", str(config))
        before = pulse(*args)
        assert before.returncode == 0 and len(server.answered(0)) == 1
        later = module.stat().st_mtime_ns + 5_000_000_000
        os.utime(module, ns=(later, later))
        after = pulse(*args)
        assert (after.returncode, after.stdout, after.stderr) == (0, before.stdout, before.stderr)
        assert server.process.wait(10) == 0
        log = "\n".join(server.lines())
        assert f"{module} changed since it started; stopping" in log
        assert "refused a question: stale" in log
        assert len(server.answered(0)) == 1
        assert not Path(server.socket).exists()
    finally:
        server.close()


def test_pulse_serve_runs_the_answer_server_and_stops_it(tmp_path: Path) -> None:
    config = write_config(tmp_path / "pulse.toml", f"sqlite:///{tmp_path / 'pulse.db'}")
    path = socket_path(str(config))
    with serving(config, "--log-level", "info") as service:
        service.wait_for_line(f"answer server listening on {path}")
        [answers] = psutil.Process(service.process.pid).children()
        assert "pulse.cli.answer_server" in answers.cmdline()
        assert accepts(path)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        code, seconds = service.stop(signal.SIGTERM)
    assert code == 0 and seconds < 10
    assert not answers.is_running()
    assert not Path(path).exists() and not Path(path).with_suffix(".lock").exists()
    assert any("answer server stopped" in line for line in service.lines)


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGINT, 1), (signal.SIGTERM, -15)], ids=["SIGINT", "SIGTERM"]
)
def test_signals_reach_the_answering_process(
    tmp_path: Path, signum: signal.Signals, code: int
) -> None:
    """The answering process blocks reading its configuration, a FIFO: once the test has the
    FIFO's other end open, the command is running, and the signal goes to the client."""
    fifo = tmp_path / "pulse.toml"
    os.mkfifo(fifo)
    server = start_server(fifo, tmp_path / "server.log")
    try:
        fresh = interrupted(fifo, signum, direct=True)
        answered = interrupted(fifo, signum, direct=False)
        assert fresh == answered
        assert fresh[0] == code
        if signum == signal.SIGINT:
            assert fresh[1] == "\nAborted!\n"
            assert [line.split(" in ")[0] for line in server.answered(0)] == [
                "answered risk: exit 1"
            ]
    finally:
        server.close()


def interrupted(fifo: Path, signum: signal.Signals, direct: bool) -> tuple[int, str]:
    """Exit code and stderr of `pulse risk --config FIFO`, sent ``signum`` while it reads."""
    env = client_env(PULSE_NO_ANSWER_SERVER="1") if direct else client_env()
    client = subprocess.Popen(
        [*PULSE, "risk", "--config", str(fifo)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    writer = None
    deadline = time.monotonic() + 30
    while writer is None and time.monotonic() < deadline:
        try:
            writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)  # fails until a reader opened it
        except OSError:
            time.sleep(0.02)
    assert writer is not None, "pulse never opened its configuration"
    try:
        client.send_signal(signum)
        _, stderr = client.communicate(timeout=30)
    finally:
        os.close(writer)
    return client.returncode, stderr
