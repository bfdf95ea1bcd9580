package host

import (
	"context"
	"errors"
	"os"
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
