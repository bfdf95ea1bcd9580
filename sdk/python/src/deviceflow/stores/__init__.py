"""Stores for cached authentications.

Every store keeps opaque string values under keys the plugin builds:

- :class:`MemoryStore`: this process only.
- :class:`FileStore`: a JSON file with mode 0600, atomic replace, a lock
  against concurrent writers.
- :class:`EncryptedFileStore`: the same file, encrypted with Fernet
  (``cryptography``), key from ``DEVICEFLOW_ENCRYPTION_KEY`` or passed in.
- :class:`KeyringStore`: the system keyring (``keyring``), time-boxed, never
  falling back to plain text.

Any object with ``get``, ``set`` and ``delete`` (see :class:`Store`) works.
"""

from ._paths import config_dir
from .base import Store
from .encrypted import KEY_ENV, EncryptedFileStore, generate_key
from .file import FileStore
from .keyring_store import KeyringStore, KeyringUnavailable
from .memory import MemoryStore

__all__ = [
    "Store",
    "MemoryStore",
    "FileStore",
    "EncryptedFileStore",
    "KeyringStore",
    "KeyringUnavailable",
    "KEY_ENV",
    "generate_key",
    "config_dir",
]
