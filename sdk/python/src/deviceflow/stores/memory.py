"""MemoryStore: values kept in this process only."""

from __future__ import annotations

import threading
from typing import Dict, Mapping, Optional, Set, Tuple

from ._keyed import KeyedLeases, Release


class MemoryStore:
    """Keeps values in memory, for the lifetime of the process.

    Its compare-and-swap and its leases are native: a mutex for the
    comparison and the write, and per-key leases with waiters, so threads
    sharing one MemoryStore refresh a token once.
    """

    def __init__(self, initial: Optional[Mapping[str, str]] = None) -> None:
        self._lock = threading.Lock()
        self._values: Dict[str, str] = dict(initial or {})
        self._leases = KeyedLeases()

    def get(self, key: str) -> Optional[str]:
        """Returns the value under key, or None."""
        with self._lock:
            return self._values.get(key)

    def set(self, key: str, value: str) -> None:
        """Writes value under key."""
        with self._lock:
            self._values[key] = value

    def delete(self, key: str) -> None:
        """Removes key."""
        with self._lock:
            self._values.pop(key, None)

    def swap(self, key: str, old: Optional[str], new: Optional[str]) -> Tuple[bool, Optional[str]]:
        """Replaces the value under key with ``new`` only when it is ``old`` now.

        ``None`` stands for "no value" on both sides. Answers ``(True,
        new)`` when it swapped and ``(False, current)`` when it did not.
        """
        with self._lock:
            current = self._values.get(key)
            if current != old:
                return False, current
            if new is None:
                self._values.pop(key, None)
            else:
                self._values[key] = new
            return True, new

    def lock(self, key: str, wait: float, cancel: Optional[threading.Event] = None) -> Optional[Release]:
        """Takes the lease on key, waiting up to ``wait`` seconds.

        Answers the function that releases it, or None when another holder
        kept it (or ``cancel`` was set first).
        """
        return self._leases.acquire(key, wait, cancel)

    def leased(self) -> Set[str]:
        """Returns the keys whose lease is held now, for tests and diagnostics."""
        return self._leases.held()

    def snapshot(self) -> Dict[str, str]:
        """Returns a copy of every entry, for tests and diagnostics."""
        with self._lock:
            return dict(self._values)

    def __repr__(self) -> str:
        with self._lock:
            return f"MemoryStore({len(self._values)} entries)"
