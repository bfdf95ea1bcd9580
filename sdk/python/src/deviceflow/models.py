"""The values the API returns: the authentication, the verification, a check.

Their fields mirror the contract (``wit/deviceflow.wit``) in snake_case;
``to_dict`` gives the contract's camelCase JSON object back. Tokens never
appear in a ``repr``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, Optional, Tuple


def _parse_time(value: Optional[str]) -> Optional[datetime]:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _opt_str(v: Any) -> Optional[str]:
    return v if isinstance(v, str) else None


@dataclass(frozen=True)
class Authentication:
    """A user-to-server token: octokit's OAuth authentication object.

    ``scopes`` is set for OAuth Apps only; ``refresh_token``, ``expires_at``
    and ``refresh_token_expires_at`` (ISO 8601 strings) for GitHub Apps with
    expiring tokens.

    From a generic RFC 8628 server (``issuer`` or endpoints) the shape is
    neutral: ``token_type`` is the server's (``"bearer"``), ``client_type``
    is None, ``scopes`` are those granted (or requested, when the server
    named none) and ``id_token`` holds an OpenID Connect server's id_token.
    """

    token: str = field(repr=False)
    client_id: str
    client_type: Optional[str] = "oauth-app"
    type: str = "token"
    token_type: str = "oauth"
    scopes: Optional[Tuple[str, ...]] = None
    refresh_token: Optional[str] = field(default=None, repr=False)
    expires_at: Optional[str] = None
    refresh_token_expires_at: Optional[str] = None
    id_token: Optional[str] = field(default=None, repr=False)

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "Authentication":
        """Builds an Authentication from the contract's JSON object."""
        scopes = d.get("scopes")
        return cls(
            token=str(d.get("token", "")),
            client_id=str(d.get("clientId", "")),
            client_type=_client_type(d),
            type=str(d.get("type", "token")),
            token_type=str(d.get("tokenType", "oauth")),
            scopes=tuple(str(s) for s in scopes) if isinstance(scopes, list) else None,
            refresh_token=_opt_str(d.get("refreshToken")),
            expires_at=_opt_str(d.get("expiresAt")),
            refresh_token_expires_at=_opt_str(d.get("refreshTokenExpiresAt")),
            id_token=_opt_str(d.get("idToken")),
        )

    def to_dict(self) -> Dict[str, Any]:
        """Returns the contract's camelCase object (it holds the token)."""
        out: Dict[str, Any] = {
            "type": self.type,
            "tokenType": self.token_type,
            "clientType": self.client_type,
            "clientId": self.client_id,
            "token": self.token,
        }
        if self.client_type is None:
            del out["clientType"]
        if self.scopes is not None:
            out["scopes"] = list(self.scopes)
        if self.refresh_token is not None:
            out["refreshToken"] = self.refresh_token
        if self.expires_at is not None:
            out["expiresAt"] = self.expires_at
        if self.refresh_token_expires_at is not None:
            out["refreshTokenExpiresAt"] = self.refresh_token_expires_at
        if self.id_token is not None:
            out["idToken"] = self.id_token
        return out

    @property
    def expires(self) -> Optional[datetime]:
        """``expires_at`` as an aware datetime (None when the token does not expire)."""
        return _parse_time(self.expires_at)

    @property
    def refresh_token_expires(self) -> Optional[datetime]:
        """``refresh_token_expires_at`` as an aware datetime."""
        return _parse_time(self.refresh_token_expires_at)

    def expires_in(self, now: Optional[datetime] = None) -> Optional[float]:
        """Seconds until the token expires (None when it does not)."""
        exp = self.expires
        if exp is None:
            return None
        return (exp - (now or datetime.now(timezone.utc))).total_seconds()


@dataclass(frozen=True)
class Verification:
    """What to show the user: the code to enter and where.

    The server's own fields, as octokit hands them to ``onVerification``.
    ``device_code`` is the app's secret for this flow: show only
    ``user_code`` and the URIs.
    """

    user_code: str
    verification_uri: str
    expires_in: float
    interval: float
    device_code: str = field(default="", repr=False)
    verification_uri_complete: Optional[str] = None

    @classmethod
    def from_event(cls, e: Dict[str, Any]) -> "Verification":
        """Builds a Verification from the plugin's verification event."""
        return cls(
            user_code=str(e.get("user_code", "")),
            verification_uri=str(e.get("verification_uri", "")),
            expires_in=float(e.get("expires_in", 0) or 0),
            interval=float(e.get("interval", 0) or 0),
            device_code=str(e.get("device_code", "")),
            verification_uri_complete=_opt_str(e.get("verification_uri_complete")),
        )


@dataclass(frozen=True)
class CheckResult:
    """Whether a token works (GET /user), who it belongs to and its scopes."""

    valid: bool
    login: Optional[str] = None
    scopes: Optional[Tuple[str, ...]] = None
    #: The subject a generic server's userinfo names.
    sub: Optional[str] = None

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "CheckResult":
        """Builds a CheckResult from the check export's answer."""
        scopes = d.get("scopes")
        return cls(
            valid=bool(d.get("valid")),
            login=_opt_str(d.get("login")),
            sub=_opt_str(d.get("sub")),
            scopes=tuple(str(s) for s in scopes) if isinstance(scopes, list) else None,
        )


@dataclass(frozen=True)
class Pending:
    """A flow started by :meth:`DeviceFlow.begin`, not complete yet.

    Pass ``state`` to :meth:`DeviceFlow.poll` no sooner than
    ``next_poll_at`` (Unix milliseconds); the flow ends at ``expires_at``
    (Unix milliseconds). ``interval`` is the current polling interval in
    seconds. ``state`` holds the device code: keep it as private as a token.
    """

    state: Any = field(repr=False)
    next_poll_at: Optional[int] = None
    expires_at: Optional[int] = None
    interval: Optional[float] = None
    verification: Optional[Verification] = None

    @classmethod
    def from_dict(cls, d: Dict[str, Any], previous: Optional["Pending"] = None) -> "Pending":
        """Builds a Pending from begin's or poll's answer."""
        v = d.get("verification")
        verification = Verification.from_event(v) if isinstance(v, dict) else None
        if verification is None and previous is not None:
            verification = previous.verification
        return cls(
            state=d.get("state"),
            next_poll_at=_opt_int(d.get("nextPollAt")),
            expires_at=_opt_int(d.get("expiresAt")),
            interval=float(d["interval"]) if isinstance(d.get("interval"), (int, float)) else None,
            verification=verification,
        )


def _opt_int(v: Any) -> Optional[int]:
    return int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _client_type(d: Dict[str, Any]) -> Optional[str]:
    """octokit's client type; None in a generic server's neutral shape
    (no clientType, a token type other than GitHub's "oauth")."""
    if "clientType" in d:
        return str(d["clientType"])
    if d.get("tokenType", "oauth") == "oauth":
        return "oauth-app"
    return None
