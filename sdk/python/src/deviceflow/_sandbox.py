"""The sandbox's allow-list: which URLs the plugin may ask the host to fetch.

The hosts are those of the endpoints the plugin derives from the configured
base URL and answers in its ``info`` export (github.com and api.github.com by
default; ``HOST[:PORT]`` for GitHub Enterprise Server or a local server;
``SUBDOMAIN.ghe.com`` and ``api.SUBDOMAIN.ghe.com`` for GitHub Enterprise
Cloud): the rule lives in the engine, once. Plain http is allowed only for
loopback hosts.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Dict, FrozenSet, Iterable, Optional, Tuple
from urllib.parse import urlsplit

from .errors import InvalidInput

DEFAULT_BASE_URL = "https://github.com"


class SandboxRefusal(Exception):
    """A URL the sandbox does not allow; the message says why."""


def host_key(url: str) -> Optional[str]:
    """Returns ``host`` or ``host:port`` (lower case) of an absolute URL, or None."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    return host if port is None else f"{host}:{port}"


def allowed_hosts(
    base_url: Optional[str], extra: Optional[Iterable[str]] = None, server: Optional[Dict[str, str]] = None
) -> FrozenSet[str]:
    """The allow-list: ``extra`` as given, or the hosts of the endpoints the
    plugin derives from ``base_url`` (or from ``server``, a generic server's
    issuer or endpoints: the origins info answers in ``allow``). A base URL
    the plugin refuses raises InvalidInput with the plugin's own message."""
    return allow_list(base_url, extra, server)[0]


def allow_list(
    base_url: Optional[str], extra: Optional[Iterable[str]] = None, server: Optional[Dict[str, str]] = None
) -> Tuple[FrozenSet[str], bool]:
    """allowed_hosts, and whether the plugin will name more origins (an
    issuer's discovered endpoints) in its ``endpoints`` event."""
    if extra:
        return frozenset(h.lower() for h in extra), False
    from . import _runtime

    answer = _runtime.endpoints(dict(server) if server else {"baseUrl": base_url or DEFAULT_BASE_URL})
    ep = answer.get("endpoints")
    if not isinstance(ep, dict):
        refusal = answer.get("endpointsError")
        message = refusal.get("message") if isinstance(refusal, dict) else None
        raise InvalidInput(message if isinstance(message, str) else "invalid input: baseUrl: refused by the plugin")
    hosts = set()
    allow = answer.get("allow")
    roots = allow if isinstance(allow, list) else [ep.get("base"), ep.get("api")]
    for root in roots:
        key = host_key(root) if isinstance(root, str) else None
        if key is None:
            raise InvalidInput("invalid input: baseUrl: the plugin answered no usable endpoints")
        hosts.add(key)
    return frozenset(hosts), ep.get("discover") is True


def origin_hosts(origins: Any) -> FrozenSet[str]:
    """The allow-list keys of the origins an ``endpoints`` event names."""
    out = set()
    for origin in origins if isinstance(origins, list) else []:
        key = host_key(origin) if isinstance(origin, str) else None
        if key is not None:
            out.add(key.lower())
    return frozenset(out)


def is_loopback(host: str) -> bool:
    """Reports whether a host name or address is the local machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check(url: str, allowed: FrozenSet[str]) -> None:
    """Raises SandboxRefusal unless the sandbox allows the URL."""
    key = host_key(url)
    if key is None:
        raise SandboxRefusal("not an absolute URL")
    if key not in allowed:
        raise SandboxRefusal(f"host {urlsplit(url).hostname} is not in the allow-list")
    scheme = urlsplit(url).scheme.lower()
    if scheme == "https":
        return
    if scheme == "http":
        if not is_loopback(urlsplit(url).hostname or ""):
            raise SandboxRefusal("plain http is allowed only for loopback hosts")
        return
    raise SandboxRefusal(f"scheme {scheme} is not allowed")
