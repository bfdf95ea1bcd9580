package host

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
)

// EncryptedFileStore keeps values like a FileStore (a directory of entry
// files, mode 0600, atomic writes, the same locks and the same migration
// from the single-file layout v1) whose files are encrypted with
// AES-256-GCM, a fresh random nonce for every write. The key comes from an
// EncryptionKey: $DEVICEFLOW_ENCRYPTION_KEY or the OS keyring (OpenStore
// chooses), or one the program passes.
//
// An entry file that the key does not open is an ErrWrongEncryptionKey
// error naming the file; the store never resets or overwrites it. Each
// entry file is a JSON envelope:
//
//	{"format":"deviceflow-encrypted-store","version":1,"cipher":"AES-256-GCM",
//	 "kdf":"none"|"pbkdf2-sha256","iterations":N,"salt":B64,"nonce":B64,
//	 "ciphertext":B64}
//
// The ciphertext (with GCM's 16-byte tag at its end, additional data
// "deviceflow-encrypted-store/1") is the FileStore's entry document (a v1
// store file's, the whole v1 document). With a passphrase, the AES key is
// PBKDF2-HMAC-SHA256(passphrase, salt, iterations): 600,000 iterations
// (about 0.1 s, once per process and salt) for a passphrase a person
// chose; a base64 key is used as it is, at no cost.
//
// With several keys (see EncryptionKeyEnv), each entry is sealed with the
// first one the next time it is written; until then it opens with the key
// it was sealed with.
//
// An EncryptedFileStore implements Swapper and Locker, across processes,
// as a FileStore does.
type EncryptedFileStore struct {
	d     *storeDir
	codec *sealer
}

// NewEncryptedFileStore returns an EncryptedFileStore kept in the
// directory path (DefaultStorePath("encrypted") when path is "") and
// sealed with key. Nothing is read or created until the first use.
func NewEncryptedFileStore(path string, key EncryptionKey) (*EncryptedFileStore, error) {
	if path == "" {
		var err error
		if path, err = DefaultStorePath(StoreEncrypted); err != nil {
			return nil, err
		}
	}
	if key.ring == nil && key.passphrase == "" && len(key.keys) == 0 {
		return nil, &storeError{kind: ErrNoEncryptionKey,
			msg: "deviceflow: the encrypted store needs a key: set " + EncryptionKeyEnv + " (openssl rand -base64 32) or use the OS keyring"}
	}
	d, err := newStoreDir(path)
	if err != nil {
		return nil, err
	}
	return &EncryptedFileStore{d: d, codec: &sealer{key: key}}, nil
}

// Path returns the store directory's absolute path.
func (s *EncryptedFileStore) Path() string { return s.d.path }

// String describes the store for a person: "encrypted file PATH (key from
// SOURCE)".
func (s *EncryptedFileStore) String() string {
	return "encrypted file " + s.d.path + " (key from " + s.codec.key.source + ")"
}

// Get returns the value under key, or ErrNoEntry.
func (s *EncryptedFileStore) Get(ctx context.Context, key string) (string, error) {
	return s.d.get(ctx, s.codec, key)
}

// Set writes value under key.
func (s *EncryptedFileStore) Set(ctx context.Context, key, value string) error {
	if err := s.ensureKey(ctx); err != nil {
		return err
	}
	return s.d.set(ctx, s.codec, key, value)
}

// Delete removes key.
func (s *EncryptedFileStore) Delete(ctx context.Context, key string) error {
	return s.d.delete(ctx, s.codec, key)
}

// Swap replaces the value under key with new when the value held is old
// (see Swapper), atomically for every process sharing the directory.
func (s *EncryptedFileStore) Swap(ctx context.Context, key string, old, new *string) (bool, *string, error) {
	if new != nil {
		if err := s.ensureKey(ctx); err != nil {
			return false, nil, err
		}
	}
	return s.d.swap(ctx, s.codec, key, old, new)
}

// Lock takes the lease on key (see Locker), across processes: an flock on
// the entry's .lease file.
func (s *EncryptedFileStore) Lock(ctx context.Context, key string, wait time.Duration) (func(), error) {
	return s.d.lease(ctx, s.codec, key, wait)
}

// Keys returns the keys the store holds, sorted, for diagnostics.
func (s *EncryptedFileStore) Keys(ctx context.Context) ([]string, error) {
	return s.d.keys(ctx, s.codec)
}

// CheckWritable reports whether an entry could be written now: it makes
// the directory when it is missing and creates and removes a probe file in
// it, and makes sure the key can seal (a keyring key is read, or created
// for a store that holds nothing yet).
func (s *EncryptedFileStore) CheckWritable(ctx context.Context) error {
	if err := s.d.checkWritable(ctx, s.codec); err != nil {
		return err
	}
	return s.ensureKey(ctx)
}

// ensureKey makes sure a keyring key is at hand before a write. The key is
// created in the keyring only when the keyring has none and the store
// holds no entry (entries sealed with a lost key stay readable by nobody,
// but are never mixed with a new key's), under the lock on PATH.lock so
// that two processes never create two keys.
func (s *EncryptedFileStore) ensureKey(ctx context.Context) error {
	ring := s.codec.key.ring
	if ring == nil || ring.loaded() {
		return nil
	}
	if err := s.d.ready(ctx, s.codec, false); err != nil {
		return err
	}
	if _, err := ring.get(ctx, false); !errors.Is(err, errNoRingKey) {
		return err
	}
	if err := s.d.mkdir(); err != nil {
		return err
	}
	unlock, err := lockFile(ctx, s.d.v1LockPath(), s.d.lockWait)
	if err != nil {
		return err
	}
	defer unlock()
	some, err := s.d.hasEntries()
	if err != nil {
		return err
	}
	_, err = ring.get(ctx, !some)
	return err
}

const (
	sealedFormat   = "deviceflow-encrypted-store"
	sealedVersion  = 1
	sealedCipher   = "AES-256-GCM"
	kdfNone        = "none"
	kdfPBKDF2      = "pbkdf2-sha256"
	saltBytes      = 16
	sealedAAD      = "deviceflow-encrypted-store/1"
	maxIterations  = 10_000_000
	pbkdf2DefaultN = 600_000
)

// pbkdf2Iterations is the iteration count new passphrase files get; tests
// lower it.
var pbkdf2Iterations = pbkdf2DefaultN

// sealedFile is the encrypted store's envelope; encoding/json writes its
// []byte fields in standard base64.
type sealedFile struct {
	Format     string `json:"format"`
	Version    int    `json:"version"`
	Cipher     string `json:"cipher"`
	KDF        string `json:"kdf"`
	Iterations int    `json:"iterations,omitempty"`
	Salt       []byte `json:"salt,omitempty"`
	Nonce      []byte `json:"nonce"`
	Ciphertext []byte `json:"ciphertext"`
}

// sealer is the encrypted store's codec.
type sealer struct {
	key EncryptionKey
	// The passphrase's derived keys, by salt and iterations: kept so that
	// a process derives each once (entry files may carry different
	// salts); the last one derived is reused, with its salt, for later
	// writes.
	mu      sync.Mutex
	salt    []byte
	iter    int
	derived map[string][]byte
}

// maxDerived bounds the derived keys a sealer keeps.
const maxDerived = 64

func (s *sealer) decode(ctx context.Context, where string, stored []byte) ([]byte, error) {
	var env sealedFile
	if err := json.Unmarshal(stored, &env); err != nil || env.Format != sealedFormat {
		return nil, s.notSealed(where, stored, err)
	}
	if env.Version != sealedVersion || env.Cipher != sealedCipher {
		return nil, &storeError{kind: ErrStoreCorrupt,
			msg: fmt.Sprintf("deviceflow: the encrypted store %s uses version %d with %s, which this deviceflow cannot read; the file was left untouched", where, env.Version, env.Cipher)}
	}
	var keys [][]byte
	switch {
	case env.KDF == kdfNone && s.key.passphrase != "":
		return nil, s.wrongKey(where, "the file was sealed with a key, and "+s.key.source+" holds a passphrase")
	case env.KDF == kdfNone:
		var err error
		if keys, err = s.key.resolve(ctx, false); err != nil {
			return nil, err
		}
	case env.KDF == kdfPBKDF2 && s.key.passphrase == "":
		return nil, s.wrongKey(where, "the file was sealed with a passphrase, and "+s.key.source+" holds a key")
	case env.KDF == kdfPBKDF2:
		if env.Iterations < 1 || env.Iterations > maxIterations || len(env.Salt) < 8 {
			return nil, corruptStore(where, fmt.Errorf("bad key derivation parameters"))
		}
		k, err := s.derive(env.Salt, env.Iterations)
		if err != nil {
			return nil, err
		}
		keys = [][]byte{k}
	default:
		return nil, corruptStore(where, fmt.Errorf("unknown key derivation %q", env.KDF))
	}
	for _, k := range keys {
		if plain, err := gcmOpen(k, env.Nonce, env.Ciphertext); err == nil {
			return plain, nil
		}
	}
	return nil, s.wrongKey(where, "wrong key, or the file was altered")
}

func (s *sealer) encode(ctx context.Context, doc []byte) ([]byte, error) {
	env := sealedFile{Format: sealedFormat, Version: sealedVersion, Cipher: sealedCipher, KDF: kdfNone}
	var key []byte
	if s.key.passphrase != "" {
		salt, iter := s.currentSalt()
		if salt == nil {
			salt, iter = make([]byte, saltBytes), pbkdf2Iterations
			rand.Read(salt)
		}
		k, err := s.derive(salt, iter)
		if err != nil {
			return nil, err
		}
		env.KDF, env.Iterations, env.Salt, key = kdfPBKDF2, iter, salt, k
	} else {
		// A keyring key is created, when it must be, before the write
		// (EncryptedFileStore.ensureKey), never here.
		keys, err := s.key.resolve(ctx, false)
		if err != nil {
			return nil, err
		}
		key = keys[0]
	}
	nonce, ct, err := gcmSeal(key, doc)
	if err != nil {
		return nil, err
	}
	env.Nonce, env.Ciphertext = nonce, ct
	b, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func (s *sealer) currentSalt() ([]byte, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.salt, s.iter
}

// derive returns the passphrase's key for salt, deriving it once.
func (s *sealer) derive(salt []byte, iter int) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := fmt.Sprintf("%d:%x", iter, salt)
	if k, ok := s.derived[id]; ok {
		return k, nil
	}
	k, err := pbkdf2.Key(sha256.New, s.key.passphrase, salt, iter, 32)
	if err != nil {
		return nil, err
	}
	if s.derived == nil || len(s.derived) >= maxDerived {
		s.derived = map[string][]byte{}
	}
	s.derived[id] = k
	s.salt, s.iter = append([]byte(nil), salt...), iter
	return k, nil
}

func (s *sealer) wrongKey(where, why string) error {
	return &storeError{kind: ErrWrongEncryptionKey,
		msg: fmt.Sprintf("deviceflow: cannot decrypt the store file %s with the key from %s (%s); the file was left untouched", where, s.key.source, why)}
}

// notSealed explains a file that is not an encrypted store, recognising a
// plain store document and the Fernet token of earlier Python SDKs.
func (s *sealer) notSealed(where string, stored []byte, err error) error {
	why := "not an encrypted deviceflow store"
	switch {
	case bytes.HasPrefix(bytes.TrimSpace(stored), []byte("gAAAAA")):
		why = "a Fernet token, as earlier versions of the Python SDK wrote: the Python SDK still reads it and seals it in the shared AES-256-GCM format the next time it writes the entry"
	case json.Valid(stored) && (bytes.Contains(stored, []byte(`"entries"`)) || bytes.Contains(stored, []byte(`"key"`))):
		why = "from a plain file store, not an encrypted one"
	}
	return &storeError{kind: ErrStoreCorrupt, cause: err,
		msg: fmt.Sprintf("deviceflow: the store file %s is %s; it was left untouched", where, why)}
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// gcmSeal encrypts plain under a fresh random nonce.
func gcmSeal(key, plain []byte) (nonce, ct []byte, err error) {
	aead, err := newGCM(key)
	if err != nil {
		return nil, nil, err
	}
	nonce = make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, nil, err
	}
	return nonce, aead.Seal(nil, nonce, plain, []byte(sealedAAD)), nil
}

func gcmOpen(key, nonce, ct []byte) ([]byte, error) {
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	if len(nonce) != aead.NonceSize() {
		return nil, fmt.Errorf("bad nonce")
	}
	return aead.Open(nil, nonce, ct, []byte(sealedAAD))
}
