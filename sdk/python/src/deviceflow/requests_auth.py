"""DeviceFlowAuth: a ``requests`` auth that signs requests with the user's token.

Needs the ``requests`` extra (``pip install 'deviceflow[requests]'``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

try:
    from requests.auth import AuthBase
    from requests.models import PreparedRequest
except ImportError as e:  # pragma: no cover - exercised without requests installed
    raise ImportError("deviceflow.requests_auth needs the requests package: pip install 'deviceflow[requests]'") from e

if TYPE_CHECKING:  # pragma: no cover
    from .client import DeviceFlow


class DeviceFlowAuth(AuthBase):
    """Adds ``Authorization: token ...`` from a :class:`DeviceFlow` to each request.

    The headers come from the plugin's ``authorize`` export, the one place
    that decides which URLs get credentials: the flow's GitHub gets the
    cached token (refreshed when it is close to expiry, or a new device flow
    when there is none); the OAuth endpoints, any other origin, and any URL
    whose origin is in doubt get none. The URL judged is the one ``requests``
    will send (the prepared URL), so a session shared with other sites never
    leaks the token.
    """

    def __init__(self, flow: "DeviceFlow") -> None:
        self.flow = flow

    def __call__(self, r: PreparedRequest) -> PreparedRequest:
        r.headers.update(self.flow.authorization_headers(r.method or "GET", r.url or ""))
        return r

    def __repr__(self) -> str:
        return f"DeviceFlowAuth({self.flow!r})"
