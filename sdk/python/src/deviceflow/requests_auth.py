"""DeviceFlowAuth: a ``requests`` auth that signs requests with the user's token.

Needs the ``requests`` extra (``pip install 'deviceflow[requests]'``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import _sandbox

try:
    from requests.auth import AuthBase
    from requests.models import PreparedRequest
except ImportError as e:  # pragma: no cover - exercised without requests installed
    raise ImportError("deviceflow.requests_auth needs the requests package: pip install 'deviceflow[requests]'") from e

if TYPE_CHECKING:  # pragma: no cover
    from .client import DeviceFlow


class DeviceFlowAuth(AuthBase):
    """Adds ``Authorization: token ...`` from a :class:`DeviceFlow` to each request.

    The token comes from the plugin's ``authorize`` export: the cached
    token, refreshed when it is close to expiry, or a new device flow when
    there is none. Only requests to the flow's GitHub are signed: the plugin
    answers no credentials for any other origin, and, as a second guard,
    a request outside the sandbox allow-list (its hosts, over https or
    loopback http) is sent as it is without asking the plugin, so a session
    shared with other sites never leaks the token.
    """

    def __init__(self, flow: "DeviceFlow") -> None:
        self.flow = flow

    def __call__(self, r: PreparedRequest) -> PreparedRequest:
        url = r.url or ""
        try:
            _sandbox.check(url, self.flow.host.limits.allowed)
        except _sandbox.SandboxRefusal:
            return r
        r.headers.update(self.flow.authorization_headers(r.method or "GET", url))
        return r

    def __repr__(self) -> str:
        return f"DeviceFlowAuth({self.flow!r})"
