"""Plays every vector in wit/conformance/vectors through the real plugin in this host.

The semantics are those of wit/conformance/README.md, the same as the Go
runner (host/conformance_test.go): a scripted server on 127.0.0.1, a fake
wall clock and a fake monotonic clock, a fake sleep, an in-memory store with
compare-and-swap and leases (and, when the vector says so, another holder of
a lease, or another process writing while a request is in flight), an event
sink, a 1 s cap per request; then exact checks of the result or error, the
exchanges (with the timeoutMs the plugin asked for), the sleeps, the events,
the store, and that no call left a lease held.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

from deviceflow import Cancelled, DeviceFlowError, Host, MemoryStore
from deviceflow.stores._keyed import Release
from helpers.jsoncmp import RawNumber, matches, strict_equal, text_equal
from helpers.scripted import Script, ScriptedServer, apply_writes

VECTORS = Path(__file__).resolve().parents[3] / "wit" / "conformance" / "vectors"
DEFAULT_CLOCK = 1767225600000
DEFAULT_MONO_CLOCK = 1000000000

_VECTOR_FIELDS = {
    "name", "description", "rules", "export", "input", "clock", "monoClock", "wallSteps", "store",
    "otherLease", "exchanges", "sleeps", "cancelAtSleep", "cancelAtEvent", "events", "storeAfter",
    "result", "error", "calls",
}
_CALL_FIELDS = {"export", "input", "result", "error", "advanceMs"}
_EXCHANGE_FIELDS = {"request", "response", "fault", "advanceMs", "storeWrites"}
_REQUEST_FIELDS = {"method", "url", "headers", "absentHeaders", "json", "form", "body", "timeoutMs"}
_RESPONSE_FIELDS = {"status", "headers", "json", "body"}
_ERROR_FIELDS = {"code", "message", "messageContains", "error", "description", "uri", "status"}


def _vector_files() -> List[Path]:
    files = sorted(VECTORS.glob("*.json"))
    assert files, f"no conformance vectors in {VECTORS}"
    return files


def _check_fields(where: str, obj: Any, allowed: set) -> None:
    assert isinstance(obj, dict), f"bad vector: {where} is not an object"
    unknown = set(obj) - allowed
    assert not unknown, f"bad vector: unknown field(s) {sorted(unknown)} in {where}"


def _validate(v: Dict[str, Any]) -> None:
    _check_fields("the vector", v, _VECTOR_FIELDS)
    for i, c in enumerate(v.get("calls") or []):
        _check_fields(f"calls[{i}]", c, _CALL_FIELDS)
        if c.get("error") is not None:
            _check_fields(f"calls[{i}].error", c["error"], _ERROR_FIELDS)
    for i, ex in enumerate(v.get("exchanges") or []):
        _check_fields(f"exchanges[{i}]", ex, _EXCHANGE_FIELDS)
        _check_fields(f"exchanges[{i}].request", ex.get("request") or {}, _REQUEST_FIELDS)
        if ex.get("response") is not None:
            _check_fields(f"exchanges[{i}].response", ex["response"], _RESPONSE_FIELDS)
    if v.get("error") is not None:
        _check_fields("error", v["error"], _ERROR_FIELDS)
    if v.get("otherLease") is not None:
        _check_fields("otherLease", v["otherLease"], {"key", "writes"})
    for i, step in enumerate(v.get("wallSteps") or []):
        _check_fields(f"wallSteps[{i}]", step, {"atSleep", "ms"})


class FakeWorld:
    """The vector's clocks, sleeps and events.

    The wall clock and the monotonic clock move together on sleeps and on
    ``advanceMs``; a wall step moves the wall clock alone.
    """

    def __init__(
        self,
        clock: int,
        mono: int,
        wall_steps: List[Dict[str, int]],
        cancel_at_sleep: int,
        cancel_at_event: str,
    ) -> None:
        self.lock = threading.Lock()
        self.clock = clock
        self.mono = mono
        self.wall_steps = wall_steps
        self.sleeps: List[int] = []
        self.events: List[Dict[str, Any]] = []
        self.cancel_at_sleep = cancel_at_sleep
        self.cancel_at_event = cancel_at_event
        self.event_cancelled = False

    def advance(self, ms: int) -> None:
        with self.lock:
            self.clock += ms
            self.mono += ms

    def now_ms(self) -> int:
        with self.lock:
            return self.clock

    def monotonic_ms(self) -> int:
        with self.lock:
            return self.mono

    def sleep_ms(self, ms: int, cancel: threading.Event) -> bool:
        with self.lock:
            self.sleeps.append(ms)
            if len(self.sleeps) == self.cancel_at_sleep:
                return True
            self.clock += ms
            self.mono += ms
            for step in self.wall_steps:
                if step.get("atSleep") == len(self.sleeps):
                    self.clock += int(step.get("ms") or 0)
            return False

    def on_event(self, event: Dict[str, Any]) -> None:
        with self.lock:
            self.events.append(event)
            if self.cancel_at_event and event.get("type") == self.cancel_at_event and not self.event_cancelled:
                self.event_cancelled = True
                raise Cancelled("cancelled by the vector")


class VectorStore(MemoryStore):
    """The runner's store: a MemoryStore that plays the vector's other lease holder.

    While the other holder has the lease on its key, a lock that does not
    wait is busy; one that waits lets the holder finish (its writes) and
    takes the lease at once.
    """

    def __init__(self, initial: Dict[str, str], other: Optional[Dict[str, Any]]) -> None:
        super().__init__(initial)
        self.other = other
        self._other_guard = threading.Lock()

    def lock(self, key: str, wait: float, cancel: Optional[threading.Event] = None) -> Optional[Release]:
        with self._other_guard:
            other = self.other
            if other is not None and other.get("key") == key:
                if wait <= 0:
                    return None
                apply_writes(self, other.get("writes") or {})
                self.other = None
        return super().lock(key, wait, cancel)


class RecordingHost(Host):
    """A Host that tells the script the timeoutMs of every request the plugin makes."""

    script: Script

    def perform_http(self, req: Any) -> Dict[str, Any]:
        if isinstance(req, dict):
            with self.script.lock:
                self.script.timeouts.append(req.get("timeoutMs"))
        return super().perform_http(req)


def _check_outcome(label: str, out: Optional[bytes], err: Optional[DeviceFlowError], result: Any, want_err: Any) -> List[str]:
    problems: List[str] = []
    if want_err is not None:
        if err is None:
            return [f"{label}: got {out!r}; want error {want_err.get('code')}"]
        if err.code != want_err.get("code"):
            problems.append(f"{label}: error code {err.code} ({err.message}), want {want_err.get('code')}")
        for field, got in (
            ("message", err.message),
            ("error", err.error or ""),
            ("description", err.description or ""),
            ("uri", err.uri or ""),
        ):
            if field in want_err and got != want_err[field]:
                problems.append(f"{label}: error {field} = {got!r}, want {want_err[field]!r}")
        if "status" in want_err and (err.status or 0) != want_err["status"]:
            problems.append(f"{label}: error status {err.status}, want {want_err['status']}")
        if want_err.get("messageContains") and want_err["messageContains"] not in err.message:
            problems.append(f"{label}: error message {err.message!r} lacks {want_err['messageContains']!r}")
        return problems
    if err is not None:
        return [f"{label}: unexpected error {err.code}: {err.message}"]
    if result is not None:
        try:
            got = json.loads(out or b"")
        except ValueError:
            return [f"{label}: output is not JSON: {out!r}"]
        if not matches(got, result):
            problems.append(f"{label}: result {json.dumps(got)}, want {json.dumps(result)}")
    return problems


def _check_store(got: Dict[str, str], want: Dict[str, str]) -> List[str]:
    problems = []
    for key in sorted(set(got) | set(want)):
        if key not in got:
            problems.append(f"store: missing {key}")
        elif key not in want:
            problems.append(f"store: unexpected {key} = {got[key]}")
        elif not text_equal(got[key], want[key]):
            problems.append(f"store: {key} = {got[key]}, want {want[key]}")
    return problems


def play(path: Path) -> List[str]:
    """Plays one vector; returns every mismatch (empty when it passes)."""
    text = path.read_text(encoding="utf-8")
    world: FakeWorld
    script = Script([], [], lambda ms: world.advance(ms))
    with ScriptedServer(script) as server:
        text = text.replace("{server}", server.origin)
        v = json.loads(text)
        raw = json.loads(text, parse_float=RawNumber, parse_int=RawNumber)
        _validate(v)
        problems: List[str] = []
        if v.get("name") != path.stem:
            problems.append(f"vector name {v.get('name')!r} does not match its file {path.stem!r}")
        script.exchanges = v.get("exchanges") or []
        script.raw_exchanges = raw.get("exchanges") or []
        world = FakeWorld(
            v.get("clock") or DEFAULT_CLOCK,
            v.get("monoClock") or DEFAULT_MONO_CLOCK,
            v.get("wallSteps") or [],
            v.get("cancelAtSleep") or 0,
            v.get("cancelAtEvent") or "",
        )
        store = VectorStore(v.get("store") or {}, v.get("otherLease"))
        script.store = store
        host = RecordingHost(
            base_url=server.origin,
            request_timeout=1.0,
            store=store,
            on_event=world.on_event,
            now_ms=world.now_ms,
            monotonic_ms=world.monotonic_ms,
            sleep_ms=world.sleep_ms,
        )
        host.script = script
        calls = v.get("calls") or [
            {k: v[k] for k in ("export", "input", "result", "error") if k in v}
        ]
        prev_state: Any = None
        for i, c in enumerate(calls):
            world.advance(int(c.get("advanceMs") or 0))
            # An absent input is no input at all (empty bytes), as in the Go runner.
            input_text = json.dumps(c["input"]) if "input" in c else ""
            if prev_state is not None:
                input_text = input_text.replace('"{state}"', json.dumps(prev_state))
            out: Optional[bytes] = None
            err: Optional[DeviceFlowError] = None
            try:
                out = host.call(c["export"], input_text)
            except DeviceFlowError as e:
                err = e
            label = f"call {i + 1} ({c['export']})"
            if store.leased():
                problems.append(f"{label}: the call left leases held on {sorted(store.leased())}")
            problems += _check_outcome(label, out, err, c.get("result"), c.get("error"))
            if out is not None:
                try:
                    decoded = json.loads(out)
                except ValueError:
                    decoded = None
                if isinstance(decoded, dict) and decoded.get("state") is not None:
                    prev_state = decoded["state"]
    with script.lock:
        problems += script.failures
        if script.next != len(script.exchanges):
            problems.append(f"{script.next} of {len(script.exchanges)} exchanges used")
    if world.sleeps != (v.get("sleeps") or []):
        problems.append(f"sleeps {world.sleeps}, want {v.get('sleeps') or []}")
    want_events = v.get("events") or []
    if len(world.events) != len(want_events):
        got = "\n      ".join(json.dumps(e) for e in world.events)
        problems.append(f"{len(world.events)} events, want {len(want_events)}:\n got: {got}")
    else:
        for i, (g, w) in enumerate(zip(world.events, want_events, strict=True)):
            if not strict_equal(g, w):
                problems.append(f"event {i + 1} = {json.dumps(g)}, want {json.dumps(w)}")
    want_store = v["storeAfter"] if v.get("storeAfter") is not None else (v.get("store") or {})
    problems += _check_store(store.snapshot(), want_store)
    return problems


@pytest.mark.parametrize("path", _vector_files(), ids=lambda p: p.stem)
def test_vector(path: Path) -> None:
    problems = play(path)
    assert not problems, "\n".join(problems)
