"""An exclusive lock on a file, between processes and between threads."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Dict, Optional, Type

from ..errors import StoreError

if sys.platform == "win32":  # pragma: no cover - Windows
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


_thread_locks: Dict[str, threading.Lock] = {}
_thread_locks_guard = threading.Lock()


def _thread_lock(path: Path) -> threading.Lock:
    with _thread_locks_guard:
        return _thread_locks.setdefault(str(path), threading.Lock())


class FileLock:
    """Holds ``path`` (a lock file, created 0600) exclusively while in a with block.

    Waits at most ``timeout`` seconds, then raises StoreError, so a stuck
    process never hangs another one forever.
    """

    def __init__(self, path: Path, timeout: float = 10.0) -> None:
        self.path = path
        self.timeout = timeout
        self._fd: Optional[int] = None
        self._tlock = _thread_lock(path)

    def __enter__(self) -> "FileLock":
        deadline = time.monotonic() + self.timeout
        if not self._tlock.acquire(timeout=self.timeout):
            raise StoreError(f"store: timed out waiting for the lock on {self.path}")
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as e:
            self._tlock.release()
            raise StoreError(f"store: cannot open the lock file {self.path}: {e.strerror}") from None
        delay = 0.005
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                os.close(fd)
                self._tlock.release()
                raise StoreError(
                    f"store: another process has held the lock on {self.path} for more than {self.timeout:g} s"
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
        self._fd = fd
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        fd, self._fd = self._fd, None
        try:
            if fd is not None:
                _unlock(fd)
                os.close(fd)
        finally:
            self._tlock.release()
