"""An aiohttp server on 127.0.0.1 in its own thread, recording what it is sent."""
from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

from aiohttp import web

from tests.ports import free_port


@dataclass
class Call:
    """One request the fake received."""

    method: str  # API method, e.g. sendMessage
    params: Dict[str, Any]
    headers: Dict[str, str]
    at: float = field(default_factory=time.monotonic)
    result: Any = None  # what the fake answered, when it succeeded


class FakeServer:
    """Subclasses add routes in `routes(app)` and record calls with `record`."""

    def __init__(self) -> None:
        self.port = free_port()
        self.calls: List[Call] = []
        self._changed = threading.Condition()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._runner: Optional[web.AppRunner] = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    # -- lifecycle ------------------------------------------------------------
    def start(self) -> "FakeServer":
        started = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            app = web.Application(client_max_size=20 * 1024 * 1024)
            self.routes(app)
            self._runner = web.AppRunner(app, access_log=None)
            self._loop.run_until_complete(self._runner.setup())
            self._loop.run_until_complete(web.TCPSite(self._runner, "127.0.0.1", self.port).start())
            started.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self._runner.cleanup())
            self._loop.close()

        self._thread = threading.Thread(target=run, name=type(self).__name__, daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError(f"{type(self).__name__} did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    # -- recording --------------------------------------------------------------
    def record(self, call: Call) -> None:
        with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    def find(self, predicate: Callable[[Call], bool]) -> List[Call]:
        with self._changed:
            return [call for call in self.calls if predicate(call)]

    def wait_for(self, predicate: Callable[[Call], bool], count: int = 1, timeout: float = 30) -> List[Call]:
        """Wait until `count` calls match; return them (fewer on timeout)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [call for call in self.calls if predicate(call)]
                remaining = deadline - time.monotonic()
                if len(found) >= count or remaining <= 0:
                    return found
                self._changed.wait(remaining)

    def settle(self, predicate: Callable[[Call], bool], quiet: float = 1.5, timeout: float = 30) -> List[Call]:
        """Wait until matching calls stop arriving for `quiet` seconds; return them."""
        deadline = time.monotonic() + timeout
        count, changed_at = -1, time.monotonic()
        with self._changed:
            while True:
                found = [call for call in self.calls if predicate(call)]
                now = time.monotonic()
                if len(found) != count:
                    count, changed_at = len(found), now
                elif now - changed_at >= quiet or now >= deadline:
                    return found
                self._changed.wait(max(0.01, min(quiet - (now - changed_at), deadline - now)))
