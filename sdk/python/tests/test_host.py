"""The Python host around the real plugin: callbacks, cancellation, failures, threads."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Dict, List

import pytest

import deviceflow
from deviceflow import (
    AccessDenied,
    Cancelled,
    DeviceFlow,
    DeviceFlowError,
    Host,
    InvalidInput,
    MemoryStore,
    NetworkError,
    NotFound,
    PluginError,
    StoreError,
    _hostfns,
    _runtime,
)
from helpers.loopback import Loopback, send

TOKEN = "gho_16C7e42F292c6912E7710c838347Ae178B4a"
WIT = Path(__file__).resolve().parents[3] / "wit" / "deviceflow.wit"


def github(pending_polls: int = 0, final: Dict[str, Any] = None) -> Any:
    """A loopback GitHub: a device code, some pending polls, then `final`."""
    polls = {"n": 0}
    final = final or {"access_token": TOKEN, "token_type": "bearer", "scope": "repo"}

    def respond(h: BaseHTTPRequestHandler, body: bytes) -> None:
        js = [("Content-Type", "application/json")]
        if h.path == "/login/device/code":
            send(h, 200, json.dumps({
                "device_code": "DC", "user_code": "ABCD-EFGH",
                "verification_uri": "https://github.com/login/device", "expires_in": 900, "interval": 5,
            }).encode(), js)
        elif h.path == "/login/oauth/access_token":
            polls["n"] += 1
            answer = {"error": "authorization_pending"} if polls["n"] <= pending_polls else final
            send(h, 200, json.dumps(answer).encode(), js)
        else:
            send(h, 404)

    return Loopback(respond)


class FakeTime:
    """Clocks and a sleep that only pretend, as in the conformance vectors."""

    def __init__(self) -> None:
        self.ms = 1767225600000
        self.mono = 1000000000
        self.sleeps: List[int] = []

    def now_ms(self) -> int:
        return self.ms

    def monotonic_ms(self) -> int:
        return self.mono

    def sleep_ms(self, ms: int, cancel: threading.Event) -> bool:
        self.sleeps.append(ms)
        self.ms += ms
        self.mono += ms
        return False


def test_info_matches_the_contract() -> None:
    info = deviceflow.info()
    wit = WIT.read_text()
    assert info["name"] == "deviceflow"
    assert info["abi"].split(".")[0] == "2"
    assert f"package deviceflow:plugin@{info['abi']};" in wit
    for export in info["exports"]:
        assert f"export {export}: func" in wit
    for imp in info["imports"]:
        assert f"{imp.replace('_', '-')}: func" in wit
    assert info["imports"] == [
        "http_request", "sleep", "now", "monotonic", "store_get", "store_swap", "store_lock", "store_unlock", "emit",
    ]
    # The host supplies every import (and ABI 1's retired two, so that an old plugin is refused clearly).
    assert [f.name for f in _hostfns.IMPORTS] == info["imports"]


def test_a_whole_flow_with_fake_time_emits_events_and_stores_the_token() -> None:
    t = FakeTime()
    events: List[Dict[str, Any]] = []
    shown: List[deviceflow.Verification] = []
    with github(pending_polls=1) as srv:
        flow = DeviceFlow("Ov23li", scopes="repo", base_url=srv.origin, on_verification=shown.append,
                          on_event=events.append, now_ms=t.now_ms, monotonic_ms=t.monotonic_ms, sleep_ms=t.sleep_ms)
        auth = flow.token()
        again = flow.token()  # from the cache: no new request
        requests = len(srv.requests)
    assert auth.token == TOKEN and auth.scopes == ("repo",) and auth.client_type == "oauth-app"
    assert again == auth
    assert requests == 3
    assert t.sleeps == [5250, 5250]
    assert [e["type"] for e in events] == ["verification", "polling", "polling"]
    assert shown[0].user_code == "ABCD-EFGH" and shown[0].interval == 5
    assert all(TOKEN not in json.dumps(e) for e in events)
    assert TOKEN not in repr(auth)
    assert [TOKEN in v for v in flow.store.snapshot().values()] == [True]  # type: ignore[attr-defined]


def test_form_encoding_for_other_rfc8628_servers() -> None:
    t = FakeTime()
    with github() as srv:
        flow = DeviceFlow("Ov23li", scopes="repo", base_url=srv.origin, encoding="form",
                          on_verification=lambda v: None, now_ms=t.now_ms, monotonic_ms=t.monotonic_ms, sleep_ms=t.sleep_ms)
        flow.token()
        _, path, headers, body = srv.requests[0]
    assert path == "/login/device/code"
    assert headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert body == b"client_id=Ov23li&scope=repo"


def test_raising_cancelled_from_on_verification_stops_the_flow() -> None:
    def refuse(v: deviceflow.Verification) -> None:
        raise Cancelled("the user closed the window")

    with github() as srv:
        flow = DeviceFlow("Ov23li", base_url=srv.origin, on_verification=refuse)
        with pytest.raises(Cancelled):
            flow.token()
        assert [r[1] for r in srv.requests] == ["/login/device/code"]


def test_any_other_exception_from_a_callback_stops_the_flow_and_propagates() -> None:
    class Boom(Exception):
        pass

    def explode(v: deviceflow.Verification) -> None:
        raise Boom("from the app")

    with github() as srv:
        flow = DeviceFlow("Ov23li", base_url=srv.origin, on_verification=explode)
        with pytest.raises(Boom, match="from the app"):
            flow.token()
        assert [r[1] for r in srv.requests] == ["/login/device/code"]
        # The instance is still good for the next call.
        assert flow.logout() is False


def test_a_cancel_event_cuts_a_real_sleep_short() -> None:
    cancel = threading.Event()
    with github(pending_polls=100) as srv:
        flow = DeviceFlow("Ov23li", base_url=srv.origin, on_verification=lambda v: None)
        threading.Timer(0.3, cancel.set).start()
        t0 = time.monotonic()
        with pytest.raises(Cancelled):
            flow.token(cancel=cancel)
        elapsed = time.monotonic() - t0
    assert elapsed < 2.0  # the plugin asked to sleep 5.25 s


def test_an_already_cancelled_call_does_not_start() -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled, match="before the call started"):
        DeviceFlow("Ov23li").token(cancel=cancel)


def test_ctrl_c_during_a_sleep_stops_the_flow_and_is_re_raised() -> None:
    def interrupted(ms: int, cancel: threading.Event) -> bool:
        raise KeyboardInterrupt

    with github(pending_polls=100) as srv:
        flow = DeviceFlow("Ov23li", base_url=srv.origin, on_verification=lambda v: None, sleep_ms=interrupted)
        with pytest.raises(KeyboardInterrupt):
            flow.token()
        assert flow.logout() is False  # the host is still usable


def test_a_failing_sleep_hook_stops_the_flow_and_propagates() -> None:
    def broken(ms: int, cancel: threading.Event) -> bool:
        raise ValueError("the hook broke")

    with github(pending_polls=100) as srv:
        flow = DeviceFlow("Ov23li", base_url=srv.origin, on_verification=lambda v: None, sleep_ms=broken)
        with pytest.raises(ValueError, match="the hook broke"):
            flow.token()


def test_server_errors_are_typed() -> None:
    with github(final={"error": "access_denied", "error_description": "The user said no."}) as srv:
        t = FakeTime()
        flow = DeviceFlow("Ov23li", base_url=srv.origin, on_verification=lambda v: None, now_ms=t.now_ms,
                          monotonic_ms=t.monotonic_ms, sleep_ms=t.sleep_ms)
        with pytest.raises(AccessDenied) as info:
            flow.token()
    e = info.value
    assert e.code == "access_denied" and e.error == "access_denied"
    assert isinstance(e, DeviceFlowError)


def test_an_unreachable_server_is_a_network_error() -> None:
    flow = DeviceFlow("Ov23li", base_url="http://127.0.0.1:1", on_verification=lambda v: None)
    with pytest.raises(NetworkError):
        flow.token()


def test_a_host_outside_the_allow_list_is_refused_by_the_sandbox() -> None:
    with github() as srv:
        flow = DeviceFlow("Ov23li", base_url=srv.origin, allowed_hosts=["github.com"], on_verification=lambda v: None)
        with pytest.raises(DeviceFlowError) as info:
            flow.token()
        assert srv.requests == []
    assert info.value.code == "http_denied"


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"client_id": ""}, "clientId"),
        ({"client_id": "x", "client_type": "gitlab-app"}, "clientType"),
        ({"client_id": "x", "base_url": "http://ghe.example.com"}, "baseUrl"),
    ],
)
def test_bad_input_is_invalid_input_naming_the_field(kwargs: Dict[str, Any], field: str) -> None:
    try:
        flow = DeviceFlow(**kwargs)
        flow.token()
    except InvalidInput as e:
        assert field in e.message
    else:
        pytest.fail("no InvalidInput")


def test_malformed_json_input_to_the_low_level_host() -> None:
    with pytest.raises(InvalidInput):
        Host().call("authenticate", b"{not json")


def test_an_unknown_export_is_a_typed_error_not_a_crash() -> None:
    with pytest.raises(PluginError):
        Host().call("no_such_export", b"{}")
    assert deviceflow.info()["name"] == "deviceflow"  # still fine afterwards


def test_logout_and_check_without_a_token() -> None:
    flow = DeviceFlow("Ov23li", store=MemoryStore())
    assert flow.logout() is False
    with pytest.raises(NotFound):
        flow.check()


def test_a_failing_store_is_a_store_error_with_its_message() -> None:
    class Broken:
        def get(self, key: str) -> None:
            raise OSError("disk on fire")

        def set(self, key: str, value: str) -> None:
            raise OSError("disk on fire")

        def delete(self, key: str) -> None:
            raise OSError("disk on fire")

    flow = DeviceFlow("Ov23li", store=Broken())
    with pytest.raises(StoreError, match="disk on fire"):
        flow.logout()


def test_concurrent_calls_from_threads() -> None:
    host = Host()
    errors: List[BaseException] = []

    def work() -> None:
        try:
            for _ in range(20):
                assert host.call_json("info", {})["name"] == "deviceflow"
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert len(_runtime._idle) <= 4


def test_the_packaged_plugin_is_the_repositorys() -> None:
    repo_wasm = Path(__file__).resolve().parents[3] / "plugin" / "deviceflow.wasm"
    assert _runtime.wasm_path().read_bytes() == repo_wasm.read_bytes()
    assert (_runtime.wasm_path().parent / "py.typed").is_file()


# The last commit whose plugin implements ABI 1 (contract v1).
_ABI1_COMMIT = "8870a95"


def test_a_plugin_of_another_major_abi_is_refused_with_a_typed_error(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[3]
    old = tmp_path / "abi1.wasm"
    try:
        blob = subprocess.run(["git", "show", f"{_ABI1_COMMIT}:plugin/deviceflow.wasm"], cwd=repo,
                              capture_output=True, check=True, timeout=60).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("the ABI 1 plugin is not in this checkout's history")
    old.write_bytes(blob)
    code = (
        "import sys\nfrom pathlib import Path\nimport deviceflow\nfrom deviceflow import _runtime\n"
        "_runtime.wasm_path = lambda: Path(sys.argv[1])\n"
        "for _ in range(2):\n"
        "    try:\n        deviceflow.DeviceFlow('Ov23li').logout()\n"
        "    except deviceflow.IncompatiblePlugin as e:\n"
        "        print(e.code, e.abi, e.expected, isinstance(e, deviceflow.PluginError))\n        print(e.message)\n"
    )
    r = subprocess.run([sys.executable, "-c", code, str(old)], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, DEVICEFLOW_CACHE_DIR="off"))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "incompatible_plugin 1.0.0 2 True"
    assert "ABI 1.0.0" in lines[1] and "ABI 2" in lines[1]
    assert lines[2:] == lines[:2]  # refused again, the same way


@pytest.mark.parametrize("info", [{"abi": "1.0.0"}, {"abi": "3.0.0"}, {"abi": 2}, {}, None, {"abi": "20.0.0"}])
def test_check_abi_refuses_any_other_major(info: Any) -> None:
    with pytest.raises(deviceflow.IncompatiblePlugin):
        _runtime.check_abi(info)


def test_check_abi_accepts_any_2_x() -> None:
    _runtime.check_abi({"abi": "2.0.0"})
    _runtime.check_abi({"abi": "2.7.1"})


def test_the_monotonic_clock() -> None:
    real = Host()
    a = real.monotonic_ms()
    time.sleep(0.02)
    assert 15 <= real.monotonic_ms() - a < 1000
    # A fake wall clock alone serves as both clocks; a fake monotonic clock is taken as given.
    assert Host(now_ms=lambda: 42).monotonic_ms() == 42
    assert Host(now_ms=lambda: 42, monotonic_ms=lambda: 7).monotonic_ms() == 7


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name != "posix", reason="POSIX signals")
def test_a_signal_outside_host_code_is_deferred_not_lost() -> None:
    # Python runs a handler at the next line it executes; during a plugin
    # call that is the next host function, whose first lines are Extism's,
    # which swallow exceptions. The call defers it instead: remembered, so
    # the plugin stops at its next host function and the call raises it.
    from deviceflow._host import CallContext, signals_deferred

    ctx = CallContext(None, threading.Event())  # type: ignore[arg-type]
    with signals_deferred(ctx):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # the handler runs here: not inside a host function
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert ctx.stopping() and ctx.sleep(60_000)
    with pytest.raises(KeyboardInterrupt):
        ctx.reraise()

    # Inside a host function's own code the handler raises as it is (the
    # host function catches it, ending a sleep or a request at once).
    ctx = CallContext(None, threading.Event())  # type: ignore[arg-type]
    with signals_deferred(ctx):
        ctx.in_body = 1
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
        ctx.in_body = 0
    assert not ctx.stopping()
