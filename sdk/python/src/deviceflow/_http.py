"""The http_request capability: one request for the plugin, inside the sandbox.

The plugin hands over ``{method, url, headers, body, timeoutMs}``; the host
answers ``{status, headers, body}`` or ``{error: {kind, message}}`` with kind
``network``, ``timeout`` or ``denied``. The host sends exactly the plugin's
headers (plus Host and Content-Length), follows no redirect, caps the size
of the answer, and bounds the WHOLE exchange by one deadline (the lower of
the plugin's ``timeoutMs`` and the host's cap): resolving the name,
connecting, the TLS handshake, the headers and every byte of the body. A
server that trickles its answer is cut off at the deadline: each socket
operation gets only the time left, and a watchdog shuts the socket down when
the deadline passes whatever is going on. Messages never contain the URL's
query or a header value.
"""

from __future__ import annotations

import heapq
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, FrozenSet, List, Optional, Tuple, Union
from urllib.parse import urlsplit

from . import _sandbox

_BODY_METHODS = frozenset(("POST", "PUT", "PATCH"))


@dataclass(frozen=True)
class Limits:
    """What the host allows a single request."""

    allowed: FrozenSet[str]
    timeout: float = 30.0
    max_response_bytes: int = 1 << 20
    ssl_context: Optional[ssl.SSLContext] = None
    #: The application's User-Agent, sent in place of the plugin's own.
    user_agent: Optional[str] = None


class _Timeout(Exception):
    pass


def _failure(kind: str, message: str) -> Dict[str, Any]:
    return {"error": {"kind": kind, "message": message}}


def _valid_request(req: Any) -> bool:
    if not isinstance(req, dict):
        return False
    if not isinstance(req.get("method"), str) or not isinstance(req.get("url"), str):
        return False
    headers = req.get("headers") or {}
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        return False
    if not isinstance(req.get("body", ""), str):
        return False
    t = req.get("timeoutMs", 0)
    return isinstance(t, (int, float)) and not isinstance(t, bool)


def admit(req: Any, limits: Limits) -> Union[float, Dict[str, Any]]:
    """The sandbox's gate, before any transport sees a request: the time the
    whole exchange may take (the lower of the plugin's ``timeoutMs`` and the
    host's cap), or the refusal to answer the plugin."""
    if not _valid_request(req):
        return _failure("denied", "malformed request from the plugin")
    try:
        _sandbox.check(req["url"], limits.allowed)
    except _sandbox.SandboxRefusal as refusal:
        return _failure("denied", str(refusal))
    timeout = limits.timeout
    asked = req.get("timeoutMs") or 0
    if asked > 0:
        timeout = min(timeout, asked / 1000.0)
    return timeout


def perform(req: Any, limits: Limits) -> Dict[str, Any]:
    """Performs one request and answers the contract's http-response record."""
    timeout = admit(req, limits)
    if isinstance(timeout, dict):
        return timeout
    url: str = req["url"]
    try:
        return _exchange(req, url, timeout, limits)
    except (_Timeout, socket.timeout, TimeoutError):
        return _failure("timeout", "the request timed out")
    except ssl.SSLError as e:
        return _failure("network", f"TLS failure: {e.reason or type(e).__name__}")
    except ConnectionRefusedError:
        return _failure("network", "the connection was refused")
    except (
        ConnectionResetError,
        ConnectionAbortedError,
        BrokenPipeError,
        http.client.RemoteDisconnected,
        http.client.IncompleteRead,
    ):
        return _failure("network", "the connection was closed before a response arrived")
    except socket.gaierror:
        return _failure("network", "the host name could not be resolved")
    except http.client.HTTPException as e:
        return _failure("network", f"the answer is not valid HTTP ({type(e).__name__})")
    except ValueError as e:
        return _failure("denied", f"bad request: {type(e).__name__}")
    except OSError as e:
        return _failure("network", f"the connection failed: {e.strerror or type(e).__name__}")


class _Reaper:
    """One daemon thread that runs callbacks at their deadlines (monotonic).

    Shared by every exchange, so that watching a deadline costs a heap push
    rather than a new thread.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: List[Tuple[float, int, "_Watchdog"]] = []
        self._seq = 0
        self._thread: Optional[threading.Thread] = None

    def watch(self, deadline: float, dog: "_Watchdog") -> None:
        with self._cond:
            self._seq += 1
            heapq.heappush(self._heap, (deadline, self._seq, dog))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="deviceflow-deadlines", daemon=True)
                self._thread.start()
            elif self._heap[0][2] is dog:
                self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._heap and self._heap[0][2].stopped:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait(30.0)
                    if not self._heap:
                        self._thread = None
                        return
                    continue
                deadline, _, dog = self._heap[0]
                left = deadline - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                heapq.heappop(self._heap)
            dog.fire()


_reaper = _Reaper()


class _Watchdog:
    """Shuts an exchange's socket down when its deadline passes."""

    def __init__(self, conn: http.client.HTTPConnection, deadline: float) -> None:
        self.conn = conn
        self.expired = False
        self.stopped = False
        self.raw: Optional[socket.socket] = None
        self._lock = threading.Lock()
        _reaper.watch(deadline, self)

    def fire(self) -> None:
        with self._lock:
            if self.stopped:
                return
            self.expired = True
            for sock in (self.conn.sock, self.raw):
                if sock is None:
                    continue
                try:
                    # The plain socket's shutdown, also for an SSLSocket:
                    # it wakes a blocked read at once.
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self) -> None:
        with self._lock:
            self.stopped = True


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise _Timeout()
    return left


def _resolve(host: str, port: int, deadline: float) -> List[Any]:
    """getaddrinfo within the time left (it has no timeout of its own)."""
    try:
        ipaddress.ip_address(host)
        return socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    except ValueError:
        pass
    box: Dict[str, Any] = {}

    def run() -> None:
        try:
            box["addrs"] = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
        except BaseException as e:  # handed to the caller's thread
            box["error"] = e

    worker = threading.Thread(target=run, name="deviceflow-resolve", daemon=True)
    worker.start()
    worker.join(_left(deadline))
    if worker.is_alive():
        raise _Timeout()
    if "error" in box:
        raise box["error"]
    addrs: List[Any] = box["addrs"]
    return addrs


def _connector(deadline: float, watchdog: Callable[[], Optional[_Watchdog]]) -> Callable[..., socket.socket]:
    """Replaces socket.create_connection: every step gets only the time left."""

    def connect(address: Tuple[str, int], timeout: Any = None, source_address: Any = None) -> socket.socket:
        host, port = address
        last: Optional[BaseException] = None
        for family, kind, proto, _, sockaddr in _resolve(host, port, deadline):
            sock = socket.socket(family, kind, proto)
            dog = watchdog()
            if dog is not None:
                dog.raw = sock
            try:
                sock.settimeout(_left(deadline))
                sock.connect(sockaddr)
                sock.settimeout(_left(deadline))
                return sock
            except _Timeout:
                sock.close()
                raise
            except OSError as e:
                sock.close()
                last = e
        raise last if last is not None else OSError("no address to connect to")

    return connect


def _exchange(req: Dict[str, Any], url: str, timeout: float, limits: Limits) -> Dict[str, Any]:
    deadline = time.monotonic() + timeout
    parts = urlsplit(url)
    if parts.scheme.lower() == "https":
        ctx = limits.ssl_context or ssl.create_default_context()
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.hostname or "", parts.port, timeout=timeout, context=ctx
        )
    else:
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    holder: List[_Watchdog] = []
    conn._create_connection = _connector(deadline, lambda: holder[0] if holder else None)  # type: ignore[attr-defined]
    dog = _Watchdog(conn, deadline)
    holder.append(dog)
    try:
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        method = req["method"].upper()
        body = req.get("body", "").encode("utf-8")
        conn.putrequest(method, target, skip_accept_encoding=True)
        for name, value in (req.get("headers") or {}).items():
            if limits.user_agent and name.lower() == "user-agent":
                value = limits.user_agent
            conn.putheader(name, value)
        if body or method in _BODY_METHODS:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        sock = conn.sock
        if sock is not None:
            sock.settimeout(_left(deadline))
        resp = conn.getresponse()
        data = _read_capped(sock, resp, deadline, limits.max_response_bytes)
        if dog.expired:
            raise _Timeout()
        if data is None:
            return _failure("network", "the response is larger than the host's limit")
        return {
            "status": resp.status,
            "headers": _headers(resp.getheaders()),
            "body": data.decode("utf-8", errors="replace"),
        }
    except _Timeout:
        raise
    except Exception:
        if dog.expired:
            raise _Timeout() from None
        raise
    finally:
        dog.stop()
        conn.close()


def _read_capped(
    sock: Optional[socket.socket], resp: http.client.HTTPResponse, deadline: float, cap: int
) -> Optional[bytes]:
    chunks: List[bytes] = []
    total = 0
    while True:
        remaining = _left(deadline)
        if sock is not None:
            try:
                sock.settimeout(remaining)
            except OSError:
                pass
        chunk = resp.read1(64 * 1024)
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > cap:
            return None
        chunks.append(chunk)


def _headers(pairs: List[Any]) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out
