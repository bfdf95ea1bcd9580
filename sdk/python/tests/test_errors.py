"""Typed errors: one class per contract code, all under DeviceFlowError."""

from __future__ import annotations

import json

import pytest

import deviceflow
from deviceflow import DeviceFlowDisabled, DeviceFlowError, error_class
from deviceflow.errors import from_plugin

INTERNAL = {"authorization_pending", "slow_down"}


def test_every_code_the_plugin_names_has_its_own_class() -> None:
    for code in deviceflow.info()["errorCodes"]:
        if code in INTERNAL:
            continue
        cls = error_class(code)
        assert cls is not DeviceFlowError, code
        assert issubclass(cls, DeviceFlowError)
        assert cls.__name__ in deviceflow.__all__, cls.__name__


def test_the_named_classes_of_the_issue() -> None:
    assert error_class("access_denied") is deviceflow.AccessDenied
    assert error_class("expired_token") is deviceflow.ExpiredToken
    assert error_class("unsupported") is DeviceFlowDisabled
    assert error_class("device_flow_disabled") is DeviceFlowDisabled


def test_from_plugin_keeps_every_field() -> None:
    e = from_plugin(json.dumps({
        "code": "access_denied", "message": "The user cancelled.", "error": "access_denied",
        "description": "denied", "uri": "https://docs.github.com", "status": 200,
    }))
    assert isinstance(e, deviceflow.AccessDenied)
    assert (e.code, e.message, e.error, e.description, e.uri, e.status) == (
        "access_denied", "The user cancelled.", "access_denied", "denied", "https://docs.github.com", 200,
    )
    assert str(e) == "The user cancelled."


def test_an_unknown_code_is_still_a_deviceflow_error_with_that_code() -> None:
    e = from_plugin('{"code":"brand_new","message":"m"}')
    assert type(e) is DeviceFlowError and e.code == "brand_new"


@pytest.mark.parametrize("raw", ["wasm trap: unreachable", "[]", '{"message":"no code"}', '{"code":""}'])
def test_non_contract_messages_are_not_parsed(raw: str) -> None:
    assert from_plugin(raw) is None
