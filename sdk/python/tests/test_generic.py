"""The generic profile end to end: a device flow against the Go emulator's
generic RFC 8628 server from its issuer URL alone (discovery under an issuer
path, a client secret, an id_token, userinfo and revocation), approved
through its page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
from test_e2e import Person

from deviceflow import DeviceFlow, IncorrectClientCredentials
from deviceflow._runtime import info
from helpers.emulator import Emulator

SECRET = "py-generic-secret"


@pytest.fixture()
def generic(emulator_binary: Path) -> Iterator[Emulator]:
    emu = Emulator.start(emulator_binary, "--profile", "generic", "--client-secret", SECRET, interval="50ms", client_id="py-generic")
    try:
        yield emu
    finally:
        emu.stop()


def test_device_flow_from_an_issuer_alone(generic: Emulator) -> None:
    issuer = generic.url
    assert issuer.endswith("/realms/emulator")
    person = Person()
    events: List[Dict[str, Any]] = []
    flow = DeviceFlow(
        "py-generic",
        scopes=["openid", "profile"],
        issuer=issuer,
        client_secret=SECRET,
        on_verification=person,
        on_event=events.append,
    )
    a = flow.token()
    person.wait()
    assert person.results == ["authorized"]
    assert a.token_type == "bearer" and a.client_type is None
    assert a.scopes == ("openid", "profile")
    assert a.id_token and a.expires_at and a.refresh_token is None
    assert "clientType" not in a.to_dict()
    assert events[0]["type"] == "endpoints" and events[0]["issuer"] == issuer
    for e in events:
        text = json.dumps(e)
        for secret in (a.token, a.id_token, SECRET):
            assert secret not in text
    assert flow.token().token == a.token
    check = flow.check()
    assert check.valid and check.login == "octocat" and check.sub
    assert flow.logout()
    assert not flow.check(token=a.token).valid, "logout revoked the token at the server"


def test_wrong_secret_is_incorrect_client_credentials(generic: Emulator) -> None:
    flow = DeviceFlow("py-generic", issuer=generic.url, client_secret="not-the-secret", on_verification=lambda v: None)
    with pytest.raises(IncorrectClientCredentials) as err:
        flow.token()
    assert "not-the-secret" not in str(err.value)


def test_info_answers_the_issuer_origin_to_allow() -> None:
    out = info({"issuer": "https://idp.example.com/realms/r"})
    assert out["allow"] == ["https://idp.example.com"]
    assert out["endpoints"]["discover"] is True
