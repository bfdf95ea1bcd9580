"""FileStore: values in a JSON file that only the user can read.

The file is created with mode 0600 (in a directory created 0700), every write
goes to a temporary file in the same directory that then replaces the old one
atomically, and writers take an exclusive lock on ``<file>.lock`` around
their read-modify-write, so concurrent processes never lose each other's
entries and a crash never leaves a half-written file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Union

from ..errors import StoreError
from ._lock import FileLock
from ._paths import config_dir

_FORMAT_VERSION = 1


class FileStore:
    """Keeps values in a file readable by its owner only (mode 0600).

    ``path`` defaults to ``tokens.json`` in deviceflow's configuration
    directory (see :func:`deviceflow.stores.config_dir`). The file holds the
    tokens in plain text, protected by its permissions; use
    :class:`EncryptedFileStore` or :class:`KeyringStore` when that is not
    enough.
    """

    default_name = "tokens.json"

    def __init__(self, path: Union[str, "os.PathLike[str]", None] = None, *, lock_timeout: float = 10.0) -> None:
        self.path = Path(path) if path is not None else config_dir() / self.default_name
        self._lock_path = self.path.with_name(self.path.name + ".lock")
        self._lock_timeout = lock_timeout

    def get(self, key: str) -> Optional[str]:
        """Returns the value under key, or None."""
        return self._read().get(key)

    def set(self, key: str, value: str) -> None:
        """Writes value under key, atomically, under the file lock."""
        with self._locked():
            entries = self._read()
            entries[key] = value
            self._write(entries)

    def delete(self, key: str) -> None:
        """Removes key, atomically, under the file lock."""
        with self._locked():
            entries = self._read()
            if key in entries:
                del entries[key]
                self._write(entries)

    def keys(self) -> List[str]:
        """Returns the keys held, for diagnostics (never the values)."""
        return sorted(self._read())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"

    # Encoding hooks, replaced by EncryptedFileStore.

    def _encode(self, plain: bytes) -> bytes:
        return plain

    def _decode(self, stored: bytes) -> bytes:
        return stored

    # File mechanics.

    def _locked(self) -> FileLock:
        self._ensure_dir()
        return FileLock(self._lock_path, self._lock_timeout)

    def _ensure_dir(self) -> None:
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"store: cannot create {self.path.parent}: {e.strerror}") from None

    def _read(self) -> Dict[str, str]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as e:
            raise StoreError(f"store: cannot read {self.path}: {e.strerror}") from None
        if not raw.strip():
            return {}
        try:
            doc = json.loads(self._decode(raw).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise StoreError(f"store: {self.path} is not a deviceflow token file") from None
        entries = doc.get("entries") if isinstance(doc, dict) else None
        if not isinstance(entries, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in entries.items()
        ):
            raise StoreError(f"store: {self.path} is not a deviceflow token file")
        return dict(entries)

    def _write(self, entries: Dict[str, str]) -> None:
        doc = {"version": _FORMAT_VERSION, "entries": entries}
        data = self._encode(json.dumps(doc, sort_keys=True).encode("utf-8"))
        directory = self.path.parent
        try:
            # mkstemp creates the file with mode 0600: the tokens are never
            # readable by anyone else, not even for a moment.
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=directory)
        except OSError as e:
            raise StoreError(f"store: cannot write in {directory}: {e.strerror}") from None
        try:
            with os.fdopen(fd, "wb") as f:
                if hasattr(os, "fchmod"):
                    os.fchmod(f.fileno(), 0o600)
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except OSError as e:
            _remove_quietly(tmp)
            raise StoreError(f"store: cannot write {self.path}: {e.strerror}") from None
        except BaseException:
            _remove_quietly(tmp)
            raise
        _sync_dir(directory)


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _sync_dir(directory: Path) -> None:
    if os.name != "posix":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
