"""What a person sees: the code box and the time left."""

from __future__ import annotations

import io

from deviceflow import Verification
from deviceflow._ui import Progress, code_box, format_duration


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
