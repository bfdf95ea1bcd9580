"""The http_request capability and the sandbox, on real loopback sockets."""

from __future__ import annotations

import socket
import time
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from deviceflow import InvalidInput, _http, _sandbox
from helpers.loopback import Loopback, send


def limits(origin: str, **kw: float) -> _http.Limits:
    return _http.Limits(allowed=_sandbox.allowed_hosts(origin), **kw)  # type: ignore[arg-type]


def request(url: str, **kw: object) -> dict:
    req = {"method": "POST", "url": url, "headers": {"accept": "application/json"}, "body": "{}", "timeoutMs": 30000}
    req.update(kw)
    return req


def test_allow_list_from_the_base_url() -> None:
    assert _sandbox.allowed_hosts(None) == {"github.com", "api.github.com"}
    assert _sandbox.allowed_hosts("https://github.com/") == {"github.com", "api.github.com"}
    assert _sandbox.allowed_hosts("https://GHE.example.com/api/v3") == {"ghe.example.com"}
    # GitHub Enterprise Cloud with data residency: the web host and its API host.
    assert _sandbox.allowed_hosts("https://acme.ghe.com") == {"acme.ghe.com", "api.acme.ghe.com"}
    assert _sandbox.allowed_hosts("https://api.acme.ghe.com") == {"acme.ghe.com", "api.acme.ghe.com"}
    assert _sandbox.allowed_hosts("http://127.0.0.1:8080") == {"127.0.0.1:8080"}
    assert _sandbox.allowed_hosts("http://[::1]:8080") == {"[::1]:8080"}
    assert _sandbox.allowed_hosts("x", ["A.example:1"]) == {"a.example:1"}
    with pytest.raises(InvalidInput, match="baseUrl"):
        _sandbox.allowed_hosts("github.com")


@pytest.mark.parametrize(
    "url, allowed, refusal",
    [
        ("https://github.com/login/device/code", {"github.com"}, None),
        ("https://api.github.com/user", {"github.com", "api.github.com"}, None),
        ("https://evil.example/steal", {"github.com"}, "host evil.example is not in the allow-list"),
        ("https://github.com.evil.example/", {"github.com"}, "not in the allow-list"),
        ("https://github.com:444/", {"github.com"}, "not in the allow-list"),
        ("http://ghe.example.com/", {"ghe.example.com"}, "plain http is allowed only for loopback hosts"),
        ("http://127.0.0.1:9/", {"127.0.0.1:9"}, None),
        ("http://localhost:9/", {"localhost:9"}, None),
        ("http://[::1]:9/", {"[::1]:9"}, None),
        ("ftp://github.com/", {"github.com"}, "scheme ftp is not allowed"),
        ("/relative", {"github.com"}, "not an absolute URL"),
    ],
)
def test_sandbox_check(url: str, allowed: set, refusal: str) -> None:
    if refusal is None:
        _sandbox.check(url, frozenset(allowed))
    else:
        with pytest.raises(_sandbox.SandboxRefusal, match=refusal):
            _sandbox.check(url, frozenset(allowed))


def test_a_refused_url_never_reaches_the_network() -> None:
    ans = _http.perform(request("https://evil.example/x"), limits("https://github.com"))
    assert ans == {"error": {"kind": "denied", "message": "host evil.example is not in the allow-list"}}


def test_sends_exactly_the_plugins_request_and_reads_the_answer() -> None:
    def respond(h: BaseHTTPRequestHandler, body: bytes) -> None:
        send(h, 200, b'{"ok":true}', [("Content-Type", "application/json"), ("X-Multi", "a"), ("X-Multi", "b")])

    with Loopback(respond) as srv:
        ans = _http.perform(
            request(srv.origin + "/login/oauth/access_token?x=1", headers={"accept": "application/json", "user-agent": "deviceflow/test"}, body='{"a":1}'),
            limits(srv.origin),
        )
        method, path, headers, body = srv.requests[0]
    assert ans["status"] == 200
    assert ans["body"] == '{"ok":true}'
    assert ans["headers"]["content-type"] == "application/json"
    assert ans["headers"]["x-multi"] == "a, b"
    assert all(k == k.lower() for k in ans["headers"])
    assert (method, path, body) == ("POST", "/login/oauth/access_token?x=1", b'{"a":1}')
    sent = {k.lower(): v for k, v in headers.items()}
    assert sent == {
        "host": srv.origin.split("//")[1],
        "accept": "application/json",
        "user-agent": "deviceflow/test",
        "content-length": "7",
    }


def test_the_applications_user_agent_replaces_the_plugins() -> None:
    def respond(h: BaseHTTPRequestHandler, body: bytes) -> None:
        send(h, 200, b"{}", [("Content-Type", "application/json")])

    with Loopback(respond) as srv:
        lim = _http.Limits(allowed=limits(srv.origin).allowed, user_agent="my-cli/1.2")
        _http.perform(request(srv.origin + "/login/device/code", headers={"user-agent": "deviceflow/test", "accept": "application/json"}), lim)
        _, _, headers, _ = srv.requests[0]
    sent = {k.lower(): v for k, v in headers.items()}
    assert sent["user-agent"] == "my-cli/1.2" and sent["accept"] == "application/json"


def test_redirects_are_not_followed() -> None:
    def respond(h: BaseHTTPRequestHandler, body: bytes) -> None:
        send(h, 302, b"", [("Location", "https://evil.example/")])

    with Loopback(respond) as srv:
        ans = _http.perform(request(srv.origin + "/login/device/code"), limits(srv.origin))
        assert len(srv.requests) == 1
    assert ans["status"] == 302
    assert ans["headers"]["location"] == "https://evil.example/"


def test_responses_larger_than_the_cap_are_refused() -> None:
    def respond(h: BaseHTTPRequestHandler, body: bytes) -> None:
        send(h, 200, b"x" * 5000)

    with Loopback(respond) as srv:
        ok = _http.perform(request(srv.origin + "/"), limits(srv.origin, max_response_bytes=5000))
        big = _http.perform(request(srv.origin + "/"), limits(srv.origin, max_response_bytes=4999))
    assert ok["status"] == 200 and len(ok["body"]) == 5000
    assert big == {"error": {"kind": "network", "message": "the response is larger than the host's limit"}}


@pytest.mark.parametrize("cap, asked", [(0.2, 30000), (30.0, 200)])
def test_slow_servers_time_out_at_the_lower_of_the_cap_and_the_plugins_deadline(cap: float, asked: int) -> None:
    def respond(h: BaseHTTPRequestHandler, body: bytes) -> None:
        time.sleep(1.5)

    with Loopback(respond) as srv:
        t0 = time.monotonic()
        ans = _http.perform(request(srv.origin + "/", timeoutMs=asked), limits(srv.origin, timeout=cap))
        elapsed = time.monotonic() - t0
    assert ans == {"error": {"kind": "timeout", "message": "the request timed out"}}
    assert elapsed < 1.0


def test_a_dripping_body_cannot_outlast_the_deadline() -> None:
    def respond(h: BaseHTTPRequestHandler, body: bytes) -> None:
        h.send_response(200)
        h.send_header("content-length", "100")
        h.end_headers()
        for _ in range(100):
            h.wfile.write(b"x")
            h.wfile.flush()
            time.sleep(0.05)

    with Loopback(respond) as srv:
        t0 = time.monotonic()
        ans = _http.perform(request(srv.origin + "/"), limits(srv.origin, timeout=0.5))
        elapsed = time.monotonic() - t0
    assert ans["error"]["kind"] == "timeout"
    assert elapsed < 1.5


def test_a_closed_connection_is_a_network_error() -> None:
    def respond(h: BaseHTTPRequestHandler, body: bytes) -> None:
        h.close_connection = True

    with Loopback(respond) as srv:
        ans = _http.perform(request(srv.origin + "/"), limits(srv.origin))
    assert ans == {"error": {"kind": "network", "message": "the connection was closed before a response arrived"}}


def test_a_refused_connection_names_no_query() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    origin = f"http://127.0.0.1:{port}"
    ans = _http.perform(request(origin + "/x?device_code=SECRET"), limits(origin))
    assert ans == {"error": {"kind": "network", "message": "the connection was refused"}}


@pytest.mark.parametrize(
    "req",
    [
        None,
        [],
        {"url": "http://127.0.0.1:1/"},
        {"method": "GET", "url": "http://127.0.0.1:1/", "headers": {"a": 1}},
        {"method": "GET", "url": "http://127.0.0.1:1/", "body": 3},
        {"method": "GET", "url": "http://127.0.0.1:1/", "timeoutMs": "soon"},
    ],
)
def test_malformed_requests_are_denied(req: object) -> None:
    ans = _http.perform(req, limits("http://127.0.0.1:1"))
    assert ans == {"error": {"kind": "denied", "message": "malformed request from the plugin"}}


def test_header_injection_is_refused() -> None:
    ans = _http.perform(
        request("http://127.0.0.1:1/", headers={"accept": "a\r\nx-injected: 1"}),
        limits("http://127.0.0.1:1"),
    )
    assert ans["error"]["kind"] == "denied"


def trickle(status_line_first: bool, count: int, pause: float) -> Any:
    """A server that trickles its headers (or, once they are sent, its body) one byte at a time."""

    def respond(h: BaseHTTPRequestHandler, body: bytes) -> None:
        try:
            if status_line_first:
                h.wfile.write(b"HTTP/1.0 200 OK\r\n")
                for _ in range(count):
                    h.wfile.write(b"X-Slow: 1\r\n")
                    h.wfile.flush()
                    time.sleep(pause)
                h.wfile.write(b"\r\n")
            else:
                h.send_response(200)
                h.send_header("content-length", str(count))
                h.end_headers()
                h.wfile.flush()
                for _ in range(count):
                    h.wfile.write(b"x")
                    h.wfile.flush()
                    time.sleep(pause)
        except OSError:
            pass  # the client gave up, as it should

    return respond


@pytest.mark.parametrize("headers", [True, False], ids=["trickled-headers", "trickled-body"])
def test_the_plugins_timeout_bounds_the_whole_exchange(headers: bool) -> None:
    # Each byte arrives well within any per-read timeout; only a total deadline stops it.
    with Loopback(trickle(headers, 200, 0.02)) as srv:
        t0 = time.monotonic()
        ans = _http.perform(request(srv.origin + "/", timeoutMs=400), limits(srv.origin, timeout=30.0))
        elapsed = time.monotonic() - t0
    assert ans == {"error": {"kind": "timeout", "message": "the request timed out"}}
    assert 0.35 < elapsed < 2.0  # without a total deadline: 4 s


def test_a_trickle_that_ends_in_time_is_read_whole() -> None:
    with Loopback(trickle(False, 10, 0.01)) as srv:
        ans = _http.perform(request(srv.origin + "/", timeoutMs=3000), limits(srv.origin))
    assert ans["status"] == 200 and ans["body"] == "x" * 10


def test_resolving_the_name_counts_against_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def slow(host: str, *args: Any, **kw: Any) -> Any:
        if host == "localhost":
            time.sleep(5.0)
        return real(host, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", slow)
    t0 = time.monotonic()
    ans = _http.perform(request("http://localhost:9/", timeoutMs=300), limits("http://localhost:9"))
    elapsed = time.monotonic() - t0
    assert ans == {"error": {"kind": "timeout", "message": "the request timed out"}}
    assert elapsed < 2.0  # the resolver alone takes 5 s


def test_connecting_counts_against_the_deadline() -> None:
    # A listening socket whose backlog is full never completes a handshake.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = []
        try:
            for _ in range(8):
                s = socket.socket()
                s.setblocking(False)
                try:
                    s.connect(("127.0.0.1", port))
                except BlockingIOError:
                    pass
                fillers.append(s)
            origin = f"http://127.0.0.1:{port}"
            t0 = time.monotonic()
            ans = _http.perform(request(origin + "/", timeoutMs=300), limits(origin))
            elapsed = time.monotonic() - t0
        finally:
            for s in fillers:
                s.close()
    assert ans["error"]["kind"] == "timeout"
    assert elapsed < 2.0


def test_only_the_response_headers_the_plugin_reads_reach_it() -> None:
    """GitHub's cookies and its other headers stay in the host: the plugin
    gets the ones info names in responseHeaders, and still honours them (a
    429's Retry-After paces the next poll)."""
    import json

    from deviceflow import Host

    polls = []

    def respond(h: BaseHTTPRequestHandler, body: bytes) -> None:
        cookies = [("Set-Cookie", "_gh_sess=secret; HttpOnly"), ("Content-Security-Policy", "default-src 'none'"), ("X-GitHub-Request-Id", "C0DE:1")]
        if h.path == "/login/device/code":
            doc = {"device_code": "DC", "user_code": "WDJB-MJHT", "verification_uri": "https://github.com/login/device", "expires_in": 900, "interval": 1}
            send(h, 200, json.dumps(doc).encode(), [("Content-Type", "application/json")] + cookies)
        elif not polls:
            polls.append(1)
            send(h, 429, b"{}", [("Content-Type", "application/json"), ("Retry-After", "7")] + cookies)
        else:
            send(h, 200, b'{"access_token":"gho_headers","token_type":"bearer","scope":""}', [("Content-Type", "application/json")] + cookies)

    events: list = []
    slept: list = []
    with Loopback(respond) as srv:
        clock = [1_764_759_948_000]

        def sleep(ms: int, cancel: object) -> bool:
            slept.append(ms)
            clock[0] += ms
            return False

        host = Host(base_url=srv.origin, on_event=events.append, sleep_ms=sleep, now_ms=lambda: clock[0], monotonic_ms=lambda: clock[0])
        out = host.call_json("authenticate", {"clientId": "Iv1.headers", "baseUrl": srv.origin})
        assert out["token"] == "gho_headers"
        ans = host.perform_http(request(srv.origin + "/login/oauth/access_token"))
    assert sorted(ans["headers"]) == ["content-type", "date"], ans["headers"]
    backoff = [e for e in events if e.get("type") == "backoff"]
    assert backoff and backoff[0]["waitMs"] >= 7000, backoff
    assert any(ms >= 7000 for ms in slept), slept
