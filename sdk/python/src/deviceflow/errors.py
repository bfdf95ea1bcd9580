"""Typed errors: one class per error code of the plugin contract.

Every failure the plugin reports arrives as JSON
``{code, message, error?, description?, uri?, status?}`` (see
``wit/deviceflow.wit``); :func:`from_plugin` turns it into an instance of the
class registered for that code. All of them derive from
:class:`DeviceFlowError`, whose ``code`` attribute holds the contract's code.
No error ever carries a token.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Optional, Type


class DeviceFlowError(Exception):
    """A failure of a deviceflow call.

    ``code`` is the contract's error code (``"access_denied"``,
    ``"expired_token"``, ...). ``error``, ``description`` and ``uri`` hold the
    server's own OAuth error fields when the server sent them, ``status`` the
    HTTP status when one is known.
    """

    code: str = "deviceflow_error"

    def __init__(
        self,
        message: str = "",
        *,
        code: Optional[str] = None,
        error: Optional[str] = None,
        description: Optional[str] = None,
        uri: Optional[str] = None,
        status: Optional[int] = None,
    ) -> None:
        if code is not None:
            self.code = code
        self.message = message or f"deviceflow: {self.code}"
        self.error = error
        self.description = description
        self.uri = uri
        self.status = status
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class ExpiredToken(DeviceFlowError):
    """The device code expired before the user approved it."""

    code = "expired_token"


class AccessDenied(DeviceFlowError):
    """The user cancelled the authorization on GitHub's page."""

    code = "access_denied"


class DeviceFlowDisabled(DeviceFlowError):
    """The app has not enabled the device flow in its settings on GitHub."""

    code = "unsupported"


class IncorrectClientCredentials(DeviceFlowError):
    """GitHub does not know the client id."""

    code = "incorrect_client_credentials"


class IncorrectDeviceCode(DeviceFlowError):
    """The device code is not valid (already used, or never issued)."""

    code = "incorrect_device_code"


class UnsupportedGrantType(DeviceFlowError):
    """The server does not accept the grant type."""

    code = "unsupported_grant_type"


class BadRefreshToken(DeviceFlowError):
    """The refresh token is invalid, used or expired: sign in again."""

    code = "bad_refresh_token"


class OAuthError(DeviceFlowError):
    """The server answered with an OAuth error the contract does not name."""

    code = "oauth_error"


class NotFound(DeviceFlowError):
    """No cached token: sign in first."""

    code = "not_found"


class Cancelled(DeviceFlowError):
    """The call was cancelled.

    Raise it from an ``on_verification`` or ``on_event`` callback to stop a
    running flow.
    """

    code = "cancelled"


class NetworkError(DeviceFlowError):
    """The server could not be reached, or did not answer in time."""

    code = "network"


class HTTPDenied(DeviceFlowError):
    """The host's sandbox refused a request (host not allowed, not https)."""

    code = "http_denied"


class StoreError(DeviceFlowError):
    """The token store failed (unreadable file, no keyring, wrong key...)."""

    code = "store"


class InvalidInput(DeviceFlowError):
    """The caller's options are wrong; the message names the field."""

    code = "invalid_input"


class InvalidResponse(DeviceFlowError):
    """The server answered something that is not a valid OAuth response."""

    code = "invalid_response"


class PluginError(DeviceFlowError):
    """The plugin itself failed (a trap, a memory limit, a malformed answer)."""

    code = "plugin"


class IncompatiblePlugin(PluginError):
    """The plugin speaks another major version of the contract than this host.

    ``abi`` is the version the plugin reports; ``expected`` the major
    version this host implements.
    """

    code = "incompatible_plugin"

    def __init__(self, message: str = "", *, abi: str = "", expected: int = 0) -> None:
        super().__init__(message)
        self.abi = abi
        self.expected = expected


_BY_CODE: Dict[str, Type[DeviceFlowError]] = {
    cls.code: cls
    for cls in (
        ExpiredToken,
        AccessDenied,
        DeviceFlowDisabled,
        IncorrectClientCredentials,
        IncorrectDeviceCode,
        UnsupportedGrantType,
        BadRefreshToken,
        OAuthError,
        NotFound,
        Cancelled,
        NetworkError,
        HTTPDenied,
        StoreError,
        InvalidInput,
        InvalidResponse,
        PluginError,
    )
}
# The contract's own name for a disabled device flow, should a server's
# answer ever surface under it.
_BY_CODE["device_flow_disabled"] = DeviceFlowDisabled


def error_class(code: str) -> Type[DeviceFlowError]:
    """Returns the class for a contract error code (the base class if unknown)."""
    return _BY_CODE.get(code, DeviceFlowError)


def from_fields(fields: Dict[str, Any]) -> DeviceFlowError:
    """Builds the typed error for a decoded plugin error object."""
    code = str(fields.get("code", ""))
    cls = error_class(code)
    status = fields.get("status")
    return cls(
        str(fields.get("message") or ""),
        code=code,
        error=_opt_str(fields.get("error")),
        description=_opt_str(fields.get("description")),
        uri=_opt_str(fields.get("uri")),
        status=status if isinstance(status, int) and not isinstance(status, bool) else None,
    )


def from_plugin(message: str) -> Optional[DeviceFlowError]:
    """Parses the plugin's error JSON; None when it is not the contract's error."""
    try:
        fields = json.loads(message)
    except ValueError:
        return None
    if not isinstance(fields, dict) or not isinstance(fields.get("code"), str) or not fields["code"]:
        return None
    return from_fields(fields)


def _opt_str(v: Any) -> Optional[str]:
    return v if isinstance(v, str) and v != "" else None
