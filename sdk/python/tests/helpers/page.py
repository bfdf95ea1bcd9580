"""A person at the emulator's device page: reads the form, types the code, clicks."""

from __future__ import annotations

import urllib.parse
import urllib.request
from html.parser import HTMLParser
from typing import Dict, List, Optional, Tuple


class _FormReader(HTMLParser):
    """Collects the device form's action, method, inputs and buttons, and the result."""

    def __init__(self) -> None:
        super().__init__()
        self.in_form = False
        self.action: Optional[str] = None
        self.method = "get"
        self.inputs: Dict[str, str] = {}
        self.buttons: List[Tuple[str, str]] = []
        self.result: Optional[str] = None

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, Optional[str]]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if a.get("id") == "result":
            self.result = a.get("data-result")
        if tag == "form" and a.get("id") == "device-form":
            self.in_form = True
            self.action = a.get("action", "")
            self.method = a.get("method", "get").lower()
        elif self.in_form and tag == "input" and a.get("name"):
            self.inputs[a["name"]] = a.get("value", "")
        elif self.in_form and tag == "button" and a.get("name"):
            self.buttons.append((a["name"], a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.in_form = False


def _read(html: str) -> _FormReader:
    reader = _FormReader()
    reader.feed(html)
    return reader


def enter_code(page_url: str, user_code: str, button: str = "authorize") -> str:
    """Opens the page, fills in the code, presses a button; returns the page's data-result."""
    with urllib.request.urlopen(page_url, timeout=10) as resp:
        form = _read(resp.read().decode("utf-8"))
    assert form.action is not None, "the device page has no device-form"
    assert "user_code" in form.inputs, "the device form has no user_code input"
    fields = dict(form.inputs)
    fields["user_code"] = user_code
    name, value = next((n, v) for n, v in form.buttons if v == button)
    fields[name] = value
    target = urllib.parse.urljoin(page_url, form.action)
    data = urllib.parse.urlencode(fields).encode()
    req = urllib.request.Request(target, data=data, method=form.method.upper())
    req.add_header("content-type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            html = resp.read().decode("utf-8")
    except urllib.error.HTTPError as e:  # the page answers an invalid code with 4xx
        html = e.read().decode("utf-8")
    return _read(html).result or ""
