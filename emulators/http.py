"""Loopback HTTP server for the emulators, with fault injection at the connection level.

Faults are injected here, below the WSGI app, so an emulator's routes stay about the API and a
fault can do what a real network does: answer 429/5xx, stall, or drop the connection mid-request.
"""

from __future__ import annotations

import email.utils
import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler
from werkzeug.wrappers import Request, Response

FaultKind = Literal["rate_limit", "server_error", "latency", "drop"]
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass
class Fault:
    """One injected fault, applied to the next `count` requests whose path starts with `path`.

    rate_limit: 429 with Retry-After (`retry_after` seconds; `http_date=True` sends an HTTP date)
    and `body` as JSON. server_error: `status` (default 503). latency: sleep `seconds`, then serve
    normally. drop: close the connection without answering.
    """

    kind: FaultKind
    count: int = 1
    path: str = ""
    status: int = 503
    retry_after: float | None = 1.0
    http_date: bool = False
    seconds: float = 0.0
    body: dict[str, Any] | None = None
    after: int = 0  # let this many matching requests through first

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        """Build a fault from the control endpoint's JSON body."""
        return cls(**data)


@dataclass
class FaultPlan:
    """Thread-safe queue of pending faults; the server consults it before every request."""

    _faults: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def inject(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, path: str) -> Fault | None:
        """Return the fault that applies to this request, consuming one use of it."""
        with self._lock:
            for fault in self._faults:
                if not path.startswith(fault.path):
                    continue
                if fault.after > 0:
                    fault.after -= 1
                    continue
                fault.count -= 1
                if fault.count <= 0:
                    self._faults.remove(fault)
                return fault
        return None


@dataclass
class RequestLog:
    """Counts requests per path, so tests and benchmarks can see exactly what a client sent."""

    total: int = 0
    by_path: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, path: str) -> None:
        with self._lock:
            self.total += 1
            self.by_path[path] = self.by_path.get(path, 0) + 1

    def reset(self) -> None:
        with self._lock:
            self.total = 0
            self.by_path.clear()


CONTROL_PREFIX = "/_emulator/"


def control_response(request: Request, faults: FaultPlan, log: RequestLog) -> Response | None:
    """Answer the shared control endpoints, or None when the request is not one of them.

    POST /_emulator/faults {Fault fields} injects; DELETE /_emulator/faults clears;
    GET /_emulator/requests gives {"total", "by_path"}; DELETE /_emulator/requests resets.
    """
    if request.path == CONTROL_PREFIX + "faults":
        if request.method == "POST":
            faults.inject(Fault.from_json(request.get_json(force=True)))
        elif request.method == "DELETE":
            faults.clear()
        return Response(status=204)
    if request.path == CONTROL_PREFIX + "requests":
        if request.method == "DELETE":
            log.reset()
            return Response(status=204)
        body = json.dumps({"total": log.total, "by_path": dict(log.by_path)})
        return Response(body, mimetype="application/json")
    return None


class _FaultingHandler(WSGIRequestHandler):
    """Request handler that applies the server's fault plan before the app sees the request."""

    protocol_version = "HTTP/1.1"
    server: _EmulatorWSGIServer

    def log_request(self, *args: Any, **kwargs: Any) -> None:  # quiet: no access log on stderr
        return

    def run_wsgi(self) -> None:
        path = self.path.split("?", 1)[0]
        if not path.startswith(CONTROL_PREFIX):
            self.server.requests.record(path)
            fault = self.server.faults.take(path)
            if fault is not None and self._apply(fault):
                return
        super().run_wsgi()

    def _apply(self, fault: Fault) -> bool:
        """Carry out a fault; True when the request has been fully handled by it."""
        if fault.kind == "latency":
            time.sleep(fault.seconds)
            return False
        if fault.kind == "drop":
            self.close_connection = True
            self.connection.close()
            return True
        status = 429 if fault.kind == "rate_limit" else fault.status
        body = json.dumps(fault.body or {"errorMessages": [f"emulated {status}"]}).encode()
        self.send_response(status)
        if fault.retry_after is not None:
            if fault.http_date:
                when = email.utils.formatdate(time.time() + fault.retry_after, usegmt=True)
                self.send_header("Retry-After", when)
            else:
                self.send_header("Retry-After", str(int(fault.retry_after)))
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return True


class _EmulatorWSGIServer(BaseWSGIServer):
    multithread = True
    daemon_threads = True
    faults: FaultPlan
    requests: RequestLog

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self.process_request_thread, args=(request, client_address), daemon=True
        )
        thread.start()

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)


class EmulatorServer:
    """Serve a WSGI app on 127.0.0.1 in a background thread; use as a context manager.

    Every emulator also answers the control endpoints under /_emulator/ (see `control_app`).
    """

    def __init__(
        self,
        app: WSGIApp,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: FaultPlan | None = None,
        requests: RequestLog | None = None,
    ) -> None:
        self.faults = faults if faults is not None else FaultPlan()
        self.requests = requests if requests is not None else RequestLog()
        self._server = _EmulatorWSGIServer(host, port, app, handler=_FaultingHandler)
        self._server.faults = self.faults
        self._server.requests = self.requests
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> EmulatorServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
