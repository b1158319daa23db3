"""A local HTTP server for the fake CRM APIs of the sync tests: a Starlette app run by uvicorn in a thread.

The socket is bound here (port 0, so the system picks a free port) and handed to uvicorn, so no other process
can take the port between choosing and binding it. The server keeps a log of the requests it answered and a
queue of faults to answer instead (a status with headers, or a delay longer than the client's timeout), each for
the n-th request that matches a method and path.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response


@dataclass
class Fault:
    """Answer the ``nth`` (from 1) request matching ``method`` and ``path`` (a prefix) with ``status`` and
    ``headers`` (or wait ``delay`` seconds first and then answer normally), ``times`` times in a row."""

    method: str
    path: str
    status: int = 500
    nth: int = 1
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    body: Any = None
    deals: bool = False  # match the requests for pages of deals (FakeApi.is_deals) instead of method and path
    seen: int = 0
    used: int = 0


@dataclass
class Logged:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int
    headers: dict[str, str]


class FakeApi:
    """The shared parts of a fake CRM: the request log, faults, and the token it accepts."""

    #: What :meth:`since` of a fake says for a page that continues a query (the filter was on its first page).
    CONTINUED = "continued"

    def __init__(self, token: str) -> None:
        self.token = token
        self.written: list[tuple[str, str, Any]] = []  # (deal id, property, value) as the write endpoints took them
        self.refuse: set[str] = set()  # deal ids whose writes the CRM refuses (a validation rule)
        self.log: list[Logged] = []
        self.faults: list[Fault] = []
        self.lock = threading.Lock()

    def fail(self, method: str, path: str, status: int = 500, **kwargs: Any) -> Fault:
        fault = Fault(method, path, status, **kwargs)
        self.faults.append(fault)
        return fault

    def fail_deals(self, status: int = 500, **kwargs: Any) -> Fault:
        """A fault for the requests of pages of deals (whatever their paths)."""
        fault = Fault("", "", status, deals=True, **kwargs)
        self.faults.append(fault)
        return fault

    def deals_log(self) -> list[Logged]:
        """The requests for pages of deals, in order."""
        return [r for r in self.log if self.is_deals(r.method, r.path, r.query)]

    def is_deals(self, method: str, path: str, query: dict[str, str]) -> bool:
        """Override: whether a request asks for a page of deals."""
        raise NotImplementedError

    def authorised(self, request: Request) -> bool:
        """Override: whether the request carries the token."""
        raise NotImplementedError

    def unauthorised(self) -> Response:
        return JSONResponse({"status": "error", "message": "Authentication credentials not found."}, status_code=401)

    def writes(self) -> list[Logged]:
        """The write requests of a push (override: which requests write)."""
        raise NotImplementedError

    def requests_to(self, path: str, method: str | None = None) -> list[Logged]:
        return [r for r in self.log if r.path.startswith(path) and (method is None or r.method == method)]

    def app(self, routes: list[tuple[str, str, Callable[..., Any]]]) -> Starlette:
        """A Starlette app whose every route is logged, checked for the token and subject to the faults."""
        app = Starlette()

        def wrap(handler: Callable[..., Any]) -> Callable[[Request], Any]:
            async def endpoint(request: Request) -> Response:
                raw = await request.body()
                body = None
                if raw:
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        body = raw.decode()
                fault = self._fault(request)
                logged = Logged(
                    request.method, request.url.path, dict(request.query_params), body, 0, dict(request.headers)
                )
                self.log.append(logged)  # on arrival: a request the client gave up waiting for is logged too
                if fault is not None and fault.delay:
                    await asyncio.sleep(fault.delay)
                    fault = None
                if fault is not None:
                    response: Response = JSONResponse(
                        fault.body or {"message": "injected"}, status_code=fault.status, headers=fault.headers
                    )
                elif not self.authorised(request):
                    response = self.unauthorised()
                else:
                    with self.lock:
                        response = handler(request, body, **request.path_params)
                logged.status = response.status_code
                return response

            return endpoint

        for method, path, handler in routes:
            app.add_route(path, wrap(handler), methods=[method])
        return app

    def _fault(self, request: Request) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.deals:
                    if not self.is_deals(request.method, request.url.path, dict(request.query_params)):
                        continue
                elif request.method != fault.method or not request.url.path.startswith(fault.path):
                    continue
                fault.seen += 1
                if fault.seen >= fault.nth and fault.used < fault.times:
                    fault.used += 1
                    return fault
        return None


@contextmanager
def serving(app: Starlette) -> Iterator[str]:
    """Run ``app`` on a free port of 127.0.0.1 for the block; yields its base URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # kept by accepted sockets: no 40 ms delayed ACKs
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the fake CRM server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
