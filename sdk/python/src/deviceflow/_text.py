"""Making what a server sends safe to show on a terminal, and judging URLs to open.

Everything a server sends (the verification URI, the user code, error
descriptions, a login name) passes through :func:`clean` before it is
printed: terminal escape sequences are dropped whole, and every other
control character (C0, DEL, C1) and bidirectional override is removed, so a
server can neither set the window title, clear the screen, nor make one
text look like another. :func:`display_url` shows an internationalised
host name in its ASCII (punycode) form, so ``gıthub.com`` cannot pass for
``github.com``; :func:`browsable` says whether a URL may be handed to the
browser (https, or http on a loopback host).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Optional
from urllib.parse import urlsplit, urlunsplit

from ._sandbox import is_loopback

# ESC followed by a CSI, OSC, DCS, SOS, PM or APC string, or by one character
# (two-character escapes such as ESC c, which resets the terminal); and the
# 8-bit CSI/OSC/DCS introducers with their strings.
_ESCAPES = re.compile(
    r"""
    \x1b\[[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?        # CSI ... final
  | \x1b[\]PX^_][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?  # OSC, DCS, SOS, PM, APC ... terminator
  | \x1b[\x20-\x2f]*[\x30-\x7e]?                        # other escapes
  | \x9b[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?            # 8-bit CSI
  | [\x90\x98\x9d\x9e\x9f][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?  # 8-bit string introducers
    """,
    re.VERBOSE,
)

# Bidirectional embeddings, overrides and isolates: they reorder what is shown.
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def is_control(ch: str) -> bool:
    """Reports whether ch is a control character: C0, DEL or C1."""
    return unicodedata.category(ch) == "Cc"


def has_control(text: str) -> bool:
    """Reports whether text holds any control character or bidirectional override."""
    return any(is_control(ch) or ch in _BIDI for ch in text)


def clean(text: object) -> str:
    """Returns text with escape sequences, control characters and bidi overrides removed."""
    s = _ESCAPES.sub("", str(text))
    return "".join(ch for ch in s if not is_control(ch) and ch not in _BIDI)


def _ascii_host(host: str) -> Optional[str]:
    """Returns host in ASCII (IDNA/punycode), or None when it cannot be encoded."""
    if host.isascii():
        return host
    labels = []
    for label in host.split("."):
        if label.isascii():
            labels.append(label)
            continue
        try:
            labels.append(label.encode("idna").decode("ascii"))
        except UnicodeError:
            try:
                labels.append("xn--" + label.encode("punycode").decode("ascii"))
            except UnicodeError:
                return None
    return ".".join(labels)


def display_url(url: object) -> str:
    """Returns a URL as it is safe to show: cleaned, its host in ASCII form.

    Non-ASCII characters outside the host are shown as \\u escapes, so the
    whole URL reads as what it is.
    """
    text = clean(url)
    try:
        parts = urlsplit(text)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return _ascii_escape(text)
    if not parts.scheme or not host or host.isascii():
        return _ascii_escape(text)
    ascii_host = _ascii_host(host)
    if ascii_host is None:
        return _ascii_escape(text)
    netloc = ascii_host if port is None else f"{ascii_host}:{port}"
    if parts.username is not None or parts.password is not None:
        userinfo = parts.netloc.rsplit("@", 1)[0]
        netloc = f"{userinfo}@{netloc}"
    return _ascii_escape(urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment)))


def _ascii_escape(text: str) -> str:
    return "".join(ch if ch.isascii() else f"\\u{ord(ch):04x}" for ch in text)


def browser_url(url: object) -> Optional[str]:
    """Returns the URL to hand to the browser, or None when it must not be opened.

    The host of an internationalised URL is given in its ASCII form (what
    the person was shown); everything else must pass :func:`browsable`.
    """
    if not isinstance(url, str) or has_control(url):
        return None
    candidate = url
    if not url.isascii():
        try:
            parts = urlsplit(url)
            host = parts.hostname
            port = parts.port
        except ValueError:
            return None
        ascii_host = _ascii_host(host) if host else None
        if ascii_host is None or parts.username is not None or parts.password is not None:
            return None
        netloc = ascii_host if port is None else f"{ascii_host}:{port}"
        candidate = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return candidate if browsable(candidate) else None


def browsable(url: object) -> bool:
    """Reports whether a URL may be opened in the browser.

    Only an https URL, or an http URL on a loopback host, with a host, no
    user name or password, and nothing a server could hide in it (control
    characters, white space, backslashes, non-ASCII).
    """
    if not isinstance(url, str) or not url or not url.isascii():
        return False
    if has_control(url) or any(ch.isspace() for ch in url) or "\\" in url:
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port  # raises ValueError for a port that is not a number in 0-65535
    except ValueError:
        return False
    if not host or "@" in parts.netloc or not url.lower().startswith(parts.scheme.lower() + "://"):
        return False
    scheme = parts.scheme.lower()
    return scheme == "https" or (scheme == "http" and is_loopback(host))
