"""A loopback GitHub that refreshes GitHub App tokens, and counts how often.

Refresh tokens are single use, as on GitHub: the first refresh with a token
answers a new pair; any later one with the same token answers
``bad_refresh_token``. Tests check that a shared store with an expiring
token is refreshed exactly once however many threads or processes ask.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta, timezone
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler
from typing import Any, Dict, List, Tuple

from .loopback import Loopback, send

CLIENT_ID = "Iv23liRefresh"
OLD_TOKEN = "ghu_oldOldOldOldOldOldOldOldOldOldOld0"
OLD_REFRESH = "ghr_oldRefreshOldRefreshOldRefreshOldRefresh00"


def iso(dt: datetime) -> str:
    """ISO 8601 with milliseconds and Z, as the plugin writes it."""
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def cache_key(origin: str) -> str:
    """The plugin's cache key for CLIENT_ID as a GitHub App on origin."""
    return f"deviceflow:v1:{origin}|github-app|{CLIENT_ID}|"


def expiring_entry(expires_in: float = 60.0) -> str:
    """A cached GitHub App authentication whose token expires soon (inside the refresh window)."""
    now = datetime.now(timezone.utc)
    return json.dumps({
        "type": "token", "tokenType": "oauth", "clientType": "github-app", "clientId": CLIENT_ID,
        "token": OLD_TOKEN, "refreshToken": OLD_REFRESH,
        "expiresAt": iso(now + timedelta(seconds=expires_in)),
        "refreshTokenExpiresAt": iso(now + timedelta(days=30)),
    })


class Refresher:
    """The server: ``refreshes`` counts refresh requests, ``issued`` the new tokens."""

    def __init__(self, delay: float = 0.2) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.refreshes = 0
        self.spent: set = set()
        self.issued: List[str] = []
        self.other: List[Tuple[str, str]] = []
        self.server = Loopback(self._respond)
        self.origin = self.server.origin

    def __enter__(self) -> "Refresher":
        self.server.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.__exit__(*exc)

    def _respond(self, h: BaseHTTPRequestHandler, body: bytes) -> None:
        js = [("Content-Type", "application/json"), ("Date", formatdate(usegmt=True))]
        if h.path != "/login/oauth/access_token":
            with self.lock:
                self.other.append((h.command, h.path))
            send(h, 404, b"{}", js)
            return
        try:
            req: Dict[str, Any] = json.loads(body)
        except ValueError:
            send(h, 400, b'{"error":"bad_request"}', js)
            return
        time.sleep(self.delay)  # a refresh takes a moment: others pile up meanwhile
        with self.lock:
            self.refreshes += 1
            token = req.get("refresh_token")
            if req.get("grant_type") != "refresh_token" or token in self.spent or not str(token).startswith("ghr_"):
                answer: Dict[str, Any] = {"error": "bad_refresh_token", "error_description": "The refresh token passed is incorrect or expired."}
            else:
                self.spent.add(token)
                n = len(self.issued) + 1
                new = f"ghu_new{n:033d}"
                self.issued.append(new)
                answer = {
                    "access_token": new, "expires_in": 28800, "refresh_token": f"ghr_new{n:073d}",
                    "refresh_token_expires_in": 15811200, "token_type": "bearer", "scope": "",
                }
        send(h, 200, json.dumps(answer).encode(), js)
