"""A user's requests.Session performs the plugin's requests: its adapters
(the way responses or requests-mock mock them in an application's tests),
hooks and headers apply, as an octokit request instance's do in Node."""

from __future__ import annotations

import io
import json
from typing import Any, Dict, List, Optional

import pytest
import requests
from requests.adapters import BaseAdapter

from deviceflow import DeviceFlow, MemoryStore, Verification

BASE = "https://github.com"


class Scripted(BaseAdapter):  # type: ignore[misc]
    """A transport adapter that answers scripted JSON bodies and records requests."""

    def __init__(self, answers: List[Dict[str, Any]]) -> None:
        super().__init__()
        self.answers = answers
        self.seen: List[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.seen.append(request)
        r = requests.Response()
        r.status_code = 200
        r.headers["content-type"] = "application/json"
        r.raw = io.BytesIO(json.dumps(self.answers.pop(0)).encode())
        r.request = request
        r.url = request.url or ""
        return r

    def close(self) -> None:
        pass


def flow_with(session: requests.Session, **kw: Any) -> DeviceFlow:
    shown: List[Verification] = []
    clock = [1767225600000]

    def sleep(ms: int, *_: Any) -> bool:  # a fake clock: no real waiting
        clock[0] += ms
        return False

    return DeviceFlow(
        "Ov23liSession",
        scopes=["repo"],
        store=MemoryStore(),
        on_verification=shown.append,
        session=session,
        now_ms=lambda: clock[0],
        sleep_ms=sleep,
        **kw,
    )


def answers() -> List[Dict[str, Any]]:
    return [
        {"device_code": "DC", "user_code": "ABCD-1234", "verification_uri": "https://github.com/login/device", "interval": 5, "expires_in": 900},
        {"error": "authorization_pending"},
        {"access_token": "gho_SessionToken000000000000000000000", "token_type": "bearer", "scope": "repo"},
    ]


def test_a_whole_flow_through_the_sessions_adapter_and_hooks() -> None:
    s = requests.Session()
    adapter = Scripted(answers())
    s.mount("https://", adapter)
    hooked: List[str] = []
    s.hooks["response"].append(lambda r, *a, **k: hooked.append(r.request.url))
    a = flow_with(s).token()
    assert a.token == "gho_SessionToken000000000000000000000"
    assert [r.url for r in adapter.seen] == [BASE + "/login/device/code"] + [BASE + "/login/oauth/access_token"] * 2
    assert hooked == [r.url for r in adapter.seen]
    first = adapter.seen[0]
    assert json.loads(first.body or b"{}") == {"client_id": "Ov23liSession", "scope": "repo"}
    assert first.headers["content-type"] == "application/json; charset=utf-8"
    assert first.headers["accept"] == "application/json"
    # No application User-Agent: the plugin's own.
    assert first.headers["user-agent"].startswith("deviceflow/")


@pytest.mark.parametrize("ua, user_agent, want", [
    ("my-app/2.0", None, "my-app/2.0"),  # the session's own name governs
    ("my-app/2.0", "override/1", "override/1"),  # user_agent= is explicit
])
def test_the_sessions_user_agent_governs(ua: str, user_agent: Optional[str], want: str) -> None:
    s = requests.Session()
    s.headers["User-Agent"] = ua
    adapter = Scripted(answers())
    s.mount("https://", adapter)
    flow_with(s, user_agent=user_agent).token()
    assert {r.headers["user-agent"] for r in adapter.seen} == {want}


def test_the_sandbox_refuses_before_the_session_sees_a_url() -> None:
    s = requests.Session()
    adapter = Scripted([])
    s.mount("https://", adapter)
    s.mount("http://", adapter)
    flow = flow_with(s)
    assert flow.authorization_headers("GET", "https://evil.example/x") == {}
    from deviceflow import _http, _session

    ans = _session.perform(s, {"method": "GET", "url": "https://evil.example/x", "headers": {}, "body": "", "timeoutMs": 1000}, flow.host.limits)
    assert ans["error"]["kind"] == "denied" and adapter.seen == []
    assert isinstance(flow.host.limits, _http.Limits)
