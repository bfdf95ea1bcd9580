"""Exclusive locks on lock files, between processes and between threads.

A lock is ``flock(LOCK_EX)`` on a file opened anew for each lock: flock
belongs to the open file description, so two opens in one process exclude
each other as two processes do, and a lock dies with its process, so a
crash never leaves one held. Waiting polls with ``LOCK_NB`` and a pause
that doubles from 1 ms to 50 ms, and gives up when the wait is over or the
caller's cancel event is set. These are the locks the Go host takes on the
same files (wit/deviceflow.wit, contract v2).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Optional

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
        except (BlockingIOError, InterruptedError):
            return False

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


#: The first and the longest pause between two attempts, in seconds.
FIRST_PAUSE = 0.001
LONGEST_PAUSE = 0.05

#: Releases a lock; calling it again does nothing.
Release = Callable[[], None]


def acquire(path: Path, wait: float, cancel: Optional[threading.Event] = None) -> Optional[Release]:
    """Takes the exclusive lock on ``path`` (created 0600), waiting up to ``wait`` seconds.

    Answers the function that releases it, or None when another holder
    kept it for the whole wait or ``cancel`` was set first (the caller
    tells the two apart by looking at ``cancel``). A lock file that cannot
    be opened raises :class:`deviceflow.StoreError` naming it.
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as e:
        raise StoreError(f"store: cannot open the lock file {path}: {e.strerror}") from None
    try:
        deadline = time.monotonic() + max(wait, 0.0)
        pause = FIRST_PAUSE
        while not _try_lock(fd):
            if cancel is not None and cancel.is_set():
                os.close(fd)
                return None
            left = deadline - time.monotonic()
            if left <= 0:
                os.close(fd)
                return None
            nap = min(pause, left)
            if cancel is not None:
                cancel.wait(nap)
            else:
                time.sleep(nap)
            pause = min(pause * 2, LONGEST_PAUSE)
    except BaseException:
        os.close(fd)
        raise
    return _releaser(fd)


def _releaser(fd: int) -> Release:
    guard = threading.Lock()
    held = [True]

    def release() -> None:
        with guard:
            if not held[0]:
                return
            held[0] = False
        try:
            _unlock(fd)
        except OSError:
            pass
        finally:
            os.close(fd)

    return release


class FileLock:
    """Holds the lock on ``path`` while in a with block, for a short critical section.

    Waits at most ``timeout`` seconds, then raises
    :class:`deviceflow.StoreError`, so a stuck process never hangs another
    one.
    """

    def __init__(self, path: Path, timeout: float = 10.0) -> None:
        self.path = path
        self.timeout = timeout
        self._release: Optional[Release] = None

    def __enter__(self) -> "FileLock":
        release = acquire(self.path, self.timeout)
        if release is None:
            raise StoreError(
                f"store: another process has held the lock on {self.path} for more than {self.timeout:g} s"
            )
        self._release = release
        return self

    def __exit__(self, *exc: object) -> None:
        release, self._release = self._release, None
        if release is not None:
            release()
