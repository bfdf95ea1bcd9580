"""DeviceFlow: the API a Python application uses.

Every method is one export of the plugin; the plugin decides everything
(caching, refresh, polling, slow_down, deadlines). This class only turns
Python arguments into the contract's JSON and the answers back into Python
values.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Optional, Union

from . import _ui
from ._host import EventHandler, Host, SleepHook
from ._sandbox import DEFAULT_BASE_URL
from .errors import InvalidInput, InvalidResponse
from .models import Authentication, CheckResult, Pending, Verification

if TYPE_CHECKING:  # pragma: no cover
    import ssl

    from .requests_auth import DeviceFlowAuth
    from .stores.base import Store

Scopes = Union[str, Iterable[str]]
VerificationHandler = Callable[[Verification], None]


class DeviceFlow:
    """GitHub's OAuth device flow for one app, through the deviceflow plugin.

    ``client_id`` is the OAuth App's or GitHub App's client id;
    ``client_type`` is ``"oauth-app"`` (default) or ``"github-app"``.
    ``scopes`` (OAuth Apps only) is a list, or one string split on commas and
    white space. ``base_url`` is ``https://github.com``, a GitHub Enterprise
    Server URL, or a loopback URL of a local server. ``store`` keeps the
    tokens (a :class:`MemoryStore` by default: pass a :class:`KeyringStore`,
    :class:`EncryptedFileStore` or :class:`FileStore` to keep them across
    runs).

    ``on_verification`` receives the :class:`Verification` to show the user
    (by default a box with the code is printed on stderr); ``on_event``
    receives every event as a dict (polling, slow_down, backoff, refreshed).
    Either may block; raising :class:`deviceflow.Cancelled` stops the flow.

    ``encoding`` is ``"form"`` for RFC 8628 servers other than GitHub that
    want form-encoded request bodies (GitHub takes JSON, the default).

    Any other RFC 8628 server (Google, Entra ID, Keycloak, Okta, ...) is
    named by ``issuer`` (its endpoints are discovered: OpenID Connect, then
    RFC 8414) or by ``device_endpoint`` and ``token_endpoint`` (with
    ``userinfo_endpoint`` for :meth:`check` and ``revocation_endpoint`` for
    :meth:`logout`, optional); ``client_secret`` authenticates a
    confidential client (HTTP Basic; Google needs one) and is never in an
    event, an error or a stored value. ``base_url`` and ``client_type`` are
    GitHub's and are then left out; results take the neutral shape (see
    :class:`Authentication`).

    The remaining keywords tune the host: ``request_timeout`` (seconds per
    HTTP request), ``user_agent`` (the application's name in every request,
    in place of the plugin's), ``session`` (a ``requests.Session`` that
    performs the plugin's requests: its adapters, mocks, hooks and headers
    apply, as a user's octokit ``request`` instance does in Node), ``ssl_context`` (to trust a private CA), ``allowed_hosts``
    (replaces the allow-list derived from ``base_url``), and ``now_ms``,
    ``monotonic_ms`` and ``sleep_ms`` (the wall clock, the monotonic clock
    and a sleep for tests; see :class:`deviceflow.Host`). A DeviceFlow is
    safe to use from several threads, and with a store shared between
    processes (the file stores, the keyring) a token is refreshed once
    across all of them.
    """

    def __init__(
        self,
        client_id: str,
        client_type: str = "oauth-app",
        scopes: Scopes = (),
        base_url: str = DEFAULT_BASE_URL,
        store: Optional[Store] = None,
        on_verification: Optional[VerificationHandler] = None,
        *,
        on_event: Optional[EventHandler] = None,
        encoding: Optional[str] = None,
        issuer: Optional[str] = None,
        device_endpoint: Optional[str] = None,
        token_endpoint: Optional[str] = None,
        userinfo_endpoint: Optional[str] = None,
        revocation_endpoint: Optional[str] = None,
        client_secret: Optional[str] = None,
        request_timeout: float = 30.0,
        ssl_context: Optional[ssl.SSLContext] = None,
        allowed_hosts: Optional[Iterable[str]] = None,
        now_ms: Optional[Callable[[], int]] = None,
        sleep_ms: Optional[SleepHook] = None,
        monotonic_ms: Optional[Callable[[], int]] = None,
        user_agent: Optional[str] = None,
        session: Optional[Any] = None,
    ) -> None:
        if not isinstance(client_id, str):
            raise InvalidInput("invalid input: clientId: must be a string")
        self.client_id = client_id
        self.client_type = client_type
        self.scopes = _scopes(scopes)
        self.base_url = base_url
        self.on_verification = on_verification or _ui.print_verification
        self.on_event = on_event
        self.encoding = encoding
        self.server = _server(issuer, device_endpoint, token_endpoint, userinfo_endpoint, revocation_endpoint)
        self._client_secret = client_secret
        self._endpoints: Optional[Dict[str, str]] = None
        self.host = Host(
            base_url=base_url,
            allowed_hosts=allowed_hosts,
            server=self.server,
            request_timeout=request_timeout,
            store=store,
            on_event=self._dispatch,
            now_ms=now_ms,
            sleep_ms=sleep_ms,
            ssl_context=ssl_context,
            monotonic_ms=monotonic_ms,
            user_agent=user_agent,
            session=session,
        )

    @property
    def store(self) -> Store:
        """The store that keeps this flow's tokens."""
        return self.host.store

    def token(
        self,
        scopes: Optional[Scopes] = None,
        refresh: bool = False,
        *,
        interactive: bool = True,
        cancel: Optional[threading.Event] = None,
    ) -> Authentication:
        """Returns a token: the cached one, a refreshed one, or a new device flow.

        ``scopes`` overrides the instance's scopes for this call;
        ``refresh=True`` skips the cache and runs a new device flow.
        ``interactive=False`` never starts a device flow: the cached token,
        refreshed when needed, or :class:`deviceflow.NotFound` (for commands
        that must not prompt; with ``refresh=True`` too — the plugin decides,
        as in every language). Setting ``cancel`` (from another thread) stops
        a waiting flow with :class:`deviceflow.Cancelled`.
        """
        extra: Dict[str, Any] = {"refresh": bool(refresh)}
        if not interactive:
            extra["interactive"] = False
        if scopes is not None:
            extra["scopes"] = _scopes(scopes)
        return self._authentication("authenticate", extra, cancel)

    def refresh(self, *, cancel: Optional[threading.Event] = None) -> Authentication:
        """Exchanges the cached refresh token (GitHub Apps) for a new pair."""
        return self._authentication("refresh", {}, cancel)

    def check(self, token: Optional[str] = None, *, cancel: Optional[threading.Event] = None) -> CheckResult:
        """Asks the API (GET /user) whether the cached token, or ``token``, works."""
        extra: Dict[str, Any] = {}
        if token is not None:
            extra["token"] = token
        return CheckResult.from_dict(self._call("check", extra, cancel))

    def logout(self) -> bool:
        """Forgets the cached token; answers whether there was one.

        On a generic server that offers RFC 7009 revocation
        (``revocation_endpoint``, or its issuer's metadata) the token is then
        revoked there too, best effort.
        """
        return bool(self._call("logout", {}, None).get("removed"))

    def authorization_headers(
        self,
        method: str,
        url: str,
        *,
        interactive: bool = True,
        cancel: Optional[threading.Event] = None,
    ) -> Dict[str, str]:
        """Returns the headers that authorize a request (octokit's hook).

        Signs the user in first when there is no cached token, unless
        ``interactive=False`` (then :class:`deviceflow.NotFound`). The OAuth
        endpoints, and URLs outside this GitHub, get no authorization header.
        """
        extra: Dict[str, Any] = {"method": method, "url": url}
        if not interactive:
            extra["interactive"] = False
        out = self._call("authorize", extra, cancel)
        headers = out.get("headers")
        if not isinstance(headers, dict):
            raise InvalidResponse("deviceflow plugin: authorize answered no headers")
        return {str(k): str(v) for k, v in headers.items()}

    def endpoints(self) -> Dict[str, str]:
        """Returns the roots the plugin derives from ``base_url``.

        ``{"base": ..., "api": ...}``: the OAuth web root and the REST API
        root, such as ``https://github.com`` and ``https://api.github.com``,
        or ``https://HOST`` and ``https://HOST/api/v3`` for GitHub Enterprise
        Server. Raises :class:`deviceflow.InvalidInput` for a base URL the
        plugin does not accept.
        """
        if self._endpoints is None:
            out = self.host.call_json("info", dict(self.server) if self.server else {"baseUrl": self.base_url})
            ep = out.get("endpoints") if isinstance(out, dict) else None
            if not (isinstance(ep, dict) and isinstance(ep.get("base"), str) and isinstance(ep.get("api"), str)):
                raise InvalidInput(
                    "invalid input: baseUrl: not a GitHub URL the plugin accepts: use https://github.com, "
                    "https://HOST for GitHub Enterprise Server, or a loopback http URL"
                )
            self._endpoints = {"base": ep["base"], "api": ep["api"]}
        return dict(self._endpoints)

    @property
    def api_url(self) -> str:
        """The REST API root without a trailing slash (see :meth:`endpoints`)."""
        return self.endpoints()["api"]

    def requests_auth(self) -> "DeviceFlowAuth":
        """Returns a ``requests.auth.AuthBase`` that signs requests to GitHub.

        Needs the ``requests`` extra.
        """
        from .requests_auth import DeviceFlowAuth

        return DeviceFlowAuth(self)

    def begin(self, *, cancel: Optional[threading.Event] = None) -> Union[Pending, Authentication]:
        """Starts a device flow without waiting (for event loops, many flows at once).

        Answers a :class:`Pending` to pass to :meth:`poll`, whose
        ``verification`` says what to show the user.
        """
        return self._step(self._call("begin", {}, cancel), None)

    def poll(self, pending: Pending, *, cancel: Optional[threading.Event] = None) -> Union[Pending, Authentication]:
        """Polls once, when ``pending.next_poll_at`` has passed; never sleeps.

        Answers a new :class:`Pending`, or the :class:`Authentication` (stored
        in the store) once the user has approved.
        """
        return self._step(self._call("poll", {"state": pending.state}, cancel), pending)

    def __repr__(self) -> str:
        return (
            f"DeviceFlow(client_id={self.client_id!r}, client_type={self.client_type!r}, "
            f"base_url={self.base_url!r}, store={self.store!r})"
        )

    # Plumbing.

    def _input(self, extra: Dict[str, Any]) -> Dict[str, Any]:
        base: Dict[str, Any] = {
            "clientId": self.client_id,
            "clientType": self.client_type,
            "baseUrl": self.base_url,
            "scopes": self.scopes,
        }
        if self.server:
            # A generic server: its issuer or endpoints instead of GitHub's
            # base URL; GitHub's default client type means nothing there.
            del base["baseUrl"]
            if self.client_type == "oauth-app":
                del base["clientType"]
            base.update(self.server)
            if self._client_secret:
                base["clientSecret"] = self._client_secret
        if self.encoding is not None:
            base["encoding"] = self.encoding
        base.update(extra)
        return base

    def _call(self, export: str, extra: Dict[str, Any], cancel: Optional[threading.Event]) -> Dict[str, Any]:
        out = self.host.call_json(export, self._input(extra), cancel=cancel)
        if not isinstance(out, dict):
            raise InvalidResponse(f"deviceflow plugin: {export} answered no object")
        return out

    def _authentication(self, export: str, extra: Dict[str, Any], cancel: Optional[threading.Event]) -> Authentication:
        return Authentication.from_dict(self._call(export, extra, cancel))

    def _step(self, out: Dict[str, Any], previous: Optional[Pending]) -> Union[Pending, Authentication]:
        if out.get("status") == "complete" and isinstance(out.get("authentication"), dict):
            return Authentication.from_dict(out["authentication"])
        if out.get("status") == "pending":
            return Pending.from_dict(out, previous)
        raise InvalidResponse("deviceflow plugin: unexpected answer from begin/poll")

    def _dispatch(self, event: Dict[str, Any]) -> None:
        if event.get("type") == "verification":
            self.on_verification(Verification.from_event(event))
        if self.on_event is not None:
            self.on_event(event)


def _scopes(scopes: Scopes) -> Union[str, List[str]]:
    if isinstance(scopes, str):
        return scopes
    try:
        out = list(scopes)
    except TypeError:
        raise InvalidInput("invalid input: scopes: pass a list of strings or one string") from None
    if not all(isinstance(s, str) for s in out):
        raise InvalidInput("invalid input: scopes: every scope must be a string")
    return out


def _server(
    issuer: Optional[str],
    device_endpoint: Optional[str],
    token_endpoint: Optional[str],
    userinfo_endpoint: Optional[str],
    revocation_endpoint: Optional[str],
) -> Dict[str, str]:
    """The generic server's fields as the plugin names them; empty for GitHub."""
    fields = {
        "issuer": issuer,
        "deviceEndpoint": device_endpoint,
        "tokenEndpoint": token_endpoint,
        "userinfoEndpoint": userinfo_endpoint,
        "revocationEndpoint": revocation_endpoint,
    }
    return {k: v for k, v in fields.items() if v}
