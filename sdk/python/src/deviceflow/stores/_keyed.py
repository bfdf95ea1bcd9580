"""In-process leases and compare-and-swap, per key, for threads of one process.

:class:`KeyedLeases` is the lease of :class:`MemoryStore`, and the lease the
host gives a store that has none of its own. :func:`emulated_swap` is the
compare-and-swap the host gives a store without ``swap``. Both exclude
threads of this process only: a store shared between processes must bring
its own ``swap`` and ``lock``.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Dict, Optional, Set, Tuple

#: Releases a lease; calling it again does nothing.
Release = Callable[[], None]

#: How often a waiter looks at its cancel event, in seconds.
_CANCEL_POLL = 0.05


class KeyedLeases:
    """Exclusive, non-re-entrant leases on keys, with waiters."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._held: Set[str] = set()

    def acquire(self, key: str, wait: float, cancel: Optional[threading.Event] = None) -> Optional[Release]:
        """Takes the lease on ``key``, waiting up to ``wait`` seconds.

        Answers its release, or None when it stayed held for the whole wait
        or ``cancel`` was set first.
        """
        deadline = time.monotonic() + max(wait, 0.0)
        with self._cond:
            while key in self._held:
                if cancel is not None and cancel.is_set():
                    return None
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(min(left, _CANCEL_POLL) if cancel is not None else left)
            self._held.add(key)
        return self._releaser(key)

    def held(self) -> Set[str]:
        """Returns the keys whose lease is held now (for tests and diagnostics)."""
        with self._cond:
            return set(self._held)

    def _releaser(self, key: str) -> Release:
        done = [False]

        def release() -> None:
            with self._cond:
                if done[0]:
                    return
                done[0] = True
                self._held.discard(key)
                self._cond.notify_all()

        return release


class KeyedMutexes:
    """One plain mutex per key, for short critical sections."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: Dict[str, threading.Lock] = {}

    def of(self, key: str) -> threading.Lock:
        """Returns the mutex of ``key``."""
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())


def emulated_swap(
    get: Callable[[str], Optional[str]],
    set_: Callable[[str, str], None],
    delete: Callable[[str], None],
    mutex: threading.Lock,
    key: str,
    old: Optional[str],
    new: Optional[str],
) -> Tuple[bool, Optional[str]]:
    """Compare-and-swap as get, compare, then set or delete, under ``mutex``.

    Answers ``(True, new)`` when it replaced the value and ``(False,
    current)`` when the value held was not ``old``.
    """
    with mutex:
        current = get(key)
        if current != old:
            return False, current
        if new is None:
            delete(key)
        else:
            set_(key, new)
        return True, new
