"""What a person sees: the box with the code, and the time left to enter it.

Every text that came from the server is shown through :mod:`deviceflow._text`:
no control characters or escape sequences, host names in ASCII form.
"""

from __future__ import annotations

import sys
from typing import IO, Any, Callable, Dict, List, Optional

from ._text import browser_url, clean, display_url
from .models import Verification


def format_duration(seconds: float) -> str:
    """Formats seconds as m:ss (or h:mm:ss)."""
    total = max(int(seconds + 0.5), 0)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def code_box(v: Verification) -> str:
    """Returns the box that tells the user where to go and which code to enter."""
    lines: List[str] = [
        "First copy your one-time code:",
        "",
        f"    {clean(v.user_code)}",
        "",
        f"Then open {display_url(v.verification_uri)}",
    ]
    if v.verification_uri_complete:
        lines.append(f"(or {display_url(v.verification_uri_complete)})")
    lines.append(f"The code expires in {format_duration(v.expires_in)}.")
    width = max(len(line) for line in lines)
    top = "+" + "-" * (width + 4) + "+"
    body = [f"|  {line.ljust(width)}  |" for line in lines]
    return "\n".join([top, *body, top])


def print_verification(v: Verification, stream: Optional[IO[str]] = None) -> None:
    """Prints the code box (the default ``on_verification``), on stderr."""
    out = stream or sys.stderr
    print(code_box(v), file=out, flush=True)


def open_browser(v: Verification, stream: Optional[IO[str]] = None, opener: Optional[Callable[[str], bool]] = None) -> bool:
    """Opens the verification page in the browser, when it is safe to.

    Only an https URL, or http on a loopback host, with its host in ASCII
    form (see :func:`deviceflow._text.browser_url`);
    ``verification_uri_complete`` when it qualifies, else
    ``verification_uri``. Says on ``stream`` what it did.
    Answers whether a browser was asked to open the page.
    """
    out = stream or sys.stderr
    for given in (v.verification_uri_complete, v.verification_uri):
        url = browser_url(given)
        if url is not None:
            if opener is None:
                import webbrowser

                opener = webbrowser.open
            try:
                opened = bool(opener(url))
            except Exception:
                opened = False
            if opened:
                print(f"Opening {display_url(url)} in your browser.", file=out, flush=True)
            else:
                print("Could not open a browser: open the page yourself.", file=out, flush=True)
            return opened
    print("The page is not an https address: it was not opened in a browser.", file=out, flush=True)
    return False


class Progress:
    """Shows the time left while the plugin polls, as events arrive.

    On a terminal, one line is rewritten in place; otherwise a line is
    printed only when something changes (slow_down, backoff).
    """

    def __init__(self, stream: Optional[IO[str]] = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._open_line = False

    def __call__(self, event: Dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "polling":
            left = float(event.get("remainingMs", 0) or 0) / 1000.0
            if self.tty:
                self.stream.write(f"\rWaiting for you to enter the code... {format_duration(left)} left ")
                self.stream.flush()
                self._open_line = True
        elif kind == "slow_down":
            self._line(f"GitHub asked to slow down: polling every {clean(event.get('interval'))} s")
        elif kind == "backoff":
            wait = float(event.get("waitMs", 0) or 0) / 1000.0
            self._line(f"GitHub did not answer ({clean(event.get('reason'))}); retrying in {format_duration(wait)}")
        elif kind == "waiting":
            self._line("Another deviceflow process is signing in or refreshing this token; waiting for it")

    def done(self) -> None:
        """Ends the progress line."""
        if self._open_line:
            self.stream.write("\n")
            self.stream.flush()
            self._open_line = False

    def _line(self, text: str) -> None:
        self.done()
        print(text, file=self.stream, flush=True)
