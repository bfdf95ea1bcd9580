"""EncryptedFileStore: a FileStore whose entry files are sealed with AES-256-GCM.

The envelope is the one the Go host and the Node SDK write (see
``wit/stores.md``), so the three languages share one encrypted store:

    {"format":"deviceflow-encrypted-store","version":1,"cipher":"AES-256-GCM",
     "kdf":"none"|"pbkdf2-sha256","iterations":N,"salt":B64,"nonce":B64,
     "ciphertext":B64}

``ciphertext`` is AES-256-GCM of the entry document under a fresh 12-byte
nonce, additional data ``deviceflow-encrypted-store/1``, the 16-byte tag at
its end; base64 is the standard alphabet, padded. Entries this SDK wrote
before (Fernet tokens) are still read, and sealed anew on their next write.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import threading
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

from ..errors import StoreError
from ._flock import FileLock
from .file import FileStore

KEY_ENV = "DEVICEFLOW_ENCRYPTION_KEY"

FORMAT = "deviceflow-encrypted-store"
VERSION = 1
CIPHER = "AES-256-GCM"
AAD = b"deviceflow-encrypted-store/1"
KDF_NONE = "none"
KDF_PBKDF2 = "pbkdf2-sha256"
PASSPHRASE_PREFIX = "passphrase:"
MIN_PASSPHRASE = 12
# New passphrase files get this many PBKDF2 iterations (as Go's); tests lower it.
PBKDF2_ITERATIONS = 600_000
_MAX_ITERATIONS = 10_000_000

_GENERATE_HINT = 'make one with: openssl rand -base64 32, or python -c "from deviceflow.stores import generate_key; print(generate_key())"'

KeyLike = Union[str, bytes]

# The keyring entry (under the keyring store's service) that holds the key
# when it lives there, as Go's and Node's stores keep it.
KEYRING_KEY_USER = "encryption-key"


class EncryptedFileStore(FileStore):
    """Keeps values in 0600 entry files sealed with AES-256-GCM.

    The layout is :class:`FileStore`'s (a directory, one file per entry,
    the same locks); each entry file is the JSON envelope that Go's and
    Node's encrypted stores write, so all three read one another's files.

    ``key`` is a 32-byte key in base64 (standard or URL-safe alphabet,
    padded or not: ``openssl rand -base64 32``, :func:`generate_key`, or a
    Fernet key from earlier versions), or several: the first seals, every
    one opens, so keys can be rotated. ``"passphrase:<at least 12
    characters>"`` derives the key with PBKDF2-HMAC-SHA256 (a random salt
    and the iteration count kept in each file). Without ``key``,
    ``$DEVICEFLOW_ENCRYPTION_KEY`` is read in the same forms (several keys
    separated by commas). Without either, ``keyring`` (a
    :class:`KeyringStore`) holds it in its entry ``encryption-key``, created
    at random before the first write of a store that holds no entry, as the
    Go and Node stores keep it. A missing or malformed key, or a file the key
    cannot open, raises :class:`deviceflow.StoreError` naming the file,
    which is left untouched; nothing is ever written in plain text.

    Entries written by earlier versions of this SDK (Fernet tokens) are
    read with the same key and sealed in the shared format the next time
    they are written. Needs the ``encryption`` extra (``cryptography``).
    """

    # The Go and Node stores' default name (wit/stores.md); releases before
    # it used "tokens.enc", still used where it exists and the default does not.
    default_name = "tokens.enc.json"
    legacy_name = "tokens.enc"

    def __init__(
        self,
        path: Union[str, "os.PathLike[str]", None] = None,
        *,
        key: Union[KeyLike, Sequence[KeyLike], None] = None,
        keyring: Any = None,
        lock_timeout: float = 10.0,
    ) -> None:
        super().__init__(path, lock_timeout=lock_timeout)
        _require_cryptography()
        self._keyring = None
        if key is None and not os.environ.get(KEY_ENV, "").strip() and keyring is not None:
            self._keyring = keyring
            self._keys: List[bytes] = []
            self._passphrase: Optional[str] = None
            self._source = "the OS keyring"
        else:
            self._keys, self._passphrase, self._source = _parse_keys(key)
        self._sealer = Sealer(self._keys, self._passphrase, self._source, resolve=self._resolve_keys)

    @property
    def key_source(self) -> str:
        """Where the key comes from: "the key passed in", ``DEVICEFLOW_ENCRYPTION_KEY`` or "the OS keyring"."""
        return self._source

    def set(self, key: str, value: str) -> None:
        self._ensure_key()
        super().set(key, value)

    def swap(self, key: str, old: Optional[str], new: Optional[str]) -> Tuple[bool, Optional[str]]:
        if new is not None:
            self._ensure_key()
        return super().swap(key, old, new)

    def _ensure_key(self) -> None:
        """Before a write: a keyring key is read, or created when the keyring
        has none and the store holds no entry, under the lock on PATH.lock so
        that two processes never create two keys."""
        if self._keyring is None or self._keys:
            return
        self._ready(create=False)
        with FileLock(self._v1_lock, self._lock_timeout):
            try:
                has_entries = any(p.suffix == ".json" and not p.name.startswith(".") for p in self.path.iterdir())
            except (FileNotFoundError, NotADirectoryError):
                has_entries = False
            self._resolve_keys(create=not has_entries)

    def _resolve_keys(self, create: bool = False) -> List[bytes]:
        if self._keys or self._keyring is None:
            return self._keys
        value = self._keyring.get(KEYRING_KEY_USER)
        if value is None and create:
            self._keyring.set(KEYRING_KEY_USER, generate_key())
            value = self._keyring.get(KEYRING_KEY_USER)  # what the keyring holds is the key from now on
        if value is None:
            raise StoreError(
                f"store: the OS keyring holds no deviceflow encryption key for the existing encrypted store {self.path}: "
                f"set {KEY_ENV} to the key it was written with"
            )
        raw = decode_key(value)
        if raw is None:
            raise StoreError(f"store: the OS keyring's deviceflow encryption key is not a base64 32-byte key: set {KEY_ENV} instead")
        self._keys = [raw]
        return self._keys

    def _encode(self, plain: bytes) -> bytes:
        return self._sealer.seal(plain)

    def _decode(self, stored: bytes, where: Path) -> bytes:
        return self._sealer.open(stored, str(where))


class Sealer:
    """Seals bytes in the AES-256-GCM envelope every deviceflow store shares, and opens them.

    ``keys`` are 32-byte AES keys (the first seals, every one opens) and
    ``passphrase``, when not None, replaces them (PBKDF2-HMAC-SHA256, a
    random salt kept in the envelope, derived once per process and salt).
    ``source`` names where they came from, for messages; ``resolve``, when
    given, is called for the keys when they are first needed (a key kept in
    the keyring). :class:`EncryptedFileStore` seals its files with one, and
    the Redis and PostgreSQL stores their entries. Thread-safe.
    """

    def __init__(
        self,
        keys: Sequence[bytes],
        passphrase: Optional[str],
        source: str,
        resolve: Optional[Callable[[], List[bytes]]] = None,
    ) -> None:
        self._keys = list(keys)
        self._passphrase = passphrase
        self.source = source
        self._resolve = resolve
        self._derived: Dict[Tuple[int, bytes], bytes] = {}
        self._salt: Optional[Tuple[bytes, int]] = None
        self._derive_lock = threading.Lock()

    @classmethod
    def from_key(cls, key: Union[KeyLike, Sequence[KeyLike], None]) -> "Sealer":
        """A Sealer for ``key`` in any form :class:`EncryptedFileStore` takes; None reads ``DEVICEFLOW_ENCRYPTION_KEY``."""
        _require_cryptography()
        keys, passphrase, source = _parse_keys(key)
        return cls(keys, passphrase, source)

    def _resolve_keys(self) -> List[bytes]:
        if self._resolve is not None:
            return self._resolve()
        return self._keys

    def seal(self, plain: bytes, *, compact: bool = False) -> bytes:
        """Returns the envelope around ``plain``: indented JSON with a final newline (as files hold it), or compact."""
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        env: Dict[str, Any] = {"format": FORMAT, "version": VERSION, "cipher": CIPHER, "kdf": KDF_NONE}
        if self._passphrase is not None:
            salt, iterations = self._salt or (secrets.token_bytes(16), PBKDF2_ITERATIONS)
            key = self._derive(salt, iterations)
            env.update(kdf=KDF_PBKDF2, iterations=iterations, salt=_b64(salt))
        else:
            key = self._resolve_keys()[0]
        nonce = secrets.token_bytes(12)
        env["nonce"] = _b64(nonce)
        env["ciphertext"] = _b64(AESGCM(key).encrypt(nonce, plain, AAD))
        if compact:
            return json.dumps(env, separators=(",", ":")).encode("ascii")
        return (json.dumps(env, indent=2) + "\n").encode("ascii")

    def open(self, stored: bytes, where: str) -> bytes:
        """Returns what the envelope ``stored`` seals; ``where`` names it in errors, which never quote it."""
        text = stored.strip()
        if text.startswith(b"gAAAAA"):
            return self._open_fernet(text, where)
        try:
            env: Any = json.loads(text.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            env = None
        if not isinstance(env, dict) or env.get("format") != FORMAT:
            raise StoreError(f"store: {where} is not an encrypted deviceflow store entry; it was left untouched")
        if env.get("version") != VERSION or env.get("cipher") != CIPHER:
            raise StoreError(
                f"store: {where} uses version {env.get('version')!r} with {env.get('cipher')!r}, "
                "which this deviceflow cannot read; it was left untouched"
            )
        try:
            nonce = base64.b64decode(env["nonce"], validate=True)
            sealed = base64.b64decode(env["ciphertext"], validate=True)
        except (KeyError, TypeError, ValueError, binascii.Error):
            raise StoreError(f"store: {where} is not an encrypted deviceflow store entry (bad nonce or ciphertext); it was left untouched") from None
        kdf = env.get("kdf")
        if kdf == KDF_NONE:
            if self._passphrase is not None:
                raise self._wrong_key(where, f"the file was sealed with a key, and {self.source} holds a passphrase")
            keys = self._resolve_keys()
        elif kdf == KDF_PBKDF2:
            if self._passphrase is None:
                raise self._wrong_key(where, f"the file was sealed with a passphrase, and {self.source} holds a key")
            iterations, salt_text = env.get("iterations"), env.get("salt")
            try:
                salt = base64.b64decode(salt_text or "", validate=True)
            except (TypeError, ValueError, binascii.Error):
                salt = b""
            if not isinstance(iterations, int) or isinstance(iterations, bool) or not 1 <= iterations <= _MAX_ITERATIONS or len(salt) < 8:
                raise StoreError(f"store: {where} has bad key derivation parameters; it was left untouched")
            keys = [self._derive(salt, iterations)]
        else:
            raise StoreError(f"store: {where} uses an unknown key derivation {kdf!r}; it was left untouched")
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if len(nonce) == 12:
            for k in keys:
                try:
                    return AESGCM(k).decrypt(nonce, sealed, AAD)
                except InvalidTag:
                    continue
        raise self._wrong_key(where, "wrong encryption key, or the file was altered")

    def _open_fernet(self, token: bytes, where: str) -> bytes:
        """Opens an entry that an earlier version of this SDK sealed with Fernet."""
        from cryptography.fernet import Fernet, InvalidToken

        if self._passphrase is not None:
            raise self._wrong_key(where, f"the file is a Fernet token, sealed with a key, and {self.source} holds a passphrase")
        for k in self._resolve_keys():
            try:
                return bytes(Fernet(base64.urlsafe_b64encode(k)).decrypt(token))
            except InvalidToken:
                continue
        raise self._wrong_key(where, "wrong encryption key, or the file was altered")

    def _derive(self, salt: bytes, iterations: int) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

        assert self._passphrase is not None
        with self._derive_lock:
            found = self._derived.get((iterations, salt))
            if found is None:
                kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=iterations)
                found = kdf.derive(self._passphrase.encode("utf-8"))
                if len(self._derived) >= 64:
                    self._derived.clear()
                self._derived[(iterations, salt)] = found
                # Later writes reuse this salt: one derivation per process.
                self._salt = (salt, iterations)
            return found

    def _wrong_key(self, where: str, why: str) -> StoreError:
        return StoreError(f"store: cannot decrypt {where} with the key from {self.source} ({why}); it was left untouched")


def generate_key() -> str:
    """Returns a new random 32-byte key in standard base64: a value for ``DEVICEFLOW_ENCRYPTION_KEY``."""
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def decode_key(text: KeyLike) -> Optional[bytes]:
    """Decodes a base64 32-byte key in either alphabet, padded or not; None when it is not one."""
    s = text.decode("ascii", "replace") if isinstance(text, bytes) else text
    s = s.strip()
    padded = s + "=" * (-len(s) % 4)
    for alt in (None, b"-_"):
        try:
            raw = base64.b64decode(padded, altchars=alt, validate=True)
        except (binascii.Error, ValueError):
            continue
        if len(raw) == 32:
            return raw
    return None


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _require_cryptography() -> None:
    try:
        import cryptography.hazmat.primitives.ciphers.aead  # noqa: F401
    except ImportError:
        raise StoreError("store: EncryptedFileStore needs the cryptography package: pip install 'deviceflow[encryption]'") from None


def _parse_keys(key: Union[KeyLike, Sequence[KeyLike], None]) -> Tuple[List[bytes], Optional[str], str]:
    """Answers (keys, passphrase, source) from ``key`` or the environment."""
    items: List[KeyLike]
    if key is None:
        env = os.environ.get(KEY_ENV, "")
        source = KEY_ENV
        if not env.strip():
            raise StoreError(f"store: no encryption key: pass key= or set {KEY_ENV}; {_GENERATE_HINT}")
        items = [env] if env.startswith(PASSPHRASE_PREFIX) else [k for k in env.split(",")]
    else:
        source = "the key passed in"
        items = [key] if isinstance(key, (str, bytes)) else list(key)
        if not items:
            raise StoreError(f"store: no encryption key; {_GENERATE_HINT}")
    if len(items) == 1:
        first = items[0].decode("utf-8", "replace") if isinstance(items[0], bytes) else items[0]
        if first.startswith(PASSPHRASE_PREFIX):
            passphrase = first[len(PASSPHRASE_PREFIX) :]
            if len(passphrase) < MIN_PASSPHRASE:
                raise StoreError(f"store: the passphrase in {source} is shorter than {MIN_PASSPHRASE} characters")
            return [], passphrase, source
    keys: List[bytes] = []
    for item in items:
        raw = decode_key(item)
        if raw is None:
            raise StoreError(
                f"store: {source} is not a base64 32-byte key nor passphrase:<at least {MIN_PASSPHRASE} characters>; {_GENERATE_HINT}"
            )
        keys.append(raw)
    return keys, None, source
