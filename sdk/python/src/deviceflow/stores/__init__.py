"""Stores for cached authentications.

Every store keeps opaque string values under keys the plugin builds:

- :class:`MemoryStore`: this process only.
- :class:`FileStore`: a directory with one 0600 file per entry, atomic
  replace, flock'd compare-and-swap and leases across processes (the layout
  the Go host shares).
- :class:`EncryptedFileStore`: the same layout, each entry sealed with
  AES-256-GCM in the envelope Go and Node write (``cryptography``), key from
  ``DEVICEFLOW_ENCRYPTION_KEY`` or passed in; earlier Fernet entries are
  still read.
- :class:`KeyringStore`: the system keyring (``keyring``), time-boxed, never
  falling back to plain text; compare-and-swap and leases through lock files.
- :class:`RedisStore` and :class:`PostgresStore`: shared by every process
  and machine on one server (extras ``redis`` and ``postgres``), entries
  sealed in the same envelope, per tenant, with TTLs; atomic
  compare-and-swap and leases that expire when their holder dies. A Go
  service (``host/store/redis``, ``host/store/postgres``) shares them.

Any object with ``get``, ``set`` and ``delete`` (see :class:`Store`) works;
``swap`` and ``lock`` (:class:`SwappingStore`, :class:`LockingStore`) are
optional, and a store without them is safe between the threads of one
process only.
"""

from typing import TYPE_CHECKING

from .. import _lazy

if TYPE_CHECKING:
    from ._paths import cache_dir, config_dir
    from .base import LockingStore, Store, SwappingStore
    from .encrypted import KEY_ENV, EncryptedFileStore, Sealer, generate_key
    from .file import FileStore
    from .keyring_store import KeyringStore, KeyringUnavailable
    from .memory import MemoryStore
    from .postgres_store import PostgresStore, SchemaTooNew
    from .redis_store import RedisStore

# Each store is imported when it is first named (PEP 562), so a process
# pays only for the stores it uses.
_LAZY = {
    "cache_dir": "_paths",
    "config_dir": "_paths",
    "LockingStore": "base",
    "Store": "base",
    "SwappingStore": "base",
    "KEY_ENV": "encrypted",
    "EncryptedFileStore": "encrypted",
    "Sealer": "encrypted",
    "generate_key": "encrypted",
    "FileStore": "file",
    "KeyringStore": "keyring_store",
    "KeyringUnavailable": "keyring_store",
    "MemoryStore": "memory",
    "PostgresStore": "postgres_store",
    "SchemaTooNew": "postgres_store",
    "RedisStore": "redis_store",
}


__getattr__, __dir__ = _lazy.names(__name__, _LAZY, globals())


__all__ = [
    "Store",
    "SwappingStore",
    "LockingStore",
    "MemoryStore",
    "FileStore",
    "EncryptedFileStore",
    "KeyringStore",
    "KeyringUnavailable",
    "RedisStore",
    "PostgresStore",
    "SchemaTooNew",
    "Sealer",
    "KEY_ENV",
    "generate_key",
    "config_dir",
    "cache_dir",
]
