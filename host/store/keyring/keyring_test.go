package keyring

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/host"
	"github.com/deviceflow/deviceflow/host/internal/storetest"
	"github.com/zalando/go-keyring"
)

// suite is the behaviour every store shares.
var suite = storetest.Suite{NoEntry: host.ErrNoEntry, Busy: host.ErrBusy}

func sp(s string) *string { return &s }

// entryName is the stem of a key's lock files, spelled out as wit/stores.md
// states it: the first 32 hex digits of the SHA-256 of the key.
func entryName(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16])
}

// fakeKeyring is an in-memory keyring backend, safe for concurrent use
// (go-keyring's own mock is not).
type fakeKeyring struct {
	mu sync.Mutex
	m  map[string]string
}

func newFakeKeyring() *fakeKeyring { return &fakeKeyring{m: map[string]string{}} }

func (f *fakeKeyring) Get(service, user string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.m[service+"/"+user]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (f *fakeKeyring) Set(service, user, secret string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.m[service+"/"+user] = secret
	return nil
}

func (f *fakeKeyring) Delete(service, user string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.m[service+"/"+user]; !ok {
		return keyring.ErrNotFound
	}
	delete(f.m, service+"/"+user)
	return nil
}

// failingKeyring fails as go-keyring does on a machine without a Secret
// Service, quoting what it was given (as a careless backend might).
type failingKeyring struct{}

func (failingKeyring) Get(string, string) (string, error) {
	return "", errors.New(`exec: "dbus-launch": executable file not found in $PATH`)
}
func (failingKeyring) Set(_, _, secret string) error {
	return errors.New("cannot store " + secret + ": no Secret Service")
}
func (failingKeyring) Delete(string, string) error { return errors.New("no Secret Service") }

// hangingKeyring never answers, like a Secret Service waiting on a prompt
// nobody sees, until release is closed.
type hangingKeyring struct{ release chan struct{} }

func (h hangingKeyring) Get(string, string) (string, error) {
	<-h.release
	return "", keyring.ErrNotFound
}
func (h hangingKeyring) Set(string, string, string) error { <-h.release; return nil }
func (h hangingKeyring) Delete(string, string) error      { <-h.release; return nil }

// TestKeyringStoreMock runs the store over go-keyring's own mock provider,
// through the package functions the real store calls.
func TestKeyringStoreMock(t *testing.T) {
	keyring.MockInit()
	s := New("deviceflow-test", 0)
	suite.Contract(t, s)
	if err := s.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	if v, err := keyring.Get("deviceflow-test", "b"); err != nil || v == "" {
		t.Fatalf("the value is not under service and key: %q, %v", v, err)
	}
	if s.String() != "keyring (service deviceflow-test)" {
		t.Errorf("String() = %q", s.String())
	}
}

// TestKeyringStoreUnavailable: a failing backend is ErrUnavailable,
// suggesting the file or encrypted store, without quoting the secret.
func TestKeyringStoreUnavailable(t *testing.T) {
	t.Parallel()
	s := newStore("", 0, failingKeyring{})
	ctx := context.Background()
	_, gerr := s.Get(ctx, "k")
	serr := s.Set(ctx, "k", "gho_TOPSECRET")
	derr := s.Delete(ctx, "k")
	cerr := s.Check(ctx)
	for _, err := range []error{gerr, serr, derr, cerr} {
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("got %v, want ErrUnavailable", err)
		}
		msg := err.Error()
		if !strings.Contains(msg, "--store file") || !strings.Contains(msg, "--store encrypted") || !strings.Contains(msg, "never falls back") {
			t.Errorf("message %q does not point to the other stores", msg)
		}
		if strings.Contains(msg, "TOPSECRET") {
			t.Errorf("message quotes the secret: %q", msg)
		}
	}
}

// TestKeyringStoreTimeBoxed: a keyring that never answers fails each call
// after the store's timeout.
func TestKeyringStoreTimeBoxed(t *testing.T) {
	t.Parallel()
	hang := hangingKeyring{release: make(chan struct{})}
	defer close(hang.release)
	s := newStore("", 100*time.Millisecond, hang)
	start := time.Now()
	_, err := s.Get(context.Background(), "k")
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "did not read within 100ms") {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	s.timeout = time.Minute
	if err := s.Set(ctx, "k", "v"); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want the context's error", err)
	}
	if New("", 0).timeout != DefaultTimeout {
		t.Error("no default timeout")
	}
}

// realKeyring uses go-keyring's OS backend and prints what it says; it
// runs in a separate process (TestMain).
func realKeyring() error {
	{
		s := New("deviceflow-test", 2*time.Second)
		err := s.Set(context.Background(), "k", "gho_TOPSECRET")
		if err == nil {
			return errors.New("the keyring accepted the value")
		}
		if !errors.Is(err, ErrUnavailable) {
			return err
		}
		os.Stdout.WriteString("ERROR: " + err.Error() + "\n")
		return nil
	}
}

// TestKeyringStoreNoSecretService runs the real go-keyring backend, in a
// separate process, where no Secret Service can be reached: the store says
// so, promptly, and suggests the other stores.
func TestKeyringStoreNoSecretService(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the Secret Service backend is Linux's")
	}
	t.Parallel()
	start := time.Now()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=1", "DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/deviceflow-test", "DISPLAY=")
	raw, err := cmd.CombinedOutput()
	out := string(raw)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "ERROR: deviceflow: the OS keyring is not available") || !strings.Contains(out, "--store file") || strings.Contains(out, "TOPSECRET") {
		t.Fatalf("helper said:\n%s", out)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v", d)
	}
}

// keyringAt is a KeyringStore on ring whose lock files go to dir.
func keyringAt(ring keyringBackend, dir string, timeout time.Duration) *Store {
	s := newStore("", timeout, ring)
	s.lockDir = dir
	return s
}

func TestKeyringStoreSwap(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ring := newFakeKeyring()
	suite.Swap(t, keyringAt(ring, dir, 0))
	// Goroutines with stores of their own on one keyring: the lock files
	// make each compare-and-swap atomic.
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := keyringAt(ring, dir, 0)
			for range 10 {
				if err := suite.Increment(ctx, s, "n"); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if v, _ := keyringAt(ring, dir, 0).Get(ctx, "n"); v != "160" {
		t.Fatalf("counter = %q, want 160", v)
	}
	if _, err := os.Stat(filepath.Join(dir, entryName("n")+".lock")); err != nil {
		t.Errorf("no lock file: %v", err)
	}
}

func TestKeyringStoreLock(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ring := newFakeKeyring()
	suite.LockWaits(t, keyringAt(ring, dir, 0))
	suite.LockExclusive(t, keyringAt(ring, dir, 0), 16, 10)
	if _, err := os.Stat(filepath.Join(dir, entryName("a")+".lease")); err != nil {
		t.Errorf("no lease file: %v", err)
	}
}

// TestKeyringStoreSwapTimeBoxed: a swap on a keyring that does not answer
// fails after the store's timeout and lets go of the entry's lock.
func TestKeyringStoreSwapTimeBoxed(t *testing.T) {
	t.Parallel()
	hang := hangingKeyring{release: make(chan struct{})}
	defer close(hang.release)
	dir := t.TempDir()
	s := keyringAt(hang, dir, 100*time.Millisecond)
	start := time.Now()
	if _, _, err := s.Swap(context.Background(), "k", nil, sp("v")); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
	// The lock on k's entry is free: a swap through the same lock files,
	// waiting at most 1 ns, gets it.
	if _, _, err := (host.FileLocks{Dir: dir, Wait: 1}).Swap(context.Background(), host.NewMemoryStore(), "k", nil, nil); err != nil {
		t.Fatalf("the entry's lock is still held: %v", err)
	}
}

// TestKeyringStoreLockDir: by default the lock files live in
// deviceflow/keyring-locks under the user's cache directory, where the
// Python SDK's KeyringStore puts them.
func TestKeyringStoreLockDir(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("XDG_CACHE_HOME is Linux's")
	}
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	s := newStore("", 0, newFakeKeyring())
	unlock, err := s.Lock(context.Background(), "k", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	dir := filepath.Join(cache, "deviceflow", "keyring-locks")
	if _, err := os.Stat(filepath.Join(dir, entryName("k")+".lease")); err != nil {
		t.Fatalf("no lease file in %s: %v", dir, err)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("lock directory mode %o", fi.Mode().Perm())
	}
}

// helperEnv makes a run of this test binary the realKeyring helper.
const helperEnv = "DEVICEFLOW_KEYRING_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		if err := realKeyring(); err != nil {
			os.Stdout.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestKeyringFailureIsTyped: a keyring that fails names its cause, and an
// encrypted store keeping its key there fails with both
// host.ErrNoEncryptionKey and ErrUnavailable, in the keyring's words.
func TestKeyringFailureIsTyped(t *testing.T) {
	t.Parallel()
	s := newStore("", 0, failingKeyring{})
	var e interface{ Detail() string }
	_, err := s.Get(context.Background(), "k")
	if !errors.As(err, &e) || !strings.Contains(e.Detail(), "dbus-launch") {
		t.Fatalf("got %v: no Detail naming the cause", err)
	}
	enc, err := host.NewEncryptedFileStore(filepath.Join(t.TempDir(), "t.enc.json"), EncryptionKey(s))
	if err != nil {
		t.Fatal(err)
	}
	err = enc.Set(context.Background(), "k", "v")
	if !errors.Is(err, host.ErrNoEncryptionKey) || !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "dbus-launch") || !strings.Contains(err.Error(), host.EncryptionKeyEnv) {
		t.Fatalf("got %v", err)
	}
}
