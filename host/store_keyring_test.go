package host

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

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

func (f *fakeKeyring) snapshot() map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]string{}
	for k, v := range f.m {
		out[k] = v
	}
	return out
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
	s := NewKeyringStore("deviceflow-test", 0)
	storeContract(t, s)
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

// TestKeyringStoreUnavailable: a failing backend is ErrKeyringUnavailable,
// suggesting the file or encrypted store, without quoting the secret.
func TestKeyringStoreUnavailable(t *testing.T) {
	t.Parallel()
	s := newKeyringStore("", 0, failingKeyring{})
	ctx := context.Background()
	_, gerr := s.Get(ctx, "k")
	serr := s.Set(ctx, "k", "gho_TOPSECRET")
	derr := s.Delete(ctx, "k")
	cerr := s.Check(ctx)
	for _, err := range []error{gerr, serr, derr, cerr} {
		if !errors.Is(err, ErrKeyringUnavailable) {
			t.Fatalf("got %v, want ErrKeyringUnavailable", err)
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
	s := newKeyringStore("", 100*time.Millisecond, hang)
	start := time.Now()
	_, err := s.Get(context.Background(), "k")
	if !errors.Is(err, ErrKeyringUnavailable) || !strings.Contains(err.Error(), "did not read within 100ms") {
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
	if NewKeyringStore("", 0).timeout != DefaultKeyringTimeout {
		t.Error("no default timeout")
	}
}

func init() {
	// realKeyring uses go-keyring's OS backend and prints what it says.
	helpers["realKeyring"] = func([]string) error {
		s := NewKeyringStore("deviceflow-test", 2*time.Second)
		err := s.Set(context.Background(), "k", "gho_TOPSECRET")
		if err == nil {
			return errors.New("the keyring accepted the value")
		}
		if !errors.Is(err, ErrKeyringUnavailable) {
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
	out, err := runHelper(t, []string{"DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/deviceflow-test", "DISPLAY="}, "realKeyring")
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
func keyringAt(ring keyringBackend, dir string, timeout time.Duration) *KeyringStore {
	s := newKeyringStore("", timeout, ring)
	s.lockDir = dir
	return s
}

func TestKeyringStoreSwap(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ring := newFakeKeyring()
	testSwapSemantics(t, capable(keyringAt(ring, dir, 0)))
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
				if err := casIncrement(ctx, s, "n"); err != nil {
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
	testLockWaits(t, capable(keyringAt(ring, dir, 0)))
	testLockExclusive(t, capable(keyringAt(ring, dir, 0)), 16, 10)
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
	if _, _, err := s.Swap(context.Background(), "k", nil, sp("v")); !errors.Is(err, ErrKeyringUnavailable) {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
	unlock, err := lockFile(context.Background(), filepath.Join(dir, entryName("k")+".lock"), 0)
	if err != nil {
		t.Fatalf("the entry's lock is still held: %v", err)
	}
	unlock()
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
	s := newKeyringStore("", 0, newFakeKeyring())
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
