"""The store interface: where the plugin keeps cached authentications."""

from __future__ import annotations

from typing import Callable, Optional, Tuple

try:
    from typing import Protocol, runtime_checkable
except ImportError:  # pragma: no cover - Python < 3.8
    from typing_extensions import Protocol, runtime_checkable  # type: ignore


@runtime_checkable
class Store(Protocol):
    """Keeps opaque string values under keys the plugin builds.

    The values are the plugin's cached authentications, tokens included:
    treat them as secrets. Implementations must be safe for concurrent use
    from several threads; a failure raises an exception (preferably
    :class:`deviceflow.StoreError`) whose message names no value.

    A store may also offer the two capabilities of :class:`SwappingStore`
    and :class:`LockingStore`. One that lacks them gets the host's
    emulation, which is safe between the threads of one process only.
    """

    def get(self, key: str) -> Optional[str]:
        """Returns the value under key, or None when there is none."""
        ...

    def set(self, key: str, value: str) -> None:
        """Writes value under key, replacing any older value."""
        ...

    def delete(self, key: str) -> None:
        """Removes key; removing an absent key is not an error."""
        ...


@runtime_checkable
class SwappingStore(Protocol):
    """A store with its own compare-and-swap."""

    def swap(self, key: str, old: Optional[str], new: Optional[str]) -> Tuple[bool, Optional[str]]:
        """Replaces the value under key with ``new`` only when the value now held is ``old``.

        ``None`` means "no value": ``old=None`` swaps only when the key is
        absent, ``new=None`` removes it. The comparison and the write are
        one atomic step for everyone sharing the store. Answers ``(True,
        new)`` when it swapped and ``(False, current)`` (None when absent)
        when it did not.
        """
        ...


@runtime_checkable
class LockingStore(Protocol):
    """A store with its own exclusive leases on keys."""

    def lock(self, key: str, wait: float) -> Optional[Callable[[], None]]:
        """Takes the lease on key, waiting up to ``wait`` seconds (0: try once).

        Answers the function that releases it, or None when another holder
        kept it for the whole wait. The lease excludes everyone sharing the
        store and is not re-entrant. A ``lock`` that also takes a
        ``cancel`` keyword (a ``threading.Event``) is handed the call's
        cancellation; otherwise the host waits in short slices and looks at
        it between them.
        """
        ...
