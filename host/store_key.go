package host

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
)

// EncryptionKeyEnv names the environment variable that holds an
// EncryptedFileStore's key: a base64 32-byte key (standard or URL-safe
// alphabet, padded or not: `openssl rand -base64 32`, or a Python SDK Fernet
// key), several such keys separated by commas (the first encrypts, every one
// decrypts, so keys can be rotated), or "passphrase:" followed by a
// passphrase of at least 12 characters.
const EncryptionKeyEnv = "DEVICEFLOW_ENCRYPTION_KEY"

// keyringKeyUser is the keyring entry (under the store's service) that
// holds the encrypted store's key when no environment variable gives one.
const keyringKeyUser = "encryption-key"

// minPassphrase is the shortest passphrase accepted.
const minPassphrase = 12

// EncryptionKey is where an EncryptedFileStore gets its key: fixed keys, a
// passphrase (the AES key is derived from it with PBKDF2-HMAC-SHA256, a
// random salt per file and the iteration count recorded in the file), or an
// entry in the OS keyring, read when the store is first used and created at
// random when the store's file does not exist yet. Build one with
// ParseEncryptionKey, KeyFromEnv or KeyFromStore (the keyring store's
// package host/store/keyring offers EncryptionKey for the OS keyring).
type EncryptionKey struct {
	// source names where the key came from, for messages.
	source string
	// keys are 32-byte AES keys: keys[0] encrypts, each one decrypts.
	keys [][]byte
	// passphrase, when not empty, replaces keys.
	passphrase string
	// ring, when not nil, holds the key; keys are filled from it.
	ring *keyringKey
}

// keyringKey is a key kept in another store (the OS keyring), fetched once.
type keyringKey struct {
	store Store
	// where names the store for messages: "the OS keyring".
	where string
	mu    sync.Mutex
	key   []byte
}

// ParseEncryptionKey reads a key in the form EncryptionKeyEnv describes.
// The error never quotes the value.
func ParseEncryptionKey(s string) (EncryptionKey, error) {
	return parseKey(s, "the encryption key")
}

// KeyFromEnv reads the key in $DEVICEFLOW_ENCRYPTION_KEY; ok is false when
// the variable is unset or empty.
func KeyFromEnv() (key EncryptionKey, ok bool, err error) {
	s := os.Getenv(EncryptionKeyEnv)
	if s == "" {
		return EncryptionKey{}, false, nil
	}
	key, err = parseKey(s, EncryptionKeyEnv)
	return key, err == nil, err
}

// KeyFromStore keeps the key in s (typically the OS keyring: see package
// host/store/keyring), in the entry "encryption-key"; where names s for
// messages ("the OS keyring"). The entry is read on first use; when it does
// not exist and the encrypted store's file does not exist either, a random
// key is created and saved there.
func KeyFromStore(s Store, where string) EncryptionKey {
	return EncryptionKey{source: where, ring: &keyringKey{store: s, where: where}}
}

// GenerateKey returns a new random key, base64-encoded: a value for
// $DEVICEFLOW_ENCRYPTION_KEY.
func GenerateKey() string {
	k := make([]byte, 32)
	rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}

// Source names where the key comes from.
func (k EncryptionKey) Source() string { return k.source }

func parseKey(s, source string) (EncryptionKey, error) {
	if p, ok := strings.CutPrefix(s, "passphrase:"); ok {
		if len([]rune(p)) < minPassphrase {
			return EncryptionKey{}, &storeError{kind: ErrNoEncryptionKey,
				msg: fmt.Sprintf("deviceflow: the passphrase in %s is shorter than %d characters", source, minPassphrase)}
		}
		return EncryptionKey{source: source, passphrase: p}, nil
	}
	key := EncryptionKey{source: source}
	for _, part := range strings.Split(s, ",") {
		raw, ok := decodeKey(strings.TrimSpace(part))
		if !ok {
			return EncryptionKey{}, &storeError{kind: ErrNoEncryptionKey,
				msg: fmt.Sprintf("deviceflow: %s is not a base64 32-byte key (make one with: openssl rand -base64 32) nor passphrase:<at least %d characters>", source, minPassphrase)}
		}
		key.keys = append(key.keys, raw)
	}
	return key, nil
}

// decodeKey decodes base64 in either alphabet, padded or not, and accepts
// exactly 32 bytes.
func decodeKey(s string) ([]byte, bool) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == 32 {
			return b, true
		}
	}
	return nil, false
}

// errNoRingKey is the cause of the error a keyring key's lookup fails with
// when the keyring holds no key.
var errNoRingKey = errors.New("deviceflow: no encryption key in the key's store")

// resolve returns the AES keys; for a keyring key it reads the entry, and
// creates it when create is set (the store holds no entry yet, and the
// caller holds the store's lock).
func (k EncryptionKey) resolve(ctx context.Context, create bool) ([][]byte, error) {
	if k.ring == nil {
		return k.keys, nil
	}
	return k.ring.get(ctx, create)
}

// loaded reports whether the key was read already.
func (r *keyringKey) loaded() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.key != nil
}

func (r *keyringKey) get(ctx context.Context, create bool) ([][]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.key != nil {
		return [][]byte{r.key}, nil
	}
	v, err := r.store.Get(ctx, keyringKeyUser)
	switch {
	case errors.Is(err, ErrNoEntry) && create:
		if err := r.store.Set(ctx, keyringKeyUser, GenerateKey()); err != nil {
			return nil, r.unavailable(err)
		}
		// Read it back: what the keyring holds is the key from now on.
		if v, err = r.store.Get(ctx, keyringKeyUser); err != nil {
			return nil, r.unavailable(err)
		}
	case errors.Is(err, ErrNoEntry):
		return nil, &storeError{kind: ErrNoEncryptionKey, cause: errNoRingKey,
			msg: "deviceflow: " + r.where + " holds no deviceflow encryption key for the existing encrypted store: set " + EncryptionKeyEnv + " to the key it was written with"}
	case err != nil:
		return nil, r.unavailable(err)
	}
	raw, ok := decodeKey(v)
	if !ok {
		return nil, &storeError{kind: ErrNoEncryptionKey,
			msg: "deviceflow: the deviceflow encryption key in " + r.where + " is not a base64 32-byte key: set " + EncryptionKeyEnv + " instead"}
	}
	r.key = raw
	return [][]byte{raw}, nil
}

// unavailable explains a store that cannot hold the encrypted store's key,
// in the store's own words (its Detail, when it has one).
func (r *keyringKey) unavailable(err error) error {
	detail := clipCause(err)
	var d interface{ Detail() string }
	if errors.As(err, &d) && d.Detail() != "" {
		detail = d.Detail()
	}
	return &storeError{kind: ErrNoEncryptionKey, cause: err,
		msg: "deviceflow: no encryption key: " + EncryptionKeyEnv + " is not set and " + r.where + " is not available (" + detail + "); set " + EncryptionKeyEnv + " (make one with: openssl rand -base64 32)"}
}
