package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/zalando/go-keyring"
)

// DefaultKeyringService names deviceflow's entries in the OS keyring.
const DefaultKeyringService = "deviceflow"

// DefaultKeyringTimeout bounds each keyring call. A locked keyring may be
// waiting for the person to type a password, so it is not too short; a
// missing or stuck Secret Service never hangs a call longer than this.
const DefaultKeyringTimeout = 10 * time.Second

// KeyringStore keeps each value as a secret in the OS keyring (macOS
// Keychain, Windows Credential Manager, the Secret Service on Linux: GNOME
// Keyring, KWallet), through github.com/zalando/go-keyring: the service is
// the store's service name and the user name is the plugin's key, as the
// Python SDK's KeyringStore names them.
//
// Every call is time-boxed. When the keyring fails or does not answer in
// time, the call fails with ErrKeyringUnavailable and a message that says
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
type KeyringStore struct {
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

// NewKeyringStore returns a KeyringStore for service (DefaultKeyringService
// when "") whose calls each last at most timeout (DefaultKeyringTimeout
// when zero). It does not touch the keyring; Check does.
func NewKeyringStore(service string, timeout time.Duration) *KeyringStore {
	return newKeyringStore(service, timeout, goKeyring{})
}

func newKeyringStore(service string, timeout time.Duration, b keyringBackend) *KeyringStore {
	if service == "" {
		service = DefaultKeyringService
	}
	if timeout <= 0 {
		timeout = DefaultKeyringTimeout
	}
	return &KeyringStore{service: service, timeout: timeout, backend: b}
}

// String describes the store for a person: "keyring (service NAME)".
func (s *KeyringStore) String() string { return "keyring (service " + s.service + ")" }

// Check reports whether the keyring answers, by looking up an entry that
// need not exist: nil, or an ErrKeyringUnavailable error.
func (s *KeyringStore) Check(ctx context.Context) error {
	_, err := s.Get(ctx, "deviceflow-check")
	if errors.Is(err, ErrNoEntry) {
		return nil
	}
	return err
}

// Get returns the value under key, or ErrNoEntry.
func (s *KeyringStore) Get(ctx context.Context, key string) (string, error) {
	v, err := s.boxed(ctx, "read", "", func() (string, error) { return s.backend.Get(s.service, key) })
	if errors.Is(err, keyring.ErrNotFound) {
		return "", ErrNoEntry
	}
	return v, err
}

// Set writes value under key.
func (s *KeyringStore) Set(ctx context.Context, key, value string) error {
	_, err := s.boxed(ctx, "write", value, func() (string, error) { return "", s.backend.Set(s.service, key, value) })
	return err
}

// Delete removes key; an absent key is not an error.
func (s *KeyringStore) Delete(ctx context.Context, key string) error {
	_, err := s.boxed(ctx, "delete", "", func() (string, error) { return "", s.backend.Delete(s.service, key) })
	if errors.Is(err, keyring.ErrNotFound) {
		return nil
	}
	return err
}

// Swap replaces the value under key with new when the value held is old
// (see Swapper): a read, a comparison and a write, each time-boxed, under
// the lock on the key's N.lock file.
func (s *KeyringStore) Swap(ctx context.Context, key string, old, new *string) (bool, *string, error) {
	path, err := s.lockFile(key, "lock")
	if err != nil {
		return false, nil, err
	}
	unlock, err := lockFile(ctx, path, s.timeout)
	if err != nil {
		return false, nil, err
	}
	defer unlock()
	return swapWith(ctx, key, old, new, s.Get, s.Set, s.Delete)
}

// Lock takes the lease on key (see Locker): the lock on the key's N.lease
// file.
func (s *KeyringStore) Lock(ctx context.Context, key string, wait time.Duration) (func(), error) {
	path, err := s.lockFile(key, "lease")
	if err != nil {
		return nil, err
	}
	return leaseFile(ctx, path, wait)
}

// lockFile returns the path of key's lock file of the given kind ("lock"
// or "lease"), making the lock directory (0700) when it is missing.
func (s *KeyringStore) lockFile(key, kind string) (string, error) {
	dir := s.lockDir
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("deviceflow: the keyring store needs a cache directory for its lock files: %w", err)
		}
		dir = filepath.Join(base, "deviceflow", "keyring-locks")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("deviceflow: cannot create the keyring's lock directory %s: %w", dir, unwrapPath(err))
	}
	return filepath.Join(dir, entryName(key)+"."+kind), nil
}

// boxed runs one keyring call, waiting at most the store's timeout (or
// until ctx ends). go-keyring's ErrNotFound is passed on as it is; every
// other failure becomes ErrKeyringUnavailable, with secret (the value being
// written) cut out of the backend's message.
func (s *KeyringStore) boxed(ctx context.Context, op, secret string, call func() (string, error)) (string, error) {
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
		return "", &storeError{kind: ErrKeyringUnavailable, detail: fmt.Sprintf("no answer within %s", s.timeout),
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
	cause = clipText(cause)
	what := "the OS keyring is not available"
	if errors.Is(r.err, keyring.ErrSetDataTooBig) {
		what = "the value is too big for this OS keyring"
	}
	return "", &storeError{kind: ErrKeyringUnavailable, cause: keyringCause(r.err), detail: cause,
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
