"""End to end against the Go emulator, approved through its web page as a person would."""

from __future__ import annotations

import ssl
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

import pytest
import requests

from deviceflow import (
    AccessDenied,
    Authentication,
    DeviceFlow,
    DeviceFlowDisabled,
    EncryptedFileStore,
    FileStore,
    Pending,
    Verification,
)
from deviceflow.stores import generate_key
from helpers.emulator import Emulator
from helpers.page import enter_code


class Person:
    """Reads the code from on_verification and enters it on the page, from another thread."""

    def __init__(self, button: str = "authorize") -> None:
        self.button = button
        self.results: List[str] = []
        self.seen: List[Verification] = []
        self._threads: List[threading.Thread] = []

    def __call__(self, v: Verification) -> None:
        self.seen.append(v)

        def act() -> None:
            time.sleep(0.05)  # a person is never instant
            self.results.append(enter_code(v.verification_uri, v.user_code, self.button))

        t = threading.Thread(target=act, daemon=True)
        t.start()
        self._threads.append(t)

    def wait(self) -> None:
        for t in self._threads:
            t.join(10)


def test_oauth_app_sign_in_check_reuse_requests_and_logout(emulator: Emulator, tmp_path: Path) -> None:
    person = Person()
    events: List[Dict[str, Any]] = []
    key = generate_key()
    store = EncryptedFileStore(tmp_path / "tokens.enc", key=key)
    flow = DeviceFlow("Ov23liE2E", scopes=["repo", "read:org"], base_url=emulator.url, store=store,
                      on_verification=person, on_event=events.append)

    auth = flow.token()
    person.wait()
    assert person.results == ["authorized"]
    assert person.seen[0].verification_uri == emulator.url + "/login/device"
    assert auth.token.startswith("gho_")
    assert auth.scopes == ("read:org", "repo")
    assert auth.client_id == "Ov23liE2E" and auth.client_type == "oauth-app"
    assert {e["type"] for e in events} >= {"verification", "polling"}

    result = flow.check()
    assert result.valid and result.login == "octocat" and result.scopes == ("read:org", "repo")

    # A second program with the same store gets the cached token: no flow.
    other = DeviceFlow("Ov23liE2E", scopes="repo read:org", base_url=emulator.url,
                       store=EncryptedFileStore(tmp_path / "tokens.enc", key=key),
                       on_verification=_no_flow)
    assert other.token() == auth

    session = requests.Session()
    session.auth = flow.requests_auth()
    r = session.get(emulator.url + "/api/v3/user")
    assert r.status_code == 200 and r.json()["login"] == "octocat"
    assert r.request.headers["authorization"] == "token " + auth.token

    assert flow.logout() is True
    assert flow.check(token=auth.token).valid  # logout forgets; it does not revoke
    assert flow.logout() is False


def _no_flow(v: Verification) -> None:
    raise AssertionError("the cached token should have been used")


def test_the_requests_auth_never_sends_the_token_to_another_host(emulator: Emulator) -> None:
    seen: List[Dict[str, str]] = []
    from helpers.loopback import Loopback, send

    def respond(h: Any, body: bytes) -> None:
        seen.append({k.lower(): v for k, v in h.headers.items()})
        send(h, 200, b"{}")

    person = Person()
    flow = DeviceFlow("Ov23liE2E", base_url=emulator.url, on_verification=person)
    flow.token()
    with Loopback(respond) as other:
        requests.get(other.origin + "/collect", auth=flow.requests_auth())
    assert "authorization" not in seen[0]


def test_the_person_cancels_on_the_page(emulator: Emulator) -> None:
    person = Person(button="cancel")
    flow = DeviceFlow("Ov23liE2E", base_url=emulator.url, on_verification=person)
    with pytest.raises(AccessDenied):
        flow.token()
    person.wait()
    assert person.results == ["cancelled"]


def test_device_flow_disabled(emulator_binary: Path) -> None:
    emu = Emulator.start(emulator_binary, "--device-flow-disabled", client_id="Ov23liOff")
    try:
        flow = DeviceFlow("Ov23liOff", base_url=emu.url, on_verification=_no_flow)
        with pytest.raises(DeviceFlowDisabled) as info:
            flow.token()
        assert "device flow" in info.value.message.lower()
    finally:
        emu.stop()


def test_github_app_expiring_tokens_refresh_and_keep_the_new_pair(emulator_binary: Path, tmp_path: Path) -> None:
    emu = Emulator.start(emulator_binary, client_id="Iv23liApp", client_type="github-app")
    try:
        store = FileStore(tmp_path / "tokens.json")
        flow = DeviceFlow("Iv23liApp", client_type="github-app", base_url=emu.url, store=store, on_verification=Person())
        first = flow.token()
        assert first.token.startswith("ghu_") and first.refresh_token and first.refresh_token.startswith("ghr_")
        assert first.scopes is None
        assert first.expires is not None and 0 < first.expires_in() <= 8 * 3600
        second = flow.refresh()
        assert second.token != first.token and second.refresh_token != first.refresh_token
        assert flow.token() == second  # the new pair was stored
        assert flow.check().valid
        assert not flow.check(token=first.token).valid  # the old token died with its refresh token
        third = flow.refresh()  # the stored (new) refresh token works: single use respected
        assert third.token != second.token
    finally:
        emu.stop()


def test_begin_and_poll_one_step_at_a_time(emulator: Emulator) -> None:
    shown: List[Verification] = []
    flow = DeviceFlow("Ov23liE2E", base_url=emulator.url, on_verification=shown.append)
    step = flow.begin()
    assert isinstance(step, Pending) and step.verification is not None
    assert shown == [step.verification]
    assert enter_code(step.verification.verification_uri, step.verification.user_code) == "authorized"
    deadline = time.monotonic() + 10
    while isinstance(step, Pending):
        assert time.monotonic() < deadline
        wait_ms = (step.next_poll_at or 0) - time.time() * 1000
        time.sleep(max(wait_ms, 0) / 1000)
        step = flow.poll(step)
    assert isinstance(step, Authentication) and step.token.startswith("gho_")
    assert flow.token() == step


def test_https_with_the_emulators_certificate(emulator_binary: Path, tmp_path: Path) -> None:
    cert = tmp_path / "cert.pem"
    emu = Emulator.start(emulator_binary, "--tls", "--cert-out", str(cert))
    try:
        assert emu.url.startswith("https://")
        untrusted = DeviceFlow("Ov23liTLS", base_url=emu.url, on_verification=_no_flow)
        with pytest.raises(Exception) as info:
            untrusted.token()
        assert getattr(info.value, "code", "") == "network"
        trusted = DeviceFlow("Ov23liTLS", base_url=emu.url, ssl_context=ssl.create_default_context(cafile=str(cert)),
                             on_verification=_https_person(cert))
        assert trusted.token().token.startswith("gho_")
    finally:
        emu.stop()


def _https_person(cert: Path) -> Callable[[Verification], None]:
    ctx = ssl.create_default_context(cafile=str(cert))

    def act(v: Verification) -> None:
        import urllib.request

        handler = urllib.request.HTTPSHandler(context=ctx)
        opener = urllib.request.build_opener(handler)
        urllib.request.install_opener(opener)
        try:
            assert enter_code(v.verification_uri, v.user_code) == "authorized"
        finally:
            urllib.request.install_opener(urllib.request.build_opener())

    return act
