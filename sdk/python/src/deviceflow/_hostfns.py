"""The plugin's imports (wit: interface host), as Extism host functions.

They are registered once per process and shared by every instance; each
call's :class:`deviceflow._host.CallContext` reaches them as Extism's host
context. Each one is a thin adaptor: it reads the plugin's bytes, asks the
context, and writes the answer back. None of them may raise into Extism: a
Python exception there would be lost, so every failure becomes a valid
answer (an error record, or "cancelled").
"""

from __future__ import annotations

import json
from typing import Any, Callable, List

from extism import CurrentPlugin, Val, ValType, host_fn

NAMESPACE = "extism:host/user"

_PTR = [ValType.I64]
_I32 = [ValType.I32]
_I64 = [ValType.I64]


def _read(cp: CurrentPlugin, v: Val) -> bytes:
    return cp.input_bytes(v)


def _write(cp: CurrentPlugin, out: Val, answer: Any) -> None:
    """Writes a JSON answer into plugin memory; a failed write answers 0."""
    data = json.dumps(answer, separators=(",", ":")).encode("utf-8")
    try:
        mem = cp.alloc(len(data))
        cp.memory(mem)[:] = data
        out.value = mem.offset
    except Exception:
        out.value = 0


def _store_failure(message: str) -> Any:
    return {"error": {"kind": "store", "message": message}}


def _guarded(cp: CurrentPlugin, out: Val, body: Callable[[Any], Any], fallback: Callable[[BaseException], Any]) -> None:
    """Runs body with the call's context and writes its JSON answer."""
    ctx = cp.host_context()
    try:
        answer = body(ctx)
    except Exception as e:  # never let an exception escape into Extism
        answer = fallback(e)
    except BaseException as e:  # KeyboardInterrupt, SystemExit: re-raised after the call
        ctx.remember(e)
        answer = fallback(e)
    _write(cp, out, answer)


@host_fn(name="http_request", namespace=NAMESPACE, signature=(_PTR, _PTR))
def _http_request(cp: CurrentPlugin, inputs: List[Val], outputs: List[Val], *_: Any) -> None:
    def body(ctx: Any) -> Any:
        raw = _read(cp, inputs[0])
        try:
            req = json.loads(raw)
        except ValueError:
            return {"error": {"kind": "denied", "message": "malformed request from the plugin"}}
        return ctx.http(req)

    _guarded(cp, outputs[0], body, lambda e: {"error": {"kind": "network", "message": "the host failed to perform the request"}})


@host_fn(name="sleep", namespace=NAMESPACE, signature=(_I64, _I32))
def _sleep(cp: CurrentPlugin, inputs: List[Val], outputs: List[Val], *_: Any) -> None:
    ctx = cp.host_context()
    try:
        cancelled = ctx.sleep(int(inputs[0].value))
    except BaseException as e:
        ctx.remember(e)
        cancelled = True
    outputs[0].value = 1 if cancelled else 0


@host_fn(name="now", namespace=NAMESPACE, signature=([], _I64))
def _now(cp: CurrentPlugin, inputs: List[Val], outputs: List[Val], *_: Any) -> None:
    ctx = cp.host_context()
    try:
        outputs[0].value = int(ctx.now())
    except BaseException as e:
        ctx.remember(e)
        outputs[0].value = 0


@host_fn(name="store_get", namespace=NAMESPACE, signature=(_PTR, _PTR))
def _store_get(cp: CurrentPlugin, inputs: List[Val], outputs: List[Val], *_: Any) -> None:
    def body(ctx: Any) -> Any:
        value = ctx.store_get(_read(cp, inputs[0]).decode("utf-8"))
        return {} if value is None else {"value": value}

    _guarded(cp, outputs[0], body, lambda e: _store_failure(_describe(e)))


@host_fn(name="store_set", namespace=NAMESPACE, signature=(_PTR, _PTR))
def _store_set(cp: CurrentPlugin, inputs: List[Val], outputs: List[Val], *_: Any) -> None:
    def body(ctx: Any) -> Any:
        entry = json.loads(_read(cp, inputs[0]))
        if not isinstance(entry, dict) or not isinstance(entry.get("key"), str) or not isinstance(entry.get("value"), str):
            return _store_failure("malformed store entry from the plugin")
        ctx.store_set(entry["key"], entry["value"])
        return {}

    _guarded(cp, outputs[0], body, lambda e: _store_failure(_describe(e)))


@host_fn(name="store_delete", namespace=NAMESPACE, signature=(_PTR, _PTR))
def _store_delete(cp: CurrentPlugin, inputs: List[Val], outputs: List[Val], *_: Any) -> None:
    def body(ctx: Any) -> Any:
        ctx.store_delete(_read(cp, inputs[0]).decode("utf-8"))
        return {}

    _guarded(cp, outputs[0], body, lambda e: _store_failure(_describe(e)))


@host_fn(name="emit", namespace=NAMESPACE, signature=(_PTR, _I32))
def _emit(cp: CurrentPlugin, inputs: List[Val], outputs: List[Val], *_: Any) -> None:
    ctx = cp.host_context()
    try:
        cancelled = ctx.emit(_read(cp, inputs[0]))
    except BaseException as e:
        ctx.remember(e)
        cancelled = True
    outputs[0].value = 1 if cancelled else 0


def _describe(e: BaseException) -> str:
    """A store failure's message: the exception's own, which names no value."""
    message = str(e)
    return message if message else type(e).__name__


#: Every import of the plugin, in the order of wit/deviceflow.wit.
FUNCTIONS = [_http_request, _sleep, _now, _store_get, _store_set, _store_delete, _emit]
