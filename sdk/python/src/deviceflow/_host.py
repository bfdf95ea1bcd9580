"""The Python host: runs the plugin's exports with this process's capabilities.

:class:`Host` is the low-level layer under :class:`deviceflow.DeviceFlow`:
JSON in, JSON out, one export per call, exactly as ``wit/deviceflow.wit``
describes. It supplies the host functions (HTTP inside the sandbox, sleep
that cancellation cuts short, the wall and monotonic clocks, the store with
its compare-and-swap and leases, events) and maps the plugin's failures to
typed errors. It holds no protocol logic.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Dict, FrozenSet, Iterable, Iterator, List, Optional, Tuple, Union

from . import _runtime, _sandbox
from .errors import Cancelled, DeviceFlowError, InvalidInput, PluginError, from_plugin
from .stores import _capabilities
from .stores.memory import MemoryStore

if TYPE_CHECKING:
    import ssl

    from ._http import Limits
    from .stores.base import Store

# Imported on first use, not with this module: extism (by _runtime, when the
# plugin is compiled) and _http (HTTP, TLS and sockets, when the plugin asks
# for a request), so a call answered from the store pays for neither.

#: A callback for every event the plugin emits, as a dict. It may block.
#: Raising :class:`deviceflow.Cancelled` stops the call (which then fails
#: with Cancelled); any other exception stops it too and is re-raised.
EventHandler = Callable[[Dict[str, Any]], None]

#: A sleep hook: waits ``ms`` milliseconds unless ``cancel`` is set first;
#: answers True when it was cut short.
SleepHook = Callable[[int, threading.Event], bool]


def _default_now_ms() -> int:
    return time.time_ns() // 1_000_000


def _default_monotonic_ms() -> int:
    return int(time.monotonic() * 1000)


def _default_sleep(ms: int, cancel: threading.Event) -> bool:
    return cancel.wait(max(ms, 0) / 1000.0)


class Host:
    """Runs the plugin's exports. Safe for concurrent use from threads.

    ``base_url`` derives the sandbox's allow-list (github.com and
    api.github.com by default); ``allowed_hosts`` replaces it.
    ``request_timeout`` (seconds) and ``max_response_bytes`` cap each HTTP
    request. ``store`` keeps cached authentications (a :class:`MemoryStore`
    by default). ``on_event`` receives every event. ``now_ms``,
    ``monotonic_ms`` and ``sleep_ms`` replace the wall clock, the monotonic
    clock and the sleep (tests use them; the plugin measures its waits on the
    monotonic clock, so a fake sleep needs a fake monotonic clock that it
    advances: when only ``now_ms`` is given, it serves as both clocks);
    ``ssl_context`` verifies HTTPS servers (the system's trust store by
    default); ``user_agent`` names the application in every request in
    place of the plugin's own ``deviceflow/VERSION``; ``session`` (a
    ``requests.Session``) performs the plugin's requests, its adapters,
    hooks and headers applying (see :mod:`deviceflow._session`).

    Every call holds its store leases in its :class:`CallContext`, and the
    host releases whatever a call still holds when it ends, however it ends.
    """

    def __init__(
        self,
        *,
        base_url: Optional[str] = None,
        allowed_hosts: Optional[Iterable[str]] = None,
        server: Optional[Dict[str, str]] = None,
        request_timeout: float = 30.0,
        max_response_bytes: int = 1 << 20,
        store: Optional[Store] = None,
        on_event: Optional[EventHandler] = None,
        now_ms: Optional[Callable[[], int]] = None,
        sleep_ms: Optional[SleepHook] = None,
        ssl_context: Optional[ssl.SSLContext] = None,
        monotonic_ms: Optional[Callable[[], int]] = None,
        user_agent: Optional[str] = None,
        session: Optional[Any] = None,
    ) -> None:
        if request_timeout <= 0:
            raise InvalidInput("invalid input: request_timeout: must be positive")
        if max_response_bytes <= 0:
            raise InvalidInput("invalid input: max_response_bytes: must be positive")
        self._allowed, self.discover = _sandbox.allow_list(base_url, allowed_hosts, server)
        self._allow_guard = threading.Lock()
        self._limits_args: Dict[str, Any] = {
            "timeout": request_timeout,
            "max_response_bytes": max_response_bytes,
            "ssl_context": ssl_context,
            "user_agent": user_agent,
        }
        self._limits: Optional[Limits] = None
        self.session = session
        self.store: Store = store if store is not None else MemoryStore()
        self.on_event = on_event
        self.now_ms = now_ms or _default_now_ms
        self.monotonic_ms = monotonic_ms or now_ms or _default_monotonic_ms
        self.sleep_ms = sleep_ms or _default_sleep

    @property
    def limits(self) -> Limits:
        """What the sandbox allows each request (built on first use, with _http)."""
        if self._limits is None:
            from . import _http

            self._limits = _http.Limits(allowed=self._allowed, **self._limits_args)
        return self._limits

    @limits.setter
    def limits(self, value: Limits) -> None:
        self._limits = value

    def allow_more(self, hosts: FrozenSet[str]) -> None:
        """Adds hosts to the sandbox's allow-list (the endpoints event)."""
        import dataclasses

        with self._allow_guard:
            if not hosts <= self.limits.allowed:
                self.limits = dataclasses.replace(self.limits, allowed=self.limits.allowed | hosts)

    def call(
        self,
        export: str,
        input: Union[bytes, str, Dict[str, Any]],
        *,
        cancel: Optional[threading.Event] = None,
    ) -> bytes:
        """Runs one export and returns its JSON output.

        A failure reported by the plugin raises the typed error for its code;
        a trap raises :class:`PluginError` (and the instance is discarded).
        Setting ``cancel`` cuts a sleep or a wait for a lease short and
        makes the plugin stop with :class:`Cancelled`. Every lease the call
        still holds when it ends is released.
        """
        data = _encode_input(input)
        ctx = CallContext(self, cancel if cancel is not None else threading.Event())
        if ctx.cancel.is_set():
            raise Cancelled("cancelled before the call started")
        try:
            return self._run(export, data, ctx)
        finally:
            ctx.release_all()

    def _run(self, export: str, data: bytes, ctx: "CallContext") -> bytes:
        instance = _runtime.take()
        failure: Optional[DeviceFlowError] = None
        from extism import Error as ExtismError  # loaded by take()

        try:
            with signals_deferred(ctx):
                out = instance.call(export, data, host_context=ctx)
        except ExtismError as e:
            failure = from_plugin(str(e))
            if failure is None:
                # Not the contract's error JSON: a trap. The instance is done for.
                _runtime.discard(instance)
                failure = PluginError(f"deviceflow plugin: call {export}: {e}")
            else:
                _runtime.give_back(instance)
        except BaseException:
            _runtime.discard(instance)
            raise
        else:
            _runtime.give_back(instance)
        # Outside the except blocks, so that neither traceback drags the other along.
        ctx.reraise()
        if failure is not None:
            raise failure
        return bytes(out)

    def perform_http(self, req: Any) -> Dict[str, Any]:
        """Performs one of the plugin's HTTP requests inside the sandbox and
        answers it with the response headers the plugin reads."""
        if self.session is not None:
            from . import _session

            return _runtime.for_plugin(_session.perform(self.session, req, self.limits))
        from . import _http

        return _runtime.for_plugin(_http.perform(req, self.limits))

    def call_json(
        self,
        export: str,
        input: Union[bytes, str, Dict[str, Any]],
        *,
        cancel: Optional[threading.Event] = None,
    ) -> Any:
        """Runs one export and returns its output decoded from JSON."""
        out = self.call(export, input, cancel=cancel)
        try:
            return json.loads(out)
        except ValueError:
            raise PluginError(f"deviceflow plugin: malformed output from {export}") from None


def _encode_input(input: Union[bytes, str, Dict[str, Any]]) -> bytes:
    if isinstance(input, bytes):
        return input
    if isinstance(input, str):
        return input.encode("utf-8")
    try:
        return json.dumps(input).encode("utf-8")
    except (TypeError, ValueError) as e:
        raise InvalidInput(f"invalid input: {e}") from None


#: What store_lock answers: a lease, busy, or cancelled.
LockAnswer = Dict[str, Any]


# The signals whose Python handlers a plugin call defers: Ctrl-C's and
# SIGTERM's (which the command line turns into Ctrl-C).
_DEFERRED_SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM") if hasattr(signal, n))


@contextlib.contextmanager
def signals_deferred(ctx: "CallContext") -> Iterator[None]:
    """Keeps signal handlers from raising inside Extism's own callback code.

    Python runs a signal handler at the next line of Python the main thread
    executes; while a plugin runs, that is the next host function, and the
    first lines are Extism's, which swallow any exception ("Exception
    ignored from cffi callback"): a Ctrl-C arriving while the plugin
    computed was lost, and the command kept waiting. During the call, on the
    main thread, each Python handler of SIGINT and SIGTERM is wrapped: inside
    a host function's own code it runs as it is (its exception ends a sleep
    or a request, and is re-raised once the plugin has stopped); anywhere
    else its exception is remembered, so the plugin stops at its next host
    function and the call re-raises it.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved: Dict[int, Any] = {}
    for signum in _DEFERRED_SIGNALS:
        old = signal.getsignal(signum)
        if not callable(old):
            continue

        def deferred(signum: int, frame: Any, old: Callable[[int, Any], Any] = old) -> None:
            if ctx.in_body:
                old(signum, frame)
                return
            try:
                old(signum, frame)
            except BaseException as e:
                ctx.remember(e)

        saved[signum] = signal.signal(signum, deferred)
    try:
        yield
    finally:
        for signum, old in saved.items():
            signal.signal(signum, old)


class CallContext:
    """What one running call gives the host functions.

    It keeps the store leases the call holds, by lease id, so that
    store_unlock releases the right one and :meth:`release_all` the rest
    when the call ends.
    """

    def __init__(self, host: Host, cancel: threading.Event) -> None:
        self.host = host
        self.cancel = cancel
        # in_body counts the host functions running their own code, where a
        # signal handler's exception is caught and remembered (_hostfns._run).
        self.in_body = 0
        self._raised: Optional[BaseException] = None
        self._leases_guard = threading.Lock()
        self._leases: Dict[str, Tuple[str, Callable[[], None]]] = {}

    def remember(self, e: BaseException) -> None:
        """Keeps the first exception to re-raise once the plugin has stopped."""
        if self._raised is None:
            self._raised = e

    def stopping(self) -> bool:
        """Reports whether the call should stop: cancelled, or a callback failed."""
        return self._raised is not None or self.cancel.is_set()

    def reraise(self) -> None:
        """Re-raises a remembered exception (a callback's, or Ctrl-C)."""
        if self._raised is not None:
            raised, self._raised = self._raised, None
            raise raised

    def http(self, req: Any) -> Dict[str, Any]:
        return self.host.perform_http(req)

    def sleep(self, ms: int) -> bool:
        if self.stopping():
            return True
        return bool(self.host.sleep_ms(ms, self.cancel)) or self.stopping()

    def now(self) -> int:
        return self.host.now_ms()

    def monotonic(self) -> int:
        return self.host.monotonic_ms()

    def store_get(self, key: str) -> Optional[str]:
        return self.host.store.get(key)

    def store_swap(self, key: str, old: Optional[str], new: Optional[str]) -> Tuple[bool, Optional[str]]:
        return _capabilities.swap(self.host.store, key, old, new)

    def store_lock(self, key: str, wait_ms: float) -> LockAnswer:
        """Takes the lease on key for this call: ``{"lease"}``, ``{"busy"}`` or ``{"cancelled"}``."""
        if self.stopping():
            return {"cancelled": True}
        release = _capabilities.lock(self.host.store, key, wait_ms / 1000.0, self.cancel)
        if release is None:
            return {"cancelled": True} if self.stopping() else {"busy": True}
        lease = os.urandom(12).hex()  # as secrets.token_hex(12), without importing secrets
        with self._leases_guard:
            self._leases[lease] = (key, release)
        return {"lease": lease}

    def store_unlock(self, key: str, lease: str) -> None:
        """Releases a lease of this call; one no longer held (or unknown) is ignored."""
        with self._leases_guard:
            held = self._leases.get(lease)
            if held is None or held[0] != key:
                return
            del self._leases[lease]
        held[1]()

    def leases(self) -> List[str]:
        """Returns the keys this call holds leases on."""
        with self._leases_guard:
            return [key for key, _ in self._leases.values()]

    def release_all(self) -> None:
        """Releases every lease the call still holds (the call has ended)."""
        with self._leases_guard:
            held, self._leases = list(self._leases.values()), {}
        for _, release in held:
            try:
                release()
            except Exception:
                pass

    def emit(self, raw: bytes) -> bool:
        """Hands an event to on_event; answers True to cancel the call."""
        if self.stopping():
            return True
        try:
            event = json.loads(raw)
        except ValueError:
            return False
        if not isinstance(event, dict):
            return False
        if event.get("type") == "endpoints" and self.host.discover:
            # The origins of an issuer's discovered endpoints, decided by the
            # plugin: allowed from now on (https, or loopback http, is still
            # checked for every request).
            self.host.allow_more(_sandbox.origin_hosts(event.get("origins")))
        handler = self.host.on_event
        if handler is None:
            return False
        try:
            handler(event)
        except Cancelled:
            return True
        except BaseException as e:
            self.remember(e)
            return True
        return self.stopping()
