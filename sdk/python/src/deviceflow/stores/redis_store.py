"""RedisStore: entries shared by every process and machine on one Redis.

The layout and format are the Go host's ``redisstore`` (``wit/stores.md``,
"Shared stores"), so a Go service and a Python service share one Redis.
For a prefix P (``deviceflow``), a tenant T (``default``) and a key K:

- ``P:T:entry:K`` holds the entry document
  ``{"version":2,"tenant":T,"key":K,"value":V}`` sealed in the AES-256-GCM
  envelope (or the document itself with ``plain=True``), expiring ``ttl``
  seconds after its last write when ``ttl`` is given;
- ``P:T:lease:K`` holds a lease's random token, with a TTL its holder
  renews every third of it.

Compare-and-swap: read, open, compare the value, then a Lua script
(EVALSHA, EVAL the first time) writes only if the key still holds the bytes
read; every write seals with a fresh nonce, so equal bytes mean no one
wrote in between. Needs the ``redis`` extra.
"""

from __future__ import annotations

import functools
import threading
from typing import Any, Callable, List, Optional, Tuple, Type, Union

from ..errors import StoreError
from ._keyed import Release
from ._shared import Codec, KeyOption, check_lease_ttl, check_tenant, hold, poll, token

DEFAULT_PREFIX = "deviceflow"

# The same scripts as the Go store's: the same SHA-1 on the server.
_SWAP = """
local cur = redis.call('GET', KEYS[1])
if ARGV[1] == '' then
  if cur then return 0 end
elseif cur ~= ARGV[1] then
  return 0
end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
elseif tonumber(ARGV[3]) > 0 then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
else
  redis.call('SET', KEYS[1], ARGV[2])
end
return 1
"""

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisStore:
    """Keeps entries in Redis, shared by every process and machine that uses it.

    Give ``url`` (``redis://[user:password@]host:port/db``, ``rediss://``
    for TLS) or a ``client`` (a ``redis.Redis``, which the caller keeps).
    ``tenant`` keeps this store's entries and leases apart from other
    tenants' (1 to 64 letters, digits, '.', '_', '-'). Entries are sealed
    with ``key`` (as :class:`EncryptedFileStore` takes it: a base64 32-byte
    key, several, or ``"passphrase:..."``), with the key ``key_func()``
    returns (a key-management service, asked on first use), or with
    ``$DEVICEFLOW_ENCRYPTION_KEY``; ``plain=True`` keeps them unencrypted.
    ``ttl`` (seconds) makes an entry expire that long after its last write;
    ``ttl_for(key)``, when given, chooses it per key (0: never).
    ``lease_ttl`` (seconds, 30 by default) is how long a lease outlives its
    holder's last renewal: a holder that dies loses it within that time.
    Every failure raises :class:`deviceflow.StoreError`, naming no value.
    """

    def __init__(
        self,
        url: Optional[str] = None,
        *,
        client: Any = None,
        tenant: Optional[str] = None,
        prefix: str = DEFAULT_PREFIX,
        key: KeyOption = None,
        key_func: Optional[Callable[[], KeyOption]] = None,
        plain: bool = False,
        ttl: Optional[float] = None,
        ttl_for: Optional[Callable[[str], float]] = None,
        lease_ttl: Optional[float] = None,
    ) -> None:
        try:
            import redis
        except ImportError:
            raise StoreError("store: RedisStore needs the redis package: pip install 'deviceflow[redis]'") from None
        self.tenant = check_tenant(tenant)
        self._lease_ttl = check_lease_ttl(lease_ttl)
        self._codec = Codec("redis store", self.tenant, key, key_func, plain)
        if (url is None) == (client is None):
            raise StoreError("store: RedisStore takes a url or a client")
        self._own = client is None
        try:
            self._client: Any = redis.Redis.from_url(url) if url is not None else client
        except ValueError:
            # The parser's message may quote the URL, password included.
            raise StoreError("store: the Redis URL is not valid (redis://[user:password@]host:port/db, rediss:// for TLS)") from None
        self._prefix = f"{prefix or DEFAULT_PREFIX}:{self.tenant}:"
        self._ttl = ttl
        self._ttl_for = ttl_for
        self._swap = self._client.register_script(_SWAP)
        self._renew = self._client.register_script(_RENEW)
        self._release = self._client.register_script(_RELEASE)
        self._error: Type[BaseException] = redis.RedisError

    def entry_key(self, key: str) -> str:
        """The Redis key that holds key's entry."""
        return self._prefix + "entry:" + key

    def lease_key(self, key: str) -> str:
        """The Redis key that holds key's lease."""
        return self._prefix + "lease:" + key

    def close(self) -> None:
        """Closes the connection when the store made it from a url."""
        if self._own:
            self._client.close()

    def __repr__(self) -> str:
        return f"RedisStore(tenant={self.tenant!r}, {self._codec.key_source})"

    def _call(self, op: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except self._error as e:
            raise StoreError(f"store: the redis store failed to {op}: {type(e).__name__}: {str(e)[:120]}") from e

    def _ttl_ms(self, key: str) -> int:
        ttl = self._ttl_for(key) if self._ttl_for is not None else self._ttl
        return max(int((ttl or 0) * 1000), 0)

    def _read(self, key: str) -> Optional[bytes]:
        raw: Optional[bytes] = self._call("read", lambda: self._client.get(self.entry_key(key)))
        return raw

    def get(self, key: str) -> Optional[str]:
        """Returns the value under key, or None."""
        raw = self._read(key)
        if raw is None:
            return None
        return self._codec.decode(self.entry_key(key), key, raw)

    def set(self, key: str, value: str) -> None:
        """Writes value under key."""
        raw = self._codec.encode(key, value)
        ms = self._ttl_ms(key)
        self._call("write", lambda: self._client.set(self.entry_key(key), raw, px=ms if ms > 0 else None))

    def delete(self, key: str) -> None:
        """Removes key; removing an absent key is not an error."""
        self._call("delete", lambda: self._client.delete(self.entry_key(key)))

    def swap(self, key: str, old: Optional[str], new: Optional[str]) -> Tuple[bool, Optional[str]]:
        """Replaces the value under key with ``new`` only when it is ``old`` now, for everyone sharing the Redis.

        ``None`` stands for "no value" on both sides. Answers ``(True,
        new)`` when it swapped and ``(False, current)`` when it did not.
        """
        new_raw = self._codec.encode(key, new) if new is not None else b""
        ek = self.entry_key(key)
        while True:
            raw = self._read(key)
            current = self._codec.decode(ek, key, raw) if raw is not None else None
            if current != old:
                return False, current
            if raw is None and new is None:
                return True, None
            args: List[Union[bytes, int]] = [raw or b"", new_raw, self._ttl_ms(key)]
            done = self._call("compare-and-swap", functools.partial(self._swap, keys=[ek], args=args))
            if int(done) == 1:
                return True, new
            # Someone wrote between the read and the script: read again.

    def lock(self, key: str, wait: float, cancel: Optional[threading.Event] = None) -> Optional[Release]:
        """Takes the lease on key for everyone sharing the Redis, waiting up to ``wait`` seconds.

        Answers the function that releases it, or None when another holder
        kept it (or ``cancel`` was set first). The lease is renewed every
        third of ``lease_ttl`` while held.
        """
        lk, tok, ms = self.lease_key(key), token(), int(self._lease_ttl * 1000)
        if not poll(wait, cancel, lambda: bool(self._call("take a lease", lambda: self._client.set(lk, tok, nx=True, px=ms)))):
            return None
        return hold(
            self._lease_ttl,
            lambda: int(self._renew(keys=[lk], args=[tok, ms])) == 1,
            lambda: self._release(keys=[lk], args=[tok]),
        )
