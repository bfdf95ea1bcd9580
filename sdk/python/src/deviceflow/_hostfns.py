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
        ctx.in_body += 1  # a signal may raise here (see _host.signals_deferred)
        try:
            return body(ctx)
        finally:
            ctx.in_body -= 1
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


@host_fn(name="monotonic", namespace=NAMESPACE, signature=([], _I64))
def _monotonic(cp: CurrentPlugin, inputs: List[Val], outputs: List[Val], *_: Any) -> None:
    outputs[0].value = int(_run(cp, lambda ctx: ctx.monotonic(), lambda e: 0, remember_all=True))


def _record(cp: CurrentPlugin, v: Val) -> Any:
    """Reads a JSON object from the plugin; None when it is not one."""
    try:
        rec = json.loads(_read(cp, v))
    except ValueError:
        return None
    return rec if isinstance(rec, dict) and isinstance(rec.get("key"), str) else None


def _opt_str(rec: Any, name: str) -> Any:
    """A record's optional string field: its value, None when absent or null, or False when malformed."""
    value = rec.get(name)
    return value if value is None or isinstance(value, str) else False


def _wait_ms(rec: Any, name: str) -> Any:
    value = rec.get(name, 0)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return None
    return value


@host_fn(name="store_swap", namespace=NAMESPACE, signature=(_PTR, _PTR))
def _store_swap(cp: CurrentPlugin, inputs: List[Val], outputs: List[Val], *_: Any) -> None:
    def body(ctx: Any) -> Any:
        rec = _record(cp, inputs[0])
        old = _opt_str(rec, "old") if rec is not None else False
        new = _opt_str(rec, "new") if rec is not None else False
        if rec is None or old is False or new is False:
            return _store_failure("malformed store_swap record from the plugin")
        swapped, current = ctx.store_swap(rec["key"], old, new)
        if swapped:
            return {}
        return {"conflict": True} if current is None else {"conflict": True, "value": current}

    _write(cp, outputs[0], _run(cp, body, _store_failed))


@host_fn(name="store_lock", namespace=NAMESPACE, signature=(_PTR, _PTR))
def _store_lock(cp: CurrentPlugin, inputs: List[Val], outputs: List[Val], *_: Any) -> None:
    def body(ctx: Any) -> Any:
        rec = _record(cp, inputs[0])
        wait = _wait_ms(rec, "waitMs") if rec is not None else None
        if rec is None or wait is None:
            return _store_failure("malformed store_lock record from the plugin")
        return ctx.store_lock(rec["key"], wait)

    def failed(e: BaseException) -> Any:
        # Ctrl-C while waiting (remembered by _run) stops the call.
        return _store_failed(e) if isinstance(e, Exception) else {"cancelled": True}

    _write(cp, outputs[0], _run(cp, body, failed))


@host_fn(name="store_unlock", namespace=NAMESPACE, signature=(_PTR, _PTR))
def _store_unlock(cp: CurrentPlugin, inputs: List[Val], outputs: List[Val], *_: Any) -> None:
    def body(ctx: Any) -> Any:
        rec = _record(cp, inputs[0])
        if rec is None or not isinstance(rec.get("lease"), str):
            return _store_failure("malformed store_unlock record from the plugin")
        ctx.store_unlock(rec["key"], rec["lease"])
        return {}

    _write(cp, outputs[0], _run(cp, body, _store_failed))


def _retired(cp: CurrentPlugin, inputs: List[Val], outputs: List[Val], *_: Any) -> None:
    _write(cp, outputs[0], _store_failure("store_set and store_delete are not part of contract v2"))


# ABI 1's store_set and store_delete are registered only so that a plugin of
# ABI 1 still loads, and is then refused by the ABI check with a clear
# error instead of an unresolved import. They answer a store error.
_store_set = host_fn(name="store_set", namespace=NAMESPACE, signature=(_PTR, _PTR))(_retired)
_store_delete = host_fn(name="store_delete", namespace=NAMESPACE, signature=(_PTR, _PTR))(_retired)


@host_fn(name="emit", namespace=NAMESPACE, signature=(_PTR, _I32))
def _emit(cp: CurrentPlugin, inputs: List[Val], outputs: List[Val], *_: Any) -> None:
    cancelled = _run(cp, lambda ctx: ctx.emit(_read(cp, inputs[0])), lambda e: True, remember_all=True)
    outputs[0].value = 1 if cancelled else 0


def _describe(e: BaseException) -> str:
    """A store failure's message: the exception's own, which names no value.

    The plugin says itself that the store failed, so a leading "store: "
    or "deviceflow: " is dropped.
    """
    message = str(e).strip()
    for prefix in ("deviceflow: ", "store: "):
        if message.startswith(prefix):
            message = message[len(prefix):]
    return message if message else type(e).__name__


#: Every import of the plugin, in the order of wit/deviceflow.wit.
IMPORTS = [_http_request, _sleep, _now, _monotonic, _store_get, _store_swap, _store_lock, _store_unlock, _emit]

#: What the runtime registers: the imports, and ABI 1's retired ones.
FUNCTIONS = IMPORTS + [_store_set, _store_delete]
