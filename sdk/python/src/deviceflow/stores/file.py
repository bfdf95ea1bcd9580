"""FileStore: one file per entry in a directory only the user can read.

The layout (v2) is shared with the Go host's FileStore, which reads and
writes the very same files and locks the very same lock files:

- ``PATH/`` is a directory (0700). An entry's name ``N`` is the first 32
  hex digits of the SHA-256 of its key (UTF-8).
- ``PATH/N.json`` holds ``{"version":2,"key":"<key>","value":"<value>"}``
  (0600). It is replaced atomically: written to ``PATH/.N.<random>.tmp``
  (0600, created exclusively), fsynced, renamed over ``N.json``, then the
  directory is fsynced. A delete unlinks it and fsyncs the directory.
- ``PATH/N.lock`` is flock'd for one compare-and-swap of that entry only,
  so a write never waits on other entries and its cost does not grow with
  the store.
- ``PATH/N.lease`` is flock'd for a lease (the plugin's store_lock ..
  store_unlock), apart from ``N.lock`` so that the holder can still swap
  its own entry.

A v1 store (one JSON file ``{"version":1,"entries":{...}}`` at ``PATH``,
locked through ``PATH.lock``) is migrated on first use, under the flock on
``PATH.lock``: ``PATH`` is renamed to ``PATH.v1``, the directory made, every
entry not already present written, then ``PATH.v1`` removed. A crash at any
point leaves ``PATH.v1`` behind, and the next use finishes the job.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

from ..errors import StoreError
from ._flock import FileLock, Release, acquire
from ._paths import config_dir

ENTRY_VERSION = 2
_V1_VERSION = 1


def entry_name(key: str) -> str:
    """Returns the file name stem of key's entry: 32 hex digits of its SHA-256."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


class FileStore:
    """Keeps each value in its own file, readable by its owner only (0600).

    ``path`` is the store's directory; it defaults to ``tokens.json`` in
    deviceflow's configuration directory (see
    :func:`deviceflow.stores.config_dir`), a name kept from the days it was
    one file. The files hold the tokens in plain text, protected by their
    permissions; use :class:`EncryptedFileStore` or :class:`KeyringStore`
    when that is not enough. ``lock_timeout`` (seconds) bounds the wait for
    an entry's short write lock; a lease waits as long as it is asked to.
    Compare-and-swap and leases hold across threads and processes (flock),
    with Go programs on the same directory too.
    """

    default_name = "tokens.json"
    #: An older default name still used when it exists and the default does not.
    legacy_name: Optional[str] = None

    def __init__(self, path: Union[str, "os.PathLike[str]", None] = None, *, lock_timeout: float = 10.0) -> None:
        self.path = Path(path) if path is not None else self._default_path()
        self._lock_timeout = lock_timeout
        self._v1 = self.path.with_name(self.path.name + ".v1")
        self._v1_lock = self.path.with_name(self.path.name + ".lock")
        self._migrated = threading.Event()

    @classmethod
    def _default_path(cls) -> Path:
        """The default path in the configuration directory: ``default_name``,
        or ``legacy_name`` where an earlier release left a store under it
        and none exists under the default (its tokens are not left behind)."""
        path = config_dir() / cls.default_name
        if cls.legacy_name is not None and not path.exists():
            legacy = config_dir() / cls.legacy_name
            if legacy.exists():
                return legacy
        return path

    # The store interface.

    def get(self, key: str) -> Optional[str]:
        """Returns the value under key, or None."""
        self._ready(create=False)
        return self._read(key)

    def set(self, key: str, value: str) -> None:
        """Writes value under key, atomically, under the entry's lock."""
        self._ready(create=True)
        with self._entry_lock(key):
            self._read(key)  # a corrupt entry is reported, not overwritten
            self._write(key, value)

    def delete(self, key: str) -> None:
        """Removes key, under the entry's lock; an absent key is not an error."""
        self._ready(create=False)
        if not self.path.is_dir():
            return
        with self._entry_lock(key):
            if self._read(key) is not None:
                self._remove(key)

    def swap(self, key: str, old: Optional[str], new: Optional[str]) -> Tuple[bool, Optional[str]]:
        """Replaces the value under key with ``new`` only when it is ``old`` now.

        ``None`` means "no value" on either side. The comparison and the
        write happen under the entry's flock, so the swap is atomic for
        every thread and process sharing the directory. Answers ``(True,
        new)`` or ``(False, current)``.
        """
        self._ready(create=new is not None)
        if new is None and not self.path.is_dir():
            return (True, None) if old is None else (False, None)
        with self._entry_lock(key):
            current = self._read(key)
            if current != old:
                return False, current
            if new is None:
                if current is not None:
                    self._remove(key)
            else:
                self._write(key, new)
            return True, new

    def lock(self, key: str, wait: float, cancel: Optional[threading.Event] = None) -> Optional[Release]:
        """Takes the lease on key (flock on ``N.lease``), waiting up to ``wait`` seconds.

        Answers the function that releases it, or None when another holder
        (a thread, this or another process) kept it for the whole wait, or
        when ``cancel`` was set first.
        """
        self._ready(create=True)
        return acquire(self.path / f"{entry_name(key)}.lease", wait, cancel)

    def keys(self) -> List[str]:
        """Returns the keys held, for diagnostics (never the values)."""
        self._ready(create=False)
        try:
            names = sorted(p for p in self.path.iterdir() if p.suffix == ".json" and not p.name.startswith("."))
        except FileNotFoundError:
            return []
        except OSError as e:
            raise StoreError(f"store: cannot list {self.path}: {e.strerror}") from None
        keys: List[str] = []
        for file in names:
            doc = self._load(file)
            if doc is not None:
                keys.append(doc[0])
        return sorted(keys)

    def check_writable(self) -> None:
        """Raises :class:`deviceflow.StoreError` unless an entry could be written now.

        Makes the directory when it is missing, then creates and removes a
        probe file in it: nothing is left behind.
        """
        self._ready(create=True)
        probe = self.path / f".probe.{os.urandom(8).hex()}.tmp"
        try:
            fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.close(fd)
            os.unlink(probe)
        except OSError as e:
            raise StoreError(f"store: cannot write in {self.path}: {e.strerror}") from None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"

    # Encoding hooks, replaced by EncryptedFileStore. ``where`` is the file
    # the bytes came from, for error messages.

    def _encode(self, plain: bytes) -> bytes:
        return plain

    def _decode(self, stored: bytes, where: Path) -> bytes:
        return stored

    # Entries.

    def _file(self, key: str) -> Path:
        return self.path / f"{entry_name(key)}.json"

    def _entry_lock(self, key: str) -> FileLock:
        return FileLock(self.path / f"{entry_name(key)}.lock", self._lock_timeout)

    def _read(self, key: str) -> Optional[str]:
        file = self._file(key)
        doc = self._load(file)
        if doc is None:
            return None
        if doc[0] != key:
            raise StoreError(f"store: {file} holds another key than its name says; it was left untouched")
        return doc[1]

    def _load(self, file: Path) -> Optional[Tuple[str, str]]:
        """Reads an entry file: ``(key, value)``, or None when there is none."""
        try:
            raw = file.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as e:
            raise StoreError(f"store: cannot read {file}: {e.strerror}") from None
        try:
            doc: Any = json.loads(self._decode(raw, file).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise StoreError(f"store: {file} is not a deviceflow store entry (not JSON); it was left untouched") from None
        if (
            not isinstance(doc, dict)
            or doc.get("version") != ENTRY_VERSION
            or isinstance(doc.get("version"), bool)
            or not isinstance(doc.get("key"), str)
            or not isinstance(doc.get("value"), str)
        ):
            raise StoreError(
                f"store: {file} is not a deviceflow store entry (version {ENTRY_VERSION} with key and value); "
                "it was left untouched"
            )
        return doc["key"], doc["value"]

    def _write(self, key: str, value: str) -> None:
        name = entry_name(key)
        doc = {"version": ENTRY_VERSION, "key": key, "value": value}
        data = self._encode(json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
        tmp = self.path / f".{name}.{os.urandom(8).hex()}.tmp"  # os.urandom, as secrets.token_hex: no import of secrets for a read
        target = self.path / f"{name}.json"
        try:
            # Created 0600 and exclusively: the token is never readable by
            # anyone else, not even for a moment.
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as e:
            raise StoreError(f"store: cannot write in {self.path}: {e.strerror}") from None
        try:
            with os.fdopen(fd, "wb") as f:
                if hasattr(os, "fchmod"):
                    os.fchmod(f.fileno(), 0o600)
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except OSError as e:
            _remove_quietly(tmp)
            raise StoreError(f"store: cannot write {target}: {e.strerror}") from None
        except BaseException:
            _remove_quietly(tmp)
            raise
        _sync_dir(self.path)

    def _remove(self, key: str) -> None:
        file = self._file(key)
        try:
            os.unlink(file)
        except FileNotFoundError:
            return
        except OSError as e:
            raise StoreError(f"store: cannot remove {file}: {e.strerror}") from None
        _sync_dir(self.path)

    # The directory, and the migration from v1.

    def _ready(self, create: bool) -> None:
        if not self._migrated.is_set():
            if self.path.is_file() or self._v1.exists():
                self._migrate()
            elif self.path.is_dir():
                self._migrated.set()
        if create and not self.path.is_dir():
            try:
                self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                self.path.mkdir(mode=0o700, exist_ok=True)
            except OSError as e:
                raise StoreError(f"store: cannot create the store directory {self.path}: {e.strerror}") from None

    def _migrate(self) -> None:
        """Turns a v1 file at PATH (or a half-done migration) into the v2 directory."""
        with FileLock(self._v1_lock, self._lock_timeout):
            if self.path.is_file():
                if self._v1.exists():
                    raise StoreError(
                        f"store: both {self.path} (a version 1 store) and {self._v1} (one being migrated) exist; "
                        "move one of them away"
                    )
                self._read_v1(self.path)  # refuse a corrupt file before moving anything
                try:
                    os.rename(self.path, self._v1)
                except OSError as e:
                    raise StoreError(f"store: cannot migrate {self.path}: {e.strerror}") from None
                _sync_dir(self.path.parent)
            if self._v1.exists():
                entries = self._read_v1(self._v1)
                try:
                    self.path.mkdir(mode=0o700, exist_ok=True)
                except OSError as e:
                    raise StoreError(f"store: cannot create the store directory {self.path}: {e.strerror}") from None
                for key, value in entries.items():
                    with self._entry_lock(key):
                        if self._read(key) is None:
                            self._write(key, value)
                try:
                    os.unlink(self._v1)
                except FileNotFoundError:
                    pass
                except OSError as e:
                    raise StoreError(f"store: cannot remove {self._v1} after migrating it: {e.strerror}") from None
                _sync_dir(self.path.parent)
        self._migrated.set()

    def _read_v1(self, file: Path) -> Dict[str, str]:
        try:
            raw = file.read_bytes()
        except OSError as e:
            raise StoreError(f"store: cannot read {file}: {e.strerror}") from None
        if not raw.strip():
            return {}
        try:
            doc: Any = json.loads(self._decode(raw, file).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise StoreError(f"store: {file} is not a deviceflow token file; it was left untouched") from None
        entries = doc.get("entries") if isinstance(doc, dict) else None
        if not isinstance(entries, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in entries.items()):
            raise StoreError(f"store: {file} is not a deviceflow token file; it was left untouched")
        if isinstance(doc.get("version"), int) and doc["version"] > _V1_VERSION:
            raise StoreError(f"store: {file} has format version {doc['version']}, which this deviceflow does not know")
        return dict(entries)


def _remove_quietly(path: Path) -> None:
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
