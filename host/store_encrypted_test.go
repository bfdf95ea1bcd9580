package host

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// testKey parses a key or fails the test.
func testKey(t *testing.T, s string) EncryptionKey {
	t.Helper()
	k, err := ParseEncryptionKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func encryptedAt(t *testing.T, path string, key EncryptionKey) *EncryptedFileStore {
	t.Helper()
	s, err := NewEncryptedFileStore(path, key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestEncryptedStoreContract(t *testing.T) {
	t.Parallel()
	suite.Contract(t, encryptedAt(t, filepath.Join(t.TempDir(), "t.enc.json"), testKey(t, GenerateKey())))
}

// TestEncryptedStoreSealsEverything: neither keys nor values appear in the
// file, each write uses a new nonce, and the file is 0600.
func TestEncryptedStoreSealsEverything(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "t.enc.json")
	s := encryptedAt(t, path, testKey(t, GenerateKey()))
	ctx := context.Background()
	if err := s.Set(ctx, "cache-key-github.com", "gho_SECRETTOKEN"); err != nil {
		t.Fatal(err)
	}
	file := entryPath(path, "cache-key-github.com")
	first, _ := os.ReadFile(file)
	for _, leak := range []string{"cache-key", "gho_SECRETTOKEN", "value", "version\":2"} {
		if bytes.Contains(first, []byte(leak)) {
			t.Fatalf("the file shows %q: %s", leak, first)
		}
	}
	var env sealedFile
	if err := json.Unmarshal(first, &env); err != nil || env.Cipher != "AES-256-GCM" || env.KDF != "none" || len(env.Nonce) != 12 {
		t.Fatalf("envelope %s: %v", first, err)
	}
	if err := s.Set(ctx, "cache-key-github.com", "gho_OTHER"); err != nil {
		t.Fatal(err)
	}
	second, _ := os.ReadFile(file)
	var env2 sealedFile
	json.Unmarshal(second, &env2)
	if bytes.Equal(env.Nonce, env2.Nonce) {
		t.Fatal("two writes used the same nonce")
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 && os.PathSeparator == '/' {
		t.Errorf("mode %o", fi.Mode().Perm())
	}
}

// TestEncryptedStoreWrongKey: another key is a clear error for reads and
// writes, and the file is never reset.
func TestEncryptedStoreWrongKey(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "t.enc.json")
	ctx := context.Background()
	if err := encryptedAt(t, path, testKey(t, GenerateKey())).Set(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	file := entryPath(path, "k")
	before, _ := os.ReadFile(file)
	other := encryptedAt(t, path, testKey(t, GenerateKey()))
	_, gerr := other.Get(ctx, "k")
	serr := other.Set(ctx, "k", "w")
	_, _, werr := other.Swap(ctx, "k", nil, sp("w"))
	derr := other.Delete(ctx, "k")
	_, kerr := other.Keys(ctx)
	for _, err := range []error{gerr, serr, werr, derr, kerr} {
		if !errors.Is(err, ErrWrongEncryptionKey) || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), "left untouched") {
			t.Fatalf("got %v, want ErrWrongEncryptionKey naming the file", err)
		}
	}
	if after, _ := os.ReadFile(file); !bytes.Equal(before, after) {
		t.Fatal("the file changed")
	}
}

// TestEncryptedStoreAlteredFile: a flipped bit in the ciphertext is caught.
func TestEncryptedStoreAlteredFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "t.enc.json")
	key := testKey(t, GenerateKey())
	s := encryptedAt(t, path, key)
	s.Set(context.Background(), "k", "v")
	raw, _ := os.ReadFile(entryPath(path, "k"))
	var env sealedFile
	json.Unmarshal(raw, &env)
	env.Ciphertext[0] ^= 1
	raw, _ = json.Marshal(env)
	os.WriteFile(entryPath(path, "k"), raw, 0o600)
	if _, err := s.Get(context.Background(), "k"); !errors.Is(err, ErrWrongEncryptionKey) {
		t.Fatalf("got %v", err)
	}
}

// TestEncryptedStoreKeyRotation: with "new,old" the old entries open, and
// each is sealed with the new key when it is written again.
func TestEncryptedStoreKeyRotation(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "t.enc.json")
	ctx := context.Background()
	oldKey, newKey := GenerateKey(), GenerateKey()
	encryptedAt(t, path, testKey(t, oldKey)).Set(ctx, "k", "v")
	both := encryptedAt(t, path, testKey(t, newKey+","+oldKey))
	if v, err := both.Get(ctx, "k"); err != nil || v != "v" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	both.Set(ctx, "k2", "v2")
	newOnly := encryptedAt(t, path, testKey(t, newKey))
	if v, err := newOnly.Get(ctx, "k2"); err != nil || v != "v2" {
		t.Fatalf("a new entry, the new key alone: %q, %v", v, err)
	}
	if _, err := newOnly.Get(ctx, "k"); !errors.Is(err, ErrWrongEncryptionKey) {
		t.Fatalf("an entry not written since: %v, want ErrWrongEncryptionKey", err)
	}
	both.Set(ctx, "k", "v'")
	if v, err := newOnly.Get(ctx, "k"); err != nil || v != "v'" {
		t.Fatalf("after rotation, the new key alone: %q, %v", v, err)
	}
}

func TestEncryptedStorePassphrase(t *testing.T) {
	pbkdf2Iterations = 1000 // the derivation's cost is not under test
	t.Cleanup(func() { pbkdf2Iterations = pbkdf2DefaultN })
	path := filepath.Join(t.TempDir(), "t.enc.json")
	ctx := context.Background()
	s := encryptedAt(t, path, testKey(t, "passphrase:correct horse battery staple"))
	suite.Contract(t, s)
	raw, _ := os.ReadFile(entryPath(path, "b"))
	var env sealedFile
	json.Unmarshal(raw, &env)
	if env.KDF != "pbkdf2-sha256" || env.Iterations != 1000 || len(env.Salt) != 16 {
		t.Fatalf("envelope %s", raw)
	}
	// Another process with the same passphrase reads it.
	if v, err := encryptedAt(t, path, testKey(t, "passphrase:correct horse battery staple")).Get(ctx, "b"); err != nil || v == "" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	for key, why := range map[string]string{
		"passphrase:correct horse battery stapler": "wrong key",
		GenerateKey(): "sealed with a passphrase",
	} {
		_, err := encryptedAt(t, path, testKey(t, key)).Get(ctx, "b")
		if !errors.Is(err, ErrWrongEncryptionKey) || !strings.Contains(err.Error(), why) {
			t.Errorf("got %v, want ErrWrongEncryptionKey saying %q", err, why)
		}
	}
}

func TestParseEncryptionKey(t *testing.T) {
	raw := bytes.Repeat([]byte{0xfb}, 32)
	for _, s := range []string{
		base64.StdEncoding.EncodeToString(raw),
		base64.URLEncoding.EncodeToString(raw), // a Python SDK Fernet key
		base64.RawStdEncoding.EncodeToString(raw),
		base64.RawURLEncoding.EncodeToString(raw),
	} {
		k, err := ParseEncryptionKey(s)
		if err != nil || len(k.keys) != 1 || !bytes.Equal(k.keys[0], raw) {
			t.Errorf("%s: %v", s, err)
		}
	}
	secret := "hunter2hunter2-not-a-key"
	for _, s := range []string{
		"", "passphrase:short", secret, base64.StdEncoding.EncodeToString(raw[:16]),
		GenerateKey() + "," + secret,
	} {
		_, err := ParseEncryptionKey(s)
		if !errors.Is(err, ErrNoEncryptionKey) {
			t.Errorf("%q: got %v, want ErrNoEncryptionKey", s, err)
		} else if strings.Contains(err.Error(), secret) {
			t.Errorf("the message quotes the value: %v", err)
		}
	}
	if _, err := NewEncryptedFileStore(filepath.Join(t.TempDir(), "x"), EncryptionKey{}); !errors.Is(err, ErrNoEncryptionKey) {
		t.Errorf("a zero key: %v", err)
	}
}

func TestKeyFromEnv(t *testing.T) {
	t.Setenv(EncryptionKeyEnv, "")
	if _, ok, err := KeyFromEnv(); ok || err != nil {
		t.Fatalf("unset: %v %v", ok, err)
	}
	t.Setenv(EncryptionKeyEnv, GenerateKey())
	if k, ok, err := KeyFromEnv(); !ok || err != nil || k.Source() != EncryptionKeyEnv {
		t.Fatalf("set: %v %v %q", ok, err, k.Source())
	}
	t.Setenv(EncryptionKeyEnv, "nonsense")
	if _, _, err := KeyFromEnv(); !errors.Is(err, ErrNoEncryptionKey) || !strings.Contains(err.Error(), EncryptionKeyEnv) {
		t.Fatalf("malformed: %v", err)
	}
}

// TestEncryptedStoreRefusesOtherFiles: a plain store or a Python Fernet
// file at the encrypted store's path is named, not overwritten.
func TestEncryptedStoreRefusesOtherFiles(t *testing.T) {
	t.Parallel()
	for content, why := range map[string]string{
		`{"version":1,"entries":{"k":"v"}}`: "plain file store",
		"gAAAAABl0123456789abcdef==":        "Fernet",
		"garbage":                           "is not",
	} {
		path := filepath.Join(t.TempDir(), "t.enc.json")
		os.WriteFile(path, []byte(content), 0o600)
		s := encryptedAt(t, path, testKey(t, GenerateKey()))
		err := s.Set(context.Background(), "k", "w")
		if !errors.Is(err, ErrStoreCorrupt) || !strings.Contains(err.Error(), why) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: got %v", content, err)
		}
		if raw, _ := os.ReadFile(path); string(raw) != content {
			t.Errorf("%s: the file changed", content)
		}
	}
}

// TestEncryptedStoreKeyInKeyring: without an environment key, the key is
// created in the keyring (here a memory store stands for it; package
// host/store/keyring runs the real one) with the file, found there later, and its absence
// for an existing file is an error, not a new key.
func TestEncryptedStoreKeyInKeyring(t *testing.T) {
	t.Parallel()
	ring := NewMemoryStore()
	path := filepath.Join(t.TempDir(), "t.enc.json")
	ctx := context.Background()
	s := encryptedAt(t, path, KeyFromStore(ring, "the OS keyring"))
	if _, err := s.Get(ctx, "k"); !errors.Is(err, ErrNoEntry) {
		t.Fatalf("Get before any file: %v", err)
	}
	if ringKey(ring) != "" {
		t.Fatal("a read created a key")
	}
	if err := s.Set(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	stored := ringKey(ring)
	if _, ok := decodeKey(stored); !ok {
		t.Fatalf("keyring holds %q", stored)
	}
	// Another process finds the key in the keyring; so does the
	// environment variable holding it.
	if v, err := encryptedAt(t, path, KeyFromStore(ring, "the OS keyring")).Get(ctx, "k"); err != nil || v != "v" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	if v, err := encryptedAt(t, path, testKey(t, stored)).Get(ctx, "k"); err != nil || v != "v" {
		t.Fatalf("with the key from the keyring: %q, %v", v, err)
	}
	// The key is gone from the keyring: an error, never a new key.
	empty := NewMemoryStore()
	s2 := encryptedAt(t, path, KeyFromStore(empty, "the OS keyring"))
	if err := s2.Set(ctx, "k", "w"); !errors.Is(err, ErrNoEncryptionKey) || !strings.Contains(err.Error(), EncryptionKeyEnv) {
		t.Fatalf("got %v, want ErrNoEncryptionKey", err)
	}
	if ringKey(empty) != "" {
		t.Fatal("a key was created for an existing file")
	}
	// No keyring at all.
	broken := encryptedAt(t, filepath.Join(t.TempDir(), "u.enc.json"), KeyFromStore(failingStore{}, "the OS keyring"))
	err := broken.Set(ctx, "k", "v")
	if !errors.Is(err, ErrNoEncryptionKey) || !errors.Is(err, errNoSecretService) || !strings.Contains(err.Error(), EncryptionKeyEnv) || !strings.Contains(err.Error(), "dbus-launch") {
		t.Fatalf("got %v", err)
	}
	t.Logf("without a keyring: %v", err)
}

// TestEncryptedStoreRefusesOtherEntries: an entry file that is a plain
// store's entry, a Fernet token or garbage is named, not overwritten.
func TestEncryptedStoreRefusesOtherEntries(t *testing.T) {
	t.Parallel()
	for content, why := range map[string]string{
		`{"version":2,"key":"k","value":"v"}`: "plain file store",
		"gAAAAABl0123456789abcdef==":          "Fernet",
		"garbage":                             "is not",
	} {
		path := filepath.Join(t.TempDir(), "t.enc.json")
		os.Mkdir(path, 0o700)
		file := entryPath(path, "k")
		os.WriteFile(file, []byte(content), 0o600)
		s := encryptedAt(t, path, testKey(t, GenerateKey()))
		_, gerr := s.Get(context.Background(), "k")
		serr := s.Set(context.Background(), "k", "w")
		for _, err := range []error{gerr, serr} {
			if !errors.Is(err, ErrStoreCorrupt) || !strings.Contains(err.Error(), why) || !strings.Contains(err.Error(), file) {
				t.Errorf("%s: got %v", content, err)
			}
		}
		if raw, _ := os.ReadFile(file); string(raw) != content {
			t.Errorf("%s: the file changed", content)
		}
	}
}

// TestEncryptedStoreOneKeyringKey: stores in several goroutines writing
// their first entries into one new directory at once create one key in
// the keyring between them, and every entry opens with it.
func TestEncryptedStoreOneKeyringKey(t *testing.T) {
	t.Parallel()
	ring := NewMemoryStore()
	path := filepath.Join(t.TempDir(), "t.enc.json")
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := encryptedAt(t, path, KeyFromStore(ring, "the OS keyring"))
			if err := s.Set(ctx, fmt.Sprint("k", i), "v"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	s := encryptedAt(t, path, KeyFromStore(ring, "the OS keyring"))
	if keys, err := s.Keys(ctx); err != nil || len(keys) != 8 {
		t.Fatalf("Keys = %v, %v", keys, err)
	}
}

func TestEncryptedStoreSwapAndLock(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "t.enc.json")
	key := testKey(t, GenerateKey())
	suite.Swap(t, capable(encryptedAt(t, path, key)))
	suite.LockWaits(t, capable(encryptedAt(t, path, key)))
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := encryptedAt(t, path, key)
			for range 10 {
				if err := suite.Increment(context.Background(), s, "n"); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if v, _ := encryptedAt(t, path, key).Get(context.Background(), "n"); v != "80" {
		t.Fatalf("counter = %q, want 80", v)
	}
}

// ringKey is the encryption key a store standing for the keyring holds, or
// "".
func ringKey(s *MemoryStore) string {
	v, _ := s.Get(context.Background(), "encryption-key")
	return v
}

// errNoSecretService is what failingStore fails with.
var errNoSecretService = errors.New(`exec: "dbus-launch": executable file not found in $PATH`)

// failingStore fails every call, as a keyring does on a machine without a
// Secret Service.
type failingStore struct{}

func (failingStore) Get(context.Context, string) (string, error) { return "", errNoSecretService }
func (failingStore) Set(context.Context, string, string) error   { return errNoSecretService }
func (failingStore) Delete(context.Context, string) error        { return errNoSecretService }
