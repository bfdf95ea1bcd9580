"""The sandbox's allow-list: which URLs the plugin may ask the host to fetch.

The hosts come from the configured base URL: github.com and api.github.com
for the default, ``HOST[:PORT]`` for a GitHub Enterprise Server or a local
server. Plain http is allowed only for loopback hosts.
"""

from __future__ import annotations

import ipaddress
from typing import FrozenSet, Iterable, Optional
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


def allowed_hosts(base_url: Optional[str], extra: Optional[Iterable[str]] = None) -> FrozenSet[str]:
    """Derives the allow-list from a base URL, or takes ``extra`` as given."""
    if extra:
        return frozenset(h.lower() for h in extra)
    key = host_key(base_url or DEFAULT_BASE_URL)
    if key is None:
        raise InvalidInput("invalid input: baseUrl: not an absolute URL")
    if key in ("github.com", "api.github.com"):
        return frozenset(("github.com", "api.github.com"))
    if key.endswith(".ghe.com"):
        # GitHub Enterprise Cloud with data residency: web and API hosts.
        web = key[4:] if key.startswith("api.") else key
        return frozenset((web, "api." + web))
    return frozenset((key,))


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
