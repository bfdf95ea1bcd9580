"""What the stores kept by a server (Redis, PostgreSQL) have in common.

The same rules as the Go host's ``host/store/internal/shared`` (see
``wit/stores.md``, "Shared stores"), so a Go service and a Python service
share one database: the entry document
``{"version":2,"tenant":T,"key":K,"value":V}``, sealed in the encrypted
store's envelope unless the store is plain; tenant names; leases polled
for, renewed by their holder every third of their TTL.
"""

from __future__ import annotations

import json
import os
import random
import re
import secrets
import threading
import time
from typing import Callable, Optional, Sequence, Union

from ..errors import StoreError
from ._keyed import Release
from .encrypted import FORMAT, KEY_ENV, KeyLike, Sealer

DEFAULT_TENANT = "default"
DEFAULT_LEASE_TTL = 30.0
MIN_LEASE_TTL = 0.1
ENTRY_VERSION = 2

_TENANT = re.compile(r"[A-Za-z0-9._-]{1,64}")

KeyOption = Union[KeyLike, Sequence[KeyLike], None]


def check_tenant(tenant: Optional[str]) -> str:
    """Returns the tenant to use (``None`` or ``""``: ``"default"``), or raises when it is not 1 to 64 letters, digits, '.', '_' or '-'."""
    if not tenant:
        return DEFAULT_TENANT
    if not _TENANT.fullmatch(tenant):
        raise StoreError(f"store: the tenant {tenant!r} is not 1 to 64 letters, digits, '.', '_' or '-'")
    return tenant


def check_lease_ttl(ttl: Optional[float]) -> float:
    """Returns the lease TTL in seconds: ``ttl``, or 30 when None; at least 0.1."""
    if ttl is None or ttl == 0:
        return DEFAULT_LEASE_TTL
    if ttl < MIN_LEASE_TTL:
        raise StoreError(f"store: a lease TTL of {ttl} s is shorter than {MIN_LEASE_TTL} s")
    return float(ttl)


class Codec:
    """Turns an entry into what the server keeps and back."""

    def __init__(
        self,
        what: str,
        tenant: str,
        key: KeyOption,
        key_func: Optional[Callable[[], KeyOption]],
        plain: bool,
    ) -> None:
        self.what = what
        self.tenant = tenant
        self.plain = plain
        self._sealer: Optional[Sealer] = None
        self._key_func = key_func
        self._lock = threading.Lock()
        if plain:
            if key is not None or key_func is not None:
                raise StoreError(f"store: the {what} is asked for plain entries and given a key: choose one")
        elif key is not None and key_func is not None:
            raise StoreError(f"store: the {what} is given both key and key_func: choose one")
        elif key is not None:
            self._sealer = Sealer.from_key(key)
        elif key_func is None:
            if not os.environ.get(KEY_ENV, "").strip():
                raise StoreError(
                    f"store: the {what} needs an encryption key: set {KEY_ENV} (make one with: openssl rand -base64 32), "
                    "pass key= or key_func=, or plain=True to keep tokens unencrypted"
                )
            self._sealer = Sealer.from_key(None)

    @property
    def key_source(self) -> str:
        if self.plain:
            return "unencrypted"
        if self._sealer is not None:
            return f"key from {self._sealer.source}"
        return "key from a key-management callback"

    def _get_sealer(self) -> Sealer:
        with self._lock:
            if self._sealer is None:
                assert self._key_func is not None
                try:
                    key = self._key_func()
                except Exception as e:
                    raise StoreError(f"store: the {self.what}'s key-management callback failed: {type(e).__name__}") from e
                self._sealer = Sealer.from_key(key)
            return self._sealer

    def encode(self, key: str, value: str) -> bytes:
        """Returns what the server keeps for key's value."""
        doc = json.dumps(
            {"version": ENTRY_VERSION, "tenant": self.tenant, "key": key, "value": value},
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode("utf-8")
        if self.plain:
            return doc
        return self._get_sealer().seal(doc, compact=True)

    def decode(self, where: str, key: str, stored: bytes) -> str:
        """Returns the value ``stored`` holds for key; raises :class:`StoreError` for anything else."""
        sealed = _is_sealed(stored)
        if sealed and self.plain:
            raise StoreError(f"store: the {self.what} entry {where} is encrypted and the store was opened with plain=True: give it the key")
        if not sealed and not self.plain:
            raise StoreError(
                f"store: the {self.what} entry {where} is not encrypted (a store opened with plain=True wrote it); it was left untouched"
            )
        doc = self._get_sealer().open(stored, f"the {self.what} entry {where}") if sealed else stored
        try:
            d = json.loads(doc.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            d = None
        if not isinstance(d, dict) or not all(isinstance(d.get(f), str) for f in ("tenant", "key", "value")):
            raise StoreError(f"store: the {self.what} entry {where} is not a deviceflow entry; it was left untouched")
        if d.get("version") != ENTRY_VERSION:
            raise StoreError(f"store: the {self.what} entry {where} has version {d.get('version')!r}, which this deviceflow cannot read; it was left untouched")
        if d["key"] != key or d["tenant"] != self.tenant:
            raise StoreError(f"store: the {self.what} entry {where} was written for another tenant or key (copied there?); it was left untouched")
        value: str = d["value"]
        return value


def _is_sealed(stored: bytes) -> bool:
    try:
        env = json.loads(stored.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(env, dict) and env.get("format") == FORMAT


def token() -> str:
    """A random lease token: 16 bytes, hex."""
    return secrets.token_hex(16)


def poll(wait: float, cancel: Optional[threading.Event], attempt: Callable[[], bool]) -> bool:
    """Calls ``attempt`` until it answers True, pausing 2 ms growing to 50 ms between tries.

    Answers False when ``wait`` seconds passed (0: one try) or ``cancel``
    was set first.
    """
    deadline = time.monotonic() + max(wait, 0.0)
    pause = 0.002
    while True:
        if cancel is not None and cancel.is_set():
            return False
        if attempt():
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        d = min(pause / 2 + random.random() * pause, left)
        if cancel is not None:
            if cancel.wait(d):
                return False
        else:
            time.sleep(d)
        pause = min(pause * 2, 0.05)


def hold(ttl: float, renew: Callable[[], bool], release: Callable[[], None]) -> Release:
    """Keeps a lease taken: a daemon thread renews it every third of ``ttl``.

    Answers the release: it stops the renewals, then calls ``release``
    once; calling it again does nothing.
    """
    done = threading.Event()

    def renewing() -> None:
        while not done.wait(ttl / 3):
            try:
                if not renew():
                    return
            except Exception:  # a failed renewal is retried at the next tick
                continue

    thread = threading.Thread(target=renewing, name="deviceflow-lease", daemon=True)
    thread.start()
    once = threading.Lock()
    released = [False]

    def unlock() -> None:
        with once:
            if released[0]:
                return
            released[0] = True
        done.set()
        thread.join()
        try:
            release()
        except Exception:  # the lease then expires by its TTL
            pass

    return unlock
