"""The store interface: where the plugin keeps cached authentications."""

from __future__ import annotations

from typing import Optional

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
