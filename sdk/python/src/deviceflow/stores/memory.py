"""MemoryStore: values kept in this process only."""

from __future__ import annotations

import threading
from typing import Dict, Mapping, Optional


class MemoryStore:
    """Keeps values in memory, for the lifetime of the process."""

    def __init__(self, initial: Optional[Mapping[str, str]] = None) -> None:
        self._lock = threading.Lock()
        self._values: Dict[str, str] = dict(initial or {})

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

    def snapshot(self) -> Dict[str, str]:
        """Returns a copy of every entry, for tests and diagnostics."""
        with self._lock:
            return dict(self._values)

    def __repr__(self) -> str:
        with self._lock:
            return f"MemoryStore({len(self._values)} entries)"
