"""The conformance vectors' scripted HTTP server (wit/conformance/README.md).

It answers the vector's exchanges in order on 127.0.0.1, checks each
request against the exchange's ``request``, and sends exactly the scripted
headers: the standard library's automatic Server and Date headers are
switched off.
"""

from __future__ import annotations

import json
import select
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional
from urllib.parse import parse_qsl

from .jsoncmp import compact, strict_equal


class Script:
    """The exchanges still to answer and what went wrong so far."""

    def __init__(self, exchanges: List[Dict[str, Any]], raw_exchanges: List[Dict[str, Any]], advance: Callable[[int], None]) -> None:
        self.exchanges = exchanges
        self.raw_exchanges = raw_exchanges
        self.advance = advance
        self.next = 0
        self.failures: List[str] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.origin = ""
        #: The timeoutMs of every request the plugin asked the host for, in order.
        self.timeouts: List[Any] = []
        #: The store another process writes to (exchange storeWrites).
        self.store: Any = None


def apply_writes(store: Any, writes: Dict[str, Optional[str]]) -> None:
    """Writes values (None removes the key) as another process would."""
    for key, value in writes.items():
        if value is None:
            store.delete(key)
        else:
            store.set(key, value)


def _match(want: Dict[str, Any], handler: "Handler", origin: str, body: bytes) -> Optional[str]:
    if handler.command != want.get("method"):
        return f"method {handler.command}, want {want.get('method')}"
    url = origin + handler.path
    if url != want.get("url"):
        return f"url {url}, want {want.get('url')}"
    for name, value in (want.get("headers") or {}).items():
        got = handler.headers.get(name)
        if got != value:
            return f"header {name} = {got!r}, want {value!r}"
    for name in want.get("absentHeaders") or []:
        if handler.headers.get(name) is not None:
            return f"header {name} present, want absent"
    if "json" in want:
        try:
            got_json = json.loads(body)
        except ValueError:
            return "body is not JSON"
        if not strict_equal(got_json, want["json"]):
            return f"json body {body.decode(errors='replace')}, want {json.dumps(want['json'])}"
    elif "form" in want:
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
        except (ValueError, UnicodeDecodeError):
            return "body is not form data"
        got_form: Dict[str, str] = {}
        for k, v in pairs:
            got_form.setdefault(k, v)
        if got_form != want["form"]:
            return f"form body {got_form}, want {want['form']}"
    elif "body" in want:
        if body.decode("utf-8", errors="replace") != want["body"]:
            return f"body {body!r}, want {want['body']!r}"
    return None


class Handler(BaseHTTPRequestHandler):
    """Answers one request from the script."""

    protocol_version = "HTTP/1.0"
    script: Script

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def send_response(self, code: int, message: Optional[str] = None) -> None:
        # No automatic Server or Date header: the vector's headers only.
        self.send_response_only(code, message)

    def _fail(self, note: str) -> None:
        data = ("conformance: " + note).encode()
        self.send_response(500)
        self.end_headers()
        self.wfile.write(data)

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        s = self.script
        with s.lock:
            if s.next >= len(s.exchanges):
                s.failures.append(f"unexpected request {s.next + 1}: {self.command} {self.path}")
                self._fail("unexpected request")
                return
            ex, raw = s.exchanges[s.next], s.raw_exchanges[s.next]
            s.next += 1
            n = s.next
            want = ex.get("request") or {}
            problem = _match(want, self, s.origin, body)
            if problem is None and "timeoutMs" in want:
                got = s.timeouts[n - 1] if len(s.timeouts) >= n else None
                if got is None or not strict_equal(got, want["timeoutMs"]):
                    problem = f"timeoutMs {s.timeouts}, want {want['timeoutMs']} for request {n}"
            if problem:
                s.failures.append(f"request {n}: {problem}")
        if problem:
            self._fail(problem)
            return
        if ex.get("advanceMs"):
            s.advance(int(ex["advanceMs"]))
        if ex.get("storeWrites"):
            # Another process writes while the request is in flight.
            apply_writes(s.store, ex["storeWrites"])
        fault = ex.get("fault")
        if fault == "reset":
            self.close_connection = True
            return
        if fault == "timeout":
            self._hold(3.0)
            return
        resp = ex.get("response") or {}
        raw_resp = raw.get("response") or {}
        self.send_response(int(resp.get("status") or 200))
        for name, value in (resp.get("headers") or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if "body" in resp:
            self.wfile.write(str(resp["body"]).encode("utf-8"))
        elif "json" in resp:
            self.wfile.write(compact(raw_resp["json"]).encode("utf-8"))

    def _hold(self, seconds: float) -> None:
        """Holds the request without answering until the client gives up."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self.script.stop.is_set():
            readable, _, _ = select.select([self.connection], [], [], 0.05)
            if readable:
                try:
                    if not self.connection.recv(1, 0):
                        return  # the client closed the connection
                except OSError:
                    return
        self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


class ScriptedServer:
    """A running scripted server; use as a context manager."""

    def __init__(self, script: Script) -> None:
        handler = type("BoundHandler", (Handler,), {"script": script})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.script = script
        host, port = self.server.server_address[:2]
        self.origin = f"http://{host}:{port}"
        script.origin = self.origin
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> "ScriptedServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.script.stop.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)
