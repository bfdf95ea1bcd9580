package host

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
)

// ErrStoreUnavailable: a store kept by a server (Redis, PostgreSQL) could
// not be reached, or failed to answer. The operation did not happen, or
// its outcome is unknown; nothing was retried.
var ErrStoreUnavailable = errors.New("deviceflow: the store's server is not available")

// Sealer seals values in the encrypted store's envelope (AES-256-GCM, a
// fresh random nonce for every seal; see wit/stores.md) and opens them,
// for stores kept outside this package, such as the Redis and PostgreSQL
// stores, so that every store and every language shares one format and one
// key.
//
// A Sealer is safe for concurrent use. A passphrase's key is derived once
// per process and salt.
type Sealer struct{ s *sealer }

// NewSealer returns a Sealer for key: fixed keys or a passphrase (see
// ParseEncryptionKey and KeyFromEnv). A key kept in a store (KeyFromStore:
// the OS keyring, say) is refused: it belongs to one machine, and a store
// shared by several needs the same key on all of them.
func NewSealer(key EncryptionKey) (*Sealer, error) {
	if key.ring != nil {
		return nil, &storeError{kind: ErrNoEncryptionKey,
			msg: "deviceflow: a shared store needs the same key on every machine, not one kept in " + key.source + ": pass a key or set " + EncryptionKeyEnv}
	}
	if key.passphrase == "" && len(key.keys) == 0 {
		return nil, &storeError{kind: ErrNoEncryptionKey,
			msg: "deviceflow: the encrypted store needs a key: set " + EncryptionKeyEnv + " (openssl rand -base64 32) or pass one"}
	}
	return &Sealer{s: &sealer{key: key}}, nil
}

// Seal encrypts plain and returns the envelope, compact JSON.
func (s *Sealer) Seal(ctx context.Context, plain []byte) ([]byte, error) {
	b, err := s.s.encode(ctx, plain)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// Open decrypts an envelope that Seal, an EncryptedFileStore or another
// language's encrypted store wrote. where names the envelope's place (a
// file, a row, a key) in error messages, which never quote the envelope.
// A value that is not an envelope is an ErrStoreCorrupt error; one that
// no key opens, ErrWrongEncryptionKey.
func (s *Sealer) Open(ctx context.Context, where string, sealed []byte) ([]byte, error) {
	return s.s.decode(ctx, where, sealed)
}

// IsSealed reports whether b looks like an envelope (a JSON object whose
// format is the encrypted store's), without opening it.
func IsSealed(b []byte) bool {
	var env struct {
		Format string `json:"format"`
	}
	return json.Unmarshal(b, &env) == nil && env.Format == sealedFormat
}

// KeySource names where the Sealer's key comes from, for messages.
func (s *Sealer) KeySource() string { return s.s.key.source }
