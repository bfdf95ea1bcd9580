"""Calls that must never start a sign-in, and the endpoints the plugin derives."""

from __future__ import annotations

import threading
import time
from typing import List

import pytest

from deviceflow import DeviceFlow, InvalidInput, MemoryStore, NotFound, Verification
from helpers.emulator import Emulator
from helpers.page import enter_code


def test_non_interactive_calls_never_start_a_flow(emulator: Emulator) -> None:
    shown: List[Verification] = []
    store = MemoryStore()
    flow = DeviceFlow("Ov23liQuiet", scopes="repo", base_url=emulator.url, store=store, on_verification=shown.append)
    with pytest.raises(NotFound, match="sign in"):
        flow.token(interactive=False)
    with pytest.raises(NotFound):
        flow.authorization_headers("GET", emulator.url + "/api/v3/user", interactive=False)
    assert shown == [] and store.snapshot() == {}
    with pytest.raises(NotFound):
        flow.token(refresh=True, interactive=False)  # the engine's rule: not_found
    assert shown == [] and store.snapshot() == {}

    def approve(v: Verification) -> None:
        def act() -> None:
            time.sleep(0.05)
            enter_code(v.verification_uri, v.user_code)

        threading.Thread(target=act, daemon=True).start()

    signed_in = DeviceFlow("Ov23liQuiet", scopes="repo", base_url=emulator.url, store=store, on_verification=approve)
    auth = signed_in.token()
    assert flow.token(interactive=False).token == auth.token
    headers = flow.authorization_headers("GET", emulator.url + "/api/v3/user", interactive=False)
    assert headers == {"authorization": "token " + auth.token}
    # Another origin gets no token, from the plugin itself.
    assert flow.authorization_headers("GET", "https://collector.example/upload", interactive=False) == {}
    assert shown == []


@pytest.mark.parametrize(
    "base_url, base, api",
    [
        ("https://github.com", "https://github.com", "https://api.github.com"),
        ("https://api.github.com", "https://github.com", "https://api.github.com"),
        ("https://ghe.example.com/api/v3", "https://ghe.example.com", "https://ghe.example.com/api/v3"),
        ("https://api.acme.ghe.com", "https://acme.ghe.com", "https://api.acme.ghe.com"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080", "http://127.0.0.1:8080/api/v3"),
    ],
)
def test_endpoints_come_from_the_plugin(base_url: str, base: str, api: str) -> None:
    flow = DeviceFlow("Ov23li", base_url=base_url)
    assert flow.endpoints() == {"base": base, "api": api}
    assert flow.api_url == api


def test_a_base_url_the_plugin_refuses() -> None:
    # The sandbox's allow-list comes from the plugin's info: a base URL it
    # refuses is refused when the flow is made, in the plugin's words.
    for base in ("http://ghe.example.com", "https://user:pw@ghe.example.com", "https://ghe.example.com:99999", "ftp://x"):
        with pytest.raises(InvalidInput, match="baseUrl"):
            DeviceFlow("Ov23li", base_url=base)
