"""Compare-and-swap and leases for any store: its own, or the host's emulation.

The host calls :func:`swap` and :func:`lock` for the plugin's store_swap and
store_lock. A store with ``swap`` and ``lock`` (every store in this package)
uses its own; a store without them gets an emulation: get-compare-set under
an in-process mutex per (store, key), and an in-process lease per (store,
key). The emulation excludes the threads of this process only, not other
processes: a user store shared between processes must implement both.
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import Any, Callable, Dict, Optional, Tuple

from ._keyed import KeyedLeases, KeyedMutexes, Release, emulated_swap

#: How long one slice of waiting on a store's own lock lasts, when that lock
#: cannot be handed the cancel event, in seconds.
WAIT_SLICE = 0.1


class _Emulation:
    def __init__(self) -> None:
        self.mutexes = KeyedMutexes()
        self.leases = KeyedLeases()


_guard = threading.Lock()
_by_store: "weakref.WeakKeyDictionary[Any, _Emulation]" = weakref.WeakKeyDictionary()
_by_id: Dict[int, Tuple[Any, _Emulation]] = {}


def _emulation(store: Any) -> _Emulation:
    with _guard:
        try:
            found = _by_store.get(store)
            if found is None:
                found = _by_store[store] = _Emulation()
            return found
        except TypeError:
            # Neither weakly referable nor hashable: keep it by identity (and alive).
            pair = _by_id.get(id(store))
            if pair is None:
                pair = _by_id[id(store)] = (store, _Emulation())
            return pair[1]


def swap(store: Any, key: str, old: Optional[str], new: Optional[str]) -> Tuple[bool, Optional[str]]:
    """Compare-and-swap on ``store``: its own ``swap``, or the emulation."""
    own = getattr(store, "swap", None)
    if callable(own):
        swapped, current = own(key, old, new)
        return bool(swapped), current
    return emulated_swap(store.get, store.set, store.delete, _emulation(store).mutexes.of(key), key, old, new)


def lock(store: Any, key: str, wait: float, cancel: threading.Event) -> Optional[Release]:
    """Takes the lease on ``key``: the store's own ``lock``, or the emulation.

    Answers the release, or None when busy for ``wait`` seconds or when
    ``cancel`` was set first (look at ``cancel`` to tell them apart).
    """
    own = getattr(store, "lock", None)
    if not callable(own):
        return _emulation(store).leases.acquire(key, wait, cancel)
    if _takes_cancel(own):
        release: Optional[Release] = own(key, wait, cancel=cancel)
        return release
    deadline = time.monotonic() + max(wait, 0.0)
    while True:
        started = time.monotonic()
        piece = max(min(deadline - started, WAIT_SLICE), 0.0)
        release = own(key, piece)
        if release is not None:
            return release
        if cancel.is_set() or deadline - time.monotonic() <= 0:
            return None
        # A lock that answers at once instead of waiting must not make us spin.
        cancel.wait(max(piece - (time.monotonic() - started), 0.0))


def _takes_cancel(fn: Callable[..., Any]) -> bool:
    try:
        import inspect  # only when a store's own lock is first used

        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return "cancel" in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def check_writable(store: Any) -> None:
    """Raises unless ``store`` can take a write now, leaving nothing behind.

    A store's own ``check_writable`` when it has one (the file stores probe
    their directory, the keyring writes and removes a probe entry);
    otherwise a probe entry under a random key is written and removed.
    """
    own = getattr(store, "check_writable", None)
    if callable(own):
        own()
        return
    import secrets

    probe = f"deviceflow:probe:{secrets.token_hex(8)}"
    store.set(probe, "probe")
    store.delete(probe)
