"""What a person sees: the code box and the time left."""

from __future__ import annotations

import io

import pytest

from deviceflow import Verification
from deviceflow._text import browser_url, clean, display_url
from deviceflow._ui import Progress, code_box, format_duration, open_browser


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_format_duration() -> None:
    assert [format_duration(s) for s in (0, 5, 59.6, 900, 3725)] == ["0:00", "0:05", "1:00", "15:00", "1:02:05"]


def test_the_code_box() -> None:
    v = Verification(user_code="WDJB-MJHT", verification_uri="https://github.com/login/device", expires_in=900,
                     interval=5, device_code="SECRET-DEVICE-CODE",
                     verification_uri_complete="https://github.com/login/device?user_code=WDJB-MJHT")
    box = code_box(v).splitlines()
    assert box[0] == box[-1] and set(box[0]) == {"+", "-"}
    assert len({len(line) for line in box}) == 1  # a rectangle
    text = "\n".join(box)
    assert "WDJB-MJHT" in text and "https://github.com/login/device" in text
    assert "(or https://github.com/login/device?user_code=WDJB-MJHT)" in text
    assert "The code expires in 15:00." in text
    assert "SECRET-DEVICE-CODE" not in text and "SECRET-DEVICE-CODE" not in repr(v)


def test_time_left_on_a_terminal() -> None:
    term = Terminal()
    p = Progress(term)
    p({"type": "polling", "attempt": 1, "interval": 5, "remainingMs": 894750})
    p({"type": "polling", "attempt": 2, "interval": 5, "remainingMs": 889500})
    p({"type": "slow_down", "interval": 10})
    p({"type": "backoff", "reason": "timeout", "waitMs": 20000})
    p.done()
    out = term.getvalue()
    assert "\rWaiting for you to enter the code... 14:55 left " in out
    assert "\rWaiting for you to enter the code... 14:50 left \n" in out
    assert "GitHub asked to slow down: polling every 10 s\n" in out
    assert "GitHub did not answer (timeout); retrying in 0:20\n" in out
    assert out.endswith("\n")


def test_no_progress_line_in_a_log() -> None:
    log = io.StringIO()
    p = Progress(log)
    p({"type": "polling", "attempt": 1, "interval": 5, "remainingMs": 894750})
    p.done()
    assert log.getvalue() == ""


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("ABCD-EFGH", "ABCD-EFGH"),
        ("AB\x1b[2JCD", "ABCD"),  # CSI: clear the screen
        ("AB\x1b]0;title\x07CD", "ABCD"),  # OSC: set the window title (BEL)
        ("AB\x1b]8;;https://evil.example\x1b\\CD", "ABCD"),  # OSC 8 hyperlink (ST)
        ("AB\x1bcCD", "ABCD"),  # RIS: reset the terminal
        ("AB\x9b2JCD", "ABCD"),  # 8-bit CSI
        ("AB\x9d0;t\x9cCD", "ABCD"),  # 8-bit OSC
        ("A\x00B\x07C\x08D\x7fE\x85F\r\nG\tH", "ABCDEFGH"),  # C0, DEL, C1, CR LF, tab
        ("gnp.exe\u202e", "gnp.exe"),  # a bidi override
        ("\x1b[", ""),
    ],
)
def test_clean_removes_every_control_character_and_escape_sequence(raw: str, shown: str) -> None:
    assert clean(raw) == shown


def test_display_url_shows_international_hosts_in_ascii() -> None:
    assert display_url("https://gıthub.com/login/device") == "https://xn--gthub-n4a.com/login/device"
    assert display_url("https://github.com/login/device") == "https://github.com/login/device"
    assert display_url("https://bücher.example:8443/x?q=ü") == "https://xn--bcher-kva.example:8443/x?q=\\u00fc"
    assert display_url("https://github.com/\x1b[2Jx") == "https://github.com/x"
    assert display_url("not a url é") == "not a url \\u00e9"


@pytest.mark.parametrize(
    "url, opened",
    [
        ("https://github.com/login/device", "https://github.com/login/device"),
        ("https://gıthub.com/login/device", "https://xn--gthub-n4a.com/login/device"),
        ("http://127.0.0.1:8080/login/device", "http://127.0.0.1:8080/login/device"),
        ("http://localhost/x", "http://localhost/x"),
        ("http://[::1]:9/x", "http://[::1]:9/x"),
        ("http://github.com/login/device", None),
        ("javascript:alert(1)", None),
        ("JAVASCRIPT:alert(1)", None),
        ("file:///etc/passwd", None),
        ("https:evil.example/x", None),
        ("https:/evil.example/x", None),
        ("https:\\\\evil.example/x", None),
        ("//evil.example/x", None),
        ("https://user@github.com/", None),
        ("https://github.com/\x1b[2J", None),
        ("https://github.com/ x", None),
        ("https://github.com:99999/", None),
        ("data:text/html,hi", None),
        ("", None),
    ],
)
def test_only_https_or_loopback_http_is_opened(url: str, opened: object) -> None:
    assert browser_url(url) == opened


def test_open_browser_prefers_the_complete_uri_and_refuses_the_rest() -> None:
    asked: list = []

    def opener(url: str) -> bool:
        asked.append(url)
        return True

    out = io.StringIO()
    v = Verification(user_code="X", verification_uri="https://github.com/login/device", expires_in=900, interval=5,
                     verification_uri_complete="javascript:alert(1)")
    assert open_browser(v, out, opener) is True
    assert asked == ["https://github.com/login/device"]
    bad = Verification(user_code="X", verification_uri="javascript:alert(1)", expires_in=900, interval=5)
    assert open_browser(bad, out, opener) is False
    assert asked == ["https://github.com/login/device"]
    assert "not opened" in out.getvalue()


def test_the_code_box_shows_nothing_raw() -> None:
    v = Verification(user_code="AB\x1b]0;pwned\x07CD", verification_uri="https://gıthub.com/\x1b[2Jlogin",
                     expires_in=900, interval=5, verification_uri_complete="https://github.com/?c=\x9b2J1")
    box = code_box(v)
    assert "ABCD" in box and "pwned" not in box
    assert "https://xn--gthub-n4a.com/login" in box and "(or https://github.com/?c=1)" in box
    assert not any(ord(c) < 0x20 and c != "\n" or 0x7F <= ord(c) <= 0x9F for c in box)


def test_the_waiting_event_is_shown() -> None:
    log = io.StringIO()
    Progress(log)({"type": "waiting"})
    assert "waiting" in log.getvalue()
