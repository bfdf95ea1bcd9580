// Package keyring is a deviceflow store that keeps each token in the OS
// keyring (macOS Keychain, Windows Credential Manager, the Secret Service on
// Linux: GNOME Keyring, KWallet), through github.com/zalando/go-keyring.
//
// It is a package of its own so that a program compiles the keyring's
// D-Bus and platform code only when it uses this store:
//
//	store := keyring.New("", 0) // service "deviceflow", 10 s per call
//	h, err := host.New(ctx, host.Options{Store: store})
//
// An encrypted file store can keep its key here too:
//
//	enc, err := host.NewEncryptedFileStore("", keyring.EncryptionKey(keyring.New("", 0)))
package keyring

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/deviceflow/deviceflow/host"
	"github.com/zalando/go-keyring"
)

// DefaultService names deviceflow's entries in the OS keyring.
const DefaultService = "deviceflow"

// DefaultTimeout bounds each keyring call. A locked keyring may be
// waiting for the person to type a password, so it is not too short; a
// missing or stuck Secret Service never hangs a call longer than this.
const DefaultTimeout = 10 * time.Second

// ErrUnavailable: the OS keyring failed or did not answer in time.
// deviceflow never falls back to a plain file when it does. Test for it
// with errors.Is on a store's error or on the "store" error a call returns.
var ErrUnavailable = errors.New("deviceflow: the OS keyring is not available")

// Store keeps each value as a secret in the OS keyring (macOS
// Keychain, Windows Credential Manager, the Secret Service on Linux: GNOME
// Keyring, KWallet), through github.com/zalando/go-keyring: the service is
// the store's service name and the user name is the plugin's key, as the
// Python SDK's KeyringStore names them.
//
// Every call is time-boxed. When the keyring fails or does not answer in
// time, the call fails with ErrUnavailable and a message that says
// to choose the file or encrypted store: the store never falls back to
// plain text. (A call that timed out keeps its goroutine until the keyring
// answers: go-keyring cannot be interrupted.)
//
// A keyring has no compare-and-swap and no leases of its own, so the
// store's Swap and Lock go through lock files in a per-user directory,
// keyring-locks under deviceflow's cache directory (os.UserCacheDir:
// $XDG_CACHE_HOME or ~/.cache on Linux, ~/Library/Caches on macOS,
// %LocalAppData% on Windows), shared with the Python SDK's KeyringStore:
// N.lock is locked (flock) around one read-compare-write of an entry and
// N.lease for a lease, N being the first 32 hex digits of the SHA-256 of
// the key, as in the file stores. They exclude the goroutines and
// processes of this user, not other users or machines sharing a keyring.
type Store struct {
	service string
	timeout time.Duration
	backend keyringBackend
	// lockDir holds the lock files; "" means the default, found on first
	// use.
	lockDir string
}

// keyringBackend is the part of go-keyring a KeyringStore uses; tests
// replace it with one that fails or hangs.
type keyringBackend interface {
	Get(service, user string) (string, error)
	Set(service, user, secret string) error
	Delete(service, user string) error
}

// goKeyring is the OS keyring, through go-keyring's package functions (so
// that keyring.MockInit works in tests).
type goKeyring struct{}

func (goKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }
func (goKeyring) Set(service, user, secret string) error   { return keyring.Set(service, user, secret) }
func (goKeyring) Delete(service, user string) error        { return keyring.Delete(service, user) }

// New returns a Store for service (DefaultService when "") whose calls each last at most timeout (DefaultTimeout
// when zero). It does not touch the keyring; Check does.
func New(service string, timeout time.Duration) *Store {
	return newStore(service, timeout, goKeyring{})
}

func newStore(service string, timeout time.Duration, b keyringBackend) *Store {
	if service == "" {
		service = DefaultService
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Store{service: service, timeout: timeout, backend: b}
}

// String describes the store for a person: "keyring (service NAME)".
func (s *Store) String() string { return "keyring (service " + s.service + ")" }

// Check reports whether the keyring answers, by looking up an entry that
// need not exist: nil, or an ErrUnavailable error.
func (s *Store) Check(ctx context.Context) error {
	_, err := s.Get(ctx, "deviceflow-check")
	if errors.Is(err, host.ErrNoEntry) {
		return nil
	}
	return err
}

// Get returns the value under key, or ErrNoEntry.
func (s *Store) Get(ctx context.Context, key string) (string, error) {
	v, err := s.boxed(ctx, "read", "", func() (string, error) { return s.backend.Get(s.service, key) })
	if errors.Is(err, keyring.ErrNotFound) {
		return "", host.ErrNoEntry
	}
	return v, err
}

// Set writes value under key.
func (s *Store) Set(ctx context.Context, key, value string) error {
	_, err := s.boxed(ctx, "write", value, func() (string, error) { return "", s.backend.Set(s.service, key, value) })
	return err
}

// Delete removes key; an absent key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	_, err := s.boxed(ctx, "delete", "", func() (string, error) { return "", s.backend.Delete(s.service, key) })
	if errors.Is(err, keyring.ErrNotFound) {
		return nil
	}
	return err
}

// Swap replaces the value under key with new when the value held is old
// (see host.Swapper): a read, a comparison and a write, each time-boxed,
// under the lock on the key's N.lock file.
func (s *Store) Swap(ctx context.Context, key string, old, new *string) (bool, *string, error) {
	locks, err := s.locks()
	if err != nil {
		return false, nil, err
	}
	return locks.Swap(ctx, s, key, old, new)
}

// Lock takes the lease on key (see host.Locker): the lock on the key's
// N.lease file.
func (s *Store) Lock(ctx context.Context, key string, wait time.Duration) (func(), error) {
	locks, err := s.locks()
	if err != nil {
		return nil, err
	}
	return locks.Lock(ctx, key, wait)
}

// locks returns the store's lock files: in lockDir, or keyring-locks under
// deviceflow's cache directory.
func (s *Store) locks() (host.FileLocks, error) {
	dir := s.lockDir
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return host.FileLocks{}, fmt.Errorf("deviceflow: the keyring store needs a cache directory for its lock files: %w", err)
		}
		dir = filepath.Join(base, "deviceflow", "keyring-locks")
	}
	return host.FileLocks{Dir: dir, Wait: s.timeout}, nil
}

// EncryptionKey keeps an encrypted file store's key in s, in the entry
// "encryption-key" of s's service (see host.KeyFromStore): read on first
// use, and created at random when neither the entry nor the encrypted
// store's file exists yet. Every keyring call is time-boxed like the
// store's own.
func EncryptionKey(s *Store) host.EncryptionKey {
	return host.KeyFromStore(s, "the OS keyring")
}

// unavailableError is a keyring failure: a message for a person, the
// backend's own short account (Detail), and go-keyring's sentinel when
// there is one.
type unavailableError struct {
	msg, detail string
	cause       error
}

func (e *unavailableError) Error() string { return e.msg }

// Detail is the backend's short account of the failure, for a caller that
// words its own message around it.
func (e *unavailableError) Detail() string { return e.detail }

// Unwrap returns ErrUnavailable and the cause, for errors.Is.
func (e *unavailableError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrUnavailable}
	}
	return []error{ErrUnavailable, e.cause}
}

// boxed runs one keyring call, waiting at most the store's timeout (or
// until ctx ends). go-keyring's ErrNotFound is passed on as it is; every
// other failure becomes ErrUnavailable, with secret (the value being
// written) cut out of the backend's message.
func (s *Store) boxed(ctx context.Context, op, secret string, call func() (string, error)) (string, error) {
	type result struct {
		v   string
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := call()
		done <- result{v, err}
	}()
	t := time.NewTimer(s.timeout)
	defer t.Stop()
	var r result
	select {
	case r = <-done:
	case <-t.C:
		return "", &unavailableError{detail: fmt.Sprintf("no answer within %s", s.timeout),
			msg: fmt.Sprintf("deviceflow: the OS keyring did not %s within %s (is it locked, or is no Secret Service running?): unlock it, or use --store file or --store encrypted", op, s.timeout)}
	case <-ctx.Done():
		return "", fmt.Errorf("deviceflow: keyring %s cancelled: %w", op, ctx.Err())
	}
	if r.err == nil || errors.Is(r.err, keyring.ErrNotFound) {
		return r.v, r.err
	}
	cause := r.err.Error()
	if secret != "" {
		cause = strings.ReplaceAll(cause, secret, "[redacted]")
	}
	if len(cause) > 120 {
		cause = strings.ToValidUTF8(cause[:117], "") + "..."
	}
	what := "the OS keyring is not available"
	if errors.Is(r.err, keyring.ErrSetDataTooBig) {
		what = "the value is too big for this OS keyring"
	}
	return "", &unavailableError{cause: keyringCause(r.err), detail: cause,
		msg: fmt.Sprintf("deviceflow: %s (%s): use --store file or --store encrypted (deviceflow never falls back to a plain file)", what, cause)}
}

// keyringCause keeps go-keyring's sentinel errors for errors.Is, but not a
// backend's message, which might quote what was being written.
func keyringCause(err error) error {
	if errors.Is(err, keyring.ErrSetDataTooBig) {
		return keyring.ErrSetDataTooBig
	}
	return nil
}
