"""No credentials for a URL that reaches another host (issue 11 §3), end to end through ``requests``.

The plugin's ``authorize`` export is the one place that decides which URLs
get the token; the SDK asks it about the URL requests will really send. A
real loopback "foreign" server must never receive an ``authorization``
header, whatever form the URL takes: URLs requests sends to another host
for real (another name, address or port for the loopback machine), and the
doubtful forms (no slashes, one, three, backslashes, scheme-relative,
javascript:, file:), which a transport adapter delivers to the foreign
server whenever requests sends them at all.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Tuple
from urllib.parse import urlsplit

import pytest
import requests
from requests.adapters import HTTPAdapter

from deviceflow import DeviceFlow, MemoryStore
from helpers.loopback import Loopback, send

TOKEN = "gho_16C7e42F292c6912E7710c838347Ae178B4a"
CLIENT_ID = "Ov23liForeign"

DOUBTFUL = [
    "https:evil.example/x",
    "https:/evil.example/x",
    "http:evil.example/x",
    "https:\\\\evil.example/x",
    "https:\\evil.example/x",
    "https:///evil.example/x",
    "//evil.example/x",
    " //evil.example/x",
    "\\\\evil.example\\x",
    "/\\evil.example/x",
    "\\/evil.example/x",
    "https:/\\evil.example/x",
    "javascript:fetch('//evil.example')",
    "file:///etc/passwd",
    "HTTPS://EVIL.EXAMPLE/x",
    "https://evil.example/x",
]


class Recorder:
    """A loopback server that records the headers of every request."""

    def __init__(self) -> None:
        self.seen: List[Tuple[str, Dict[str, str]]] = []

        def respond(h: Any, body: bytes) -> None:
            self.seen.append((h.path, {k.lower(): v for k, v in h.headers.items()}))
            send(h, 200, b"{}", [("Content-Type", "application/json")])

        self.server = Loopback(respond)

    def authorized(self) -> List[str]:
        return [path for path, headers in self.seen if "authorization" in headers]


class DeliverTo(HTTPAdapter):
    """Delivers every request requests sends, whatever its URL, to one loopback server.

    Requests to the configured origin go there; every other one goes to the
    foreign server, headers untouched, as if the network had routed it.
    """

    def __init__(self, ours: str, foreign: str) -> None:
        super().__init__()
        self.ours = ours
        self.foreign = foreign

    def send(self, request: requests.PreparedRequest, **kw: Any) -> requests.Response:  # type: ignore[override]
        url = request.url or ""
        parts = urlsplit(url)
        target = self.ours if f"{parts.scheme}://{parts.netloc}" == self.ours else self.foreign
        request.url = target + "/delivered?from=" + requests.utils.quote(url, safe="")
        return super().send(request, **kw)


@pytest.fixture()
def servers() -> Any:
    ours, foreign = Recorder(), Recorder()
    with ours.server, foreign.server:
        yield ours, foreign


def signed_in(origin: str) -> DeviceFlow:
    key = f"deviceflow:v1:{origin}|oauth-app|{CLIENT_ID}|"
    value = json.dumps({"type": "token", "tokenType": "oauth", "clientType": "oauth-app", "clientId": CLIENT_ID,
                        "token": TOKEN, "scopes": []})

    def no_flow(v: Any) -> None:
        raise AssertionError("no device flow may start")

    return DeviceFlow(CLIENT_ID, base_url=origin, store=MemoryStore({key: value}), on_verification=no_flow)


def test_the_configured_origin_gets_the_token(servers: Any) -> None:
    ours, foreign = servers
    flow = signed_in(ours.server.origin)
    r = requests.get(ours.server.origin + "/api/v3/user", auth=flow.requests_auth())
    assert r.status_code == 200
    assert ours.seen[0][1]["authorization"] == "token " + TOKEN


def test_other_hosts_of_the_loopback_machine_get_nothing(servers: Any) -> None:
    ours, foreign = servers
    flow = signed_in(ours.server.origin)
    host, port = ours.server.origin.rsplit(":", 1)
    fport = foreign.server.origin.rsplit(":", 1)[1]
    urls = [
        f"http://localhost:{fport}/x",  # another name, another port: reaches the foreign server for real
        f"http://127.0.0.1:{fport}/x",  # the same address, another port
        f"{ours.server.origin}@localhost:{fport}/x",  # our origin as userinfo
        f"http://localhost:{fport}/{ours.server.origin}/x",
    ]
    for url in urls:
        requests.get(url, auth=flow.requests_auth())
    assert len(foreign.seen) == len(urls)
    assert foreign.authorized() == []
    assert ours.seen == []


@pytest.mark.parametrize("url", DOUBTFUL)
def test_a_doubtful_url_never_carries_the_token_to_a_foreign_server(servers: Any, url: str) -> None:
    ours, foreign = servers
    flow = signed_in(ours.server.origin)
    session = requests.Session()
    session.auth = flow.requests_auth()
    adapter = DeliverTo(ours.server.origin, foreign.server.origin)
    for prefix in ("http://", "https://", "javascript:", "file:", ""):
        session.mount(prefix, adapter)
    try:
        session.get(url)
    except requests.exceptions.RequestException:
        pass  # requests refused to send it at all: nothing reached anyone
    assert foreign.authorized() == []
    assert ours.seen == []
    # The plugin, asked directly about the raw form, gives no credentials either.
    assert "authorization" not in flow.authorization_headers("GET", url)


def test_the_hostname_lookalike_of_the_origin_gets_nothing(servers: Any) -> None:
    ours, foreign = servers
    flow = signed_in(ours.server.origin)
    port = ours.server.origin.rsplit(":", 1)[1]
    session = requests.Session()
    session.auth = flow.requests_auth()
    session.mount("http://", DeliverTo(ours.server.origin, foreign.server.origin))
    for url in (f"http://localhost:{port}/x", f"http://127.0.0.2:{port}/x", f"http://127.0.0.1.evil.example:{port}/x"):
        session.get(url)
    assert len(foreign.seen) == 3
    assert foreign.authorized() == []
