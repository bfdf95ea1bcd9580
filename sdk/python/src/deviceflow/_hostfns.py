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
    return bytes(cp.input_bytes(v))


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


def _run(cp: CurrentPlugin, body: Callable[[Any], Any], fallback: Callable[[BaseException], Any], remember_all: bool = False) -> Any:
    """Runs body with the call's context; a failure answers fallback(e).

    KeyboardInterrupt, SystemExit (and, with ``remember_all``, any
    exception: a user hook failed) are remembered, to be re-raised once the
    plugin has stopped.
    """
    ctx = None
    try:
        ctx = cp.host_context()
        return body(ctx)
    except BaseException as e:  # never let an exception escape into Extism
        if ctx is not None and (remember_all or not isinstance(e, Exception)):
            ctx.remember(e)
        return fallback(e)


def _network_failure(e: BaseException) -> Any:
    return {"error": {"kind": "network", "message": "the host failed to perform the request"}}


def _store_failed(e: BaseException) -> Any:
    return _store_failure(_describe(e))


@host_fn(name="http_request", namespace=NAMESPACE, signature=(_PTR, _PTR))
def _http_request(cp: CurrentPlugin, inputs: List[Val], outputs: List[Val], *_: Any) -> None:
    def body(ctx: Any) -> Any:
        try:
            req = json.loads(_read(cp, inputs[0]))
        except ValueError:
            return {"error": {"kind": "denied", "message": "malformed request from the plugin"}}
        return ctx.http(req)

    _write(cp, outputs[0], _run(cp, body, _network_failure))


@host_fn(name="sleep", namespace=NAMESPACE, signature=(_I64, _I32))
def _sleep(cp: CurrentPlugin, inputs: List[Val], outputs: List[Val], *_: Any) -> None:
    cancelled = _run(cp, lambda ctx: ctx.sleep(int(inputs[0].value)), lambda e: True, remember_all=True)
    outputs[0].value = 1 if cancelled else 0


@host_fn(name="now", namespace=NAMESPACE, signature=([], _I64))
def _now(cp: CurrentPlugin, inputs: List[Val], outputs: List[Val], *_: Any) -> None:
    outputs[0].value = int(_run(cp, lambda ctx: ctx.now(), lambda e: 0, remember_all=True))


@host_fn(name="store_get", namespace=NAMESPACE, signature=(_PTR, _PTR))
def _store_get(cp: CurrentPlugin, inputs: List[Val], outputs: List[Val], *_: Any) -> None:
    def body(ctx: Any) -> Any:
        value = ctx.store_get(_read(cp, inputs[0]).decode("utf-8"))
        return {} if value is None else {"value": value}

    _write(cp, outputs[0], _run(cp, body, _store_failed))


@host_fn(name="store_set", namespace=NAMESPACE, signature=(_PTR, _PTR))
def _store_set(cp: CurrentPlugin, inputs: List[Val], outputs: List[Val], *_: Any) -> None:
    def body(ctx: Any) -> Any:
        entry = json.loads(_read(cp, inputs[0]))
        if not isinstance(entry, dict) or not isinstance(entry.get("key"), str) or not isinstance(entry.get("value"), str):
            return _store_failure("malformed store entry from the plugin")
        ctx.store_set(entry["key"], entry["value"])
        return {}

    _write(cp, outputs[0], _run(cp, body, _store_failed))


@host_fn(name="store_delete", namespace=NAMESPACE, signature=(_PTR, _PTR))
def _store_delete(cp: CurrentPlugin, inputs: List[Val], outputs: List[Val], *_: Any) -> None:
    def body(ctx: Any) -> Any:
        ctx.store_delete(_read(cp, inputs[0]).decode("utf-8"))
        return {}

    _write(cp, outputs[0], _run(cp, body, _store_failed))


@host_fn(name="emit", namespace=NAMESPACE, signature=(_PTR, _I32))
def _emit(cp: CurrentPlugin, inputs: List[Val], outputs: List[Val], *_: Any) -> None:
    cancelled = _run(cp, lambda ctx: ctx.emit(_read(cp, inputs[0])), lambda e: True, remember_all=True)
    outputs[0].value = 1 if cancelled else 0


def _describe(e: BaseException) -> str:
    """A store failure's message: the exception's own, which names no value."""
    message = str(e)
    return message if message else type(e).__name__


#: Every import of the plugin, in the order of wit/deviceflow.wit.
FUNCTIONS = [_http_request, _sleep, _now, _store_get, _store_set, _store_delete, _emit]
