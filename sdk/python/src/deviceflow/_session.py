"""The plugin's requests through a user's ``requests.Session``.

When an application hands the SDK its own session, the session governs the
wire as octokit's ``request`` instance does in Node: its adapters (and so the
mocks of ``responses`` or ``requests-mock`` in an application's test suite),
its hooks, its proxies and its headers apply. The plugin's headers go with
each request, except its ``User-Agent`` when the session names the
application (anything other than requests' default): then the session's
wins. The sandbox still refuses hosts outside the allow-list before the
session sees a URL, redirects are never followed, the answer's size is
capped, and the plugin's ``timeoutMs`` bounds the exchange: the connect and
read timeouts are the time left, and the body is read in chunks until the
deadline.
"""

from __future__ import annotations

import time
from typing import Any, Dict

from ._http import Limits, _failure, admit


def perform(session: Any, req: Any, limits: Limits) -> Dict[str, Any]:
    """Performs one of the plugin's requests through ``session``."""
    import requests

    timeout = admit(req, limits)
    if isinstance(timeout, dict):
        return timeout
    url: str = req["url"]
    deadline = time.monotonic() + timeout
    headers = dict(req.get("headers") or {})
    session_ua = session.headers.get("User-Agent")
    if limits.user_agent:
        headers = {k: v for k, v in headers.items() if k.lower() != "user-agent"}
        headers["user-agent"] = limits.user_agent
    elif session_ua and session_ua != requests.utils.default_user_agent():
        headers = {k: v for k, v in headers.items() if k.lower() != "user-agent"}
    body = req.get("body") or None
    try:
        resp = session.request(
            req["method"].upper(),
            url,
            headers=headers,
            data=body.encode("utf-8") if body else None,
            timeout=(max(timeout, 0.001), max(timeout, 0.001)),
            allow_redirects=False,
            stream=True,
        )
        try:
            chunks = []
            size = 0
            for chunk in resp.iter_content(chunk_size=16384):
                if time.monotonic() > deadline:
                    return _failure("timeout", "the request timed out")
                size += len(chunk)
                if size > limits.max_response_bytes:
                    return _failure("network", "the response is larger than the host's limit")
                chunks.append(chunk)
        finally:
            resp.close()
    except requests.exceptions.Timeout:
        return _failure("timeout", "the request timed out")
    except requests.exceptions.ConnectionError:
        return _failure("network", "the connection failed")
    except requests.exceptions.RequestException as e:
        return _failure("network", f"the request failed ({type(e).__name__})")
    if time.monotonic() > deadline:
        return _failure("timeout", "the request timed out")
    return {
        "status": resp.status_code,
        "headers": {k.lower(): v for k, v in resp.headers.items()},
        "body": b"".join(chunks).decode("utf-8", errors="replace"),
    }
