package host

import (
	"errors"
	"strings"
)

// Store failures a caller may test with errors.Is, on an error from a store
// or on the "store" *Error a call returns (which wraps the store's error).
var (
	// ErrStoreCorrupt: a store file (an entry file, or a single-file store
	// of an earlier release being migrated) is not a deviceflow store's
	// (damaged, or some other file). It is left untouched.
	ErrStoreCorrupt = errors.New("deviceflow: the store file is not a valid deviceflow store")
	// ErrStoreLocked: another process held an entry's lock (taken for one
	// compare-and-swap) longer than the store waits.
	ErrStoreLocked = errors.New("deviceflow: the store file is locked by another process")
	// ErrNoEncryptionKey: the encrypted store has no key, or the key given
	// is malformed.
	ErrNoEncryptionKey = errors.New("deviceflow: no usable encryption key")
	// ErrWrongEncryptionKey: a file of the encrypted store does not open
	// with the key given (a wrong key, or an altered file). It is left
	// untouched.
	ErrWrongEncryptionKey = errors.New("deviceflow: the encryption key does not open the store file")
)

// storeError is a store failure: a message for a person, the kind (one of
// the sentinels above) and the underlying error, if any.
type storeError struct {
	kind  error
	msg   string
	cause error
}

func (e *storeError) Error() string { return e.msg }

// Unwrap returns the kind and the cause, for errors.Is and errors.As.
func (e *storeError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

// clipCause shortens an error's message: the plugin passes at most 300
// characters of a store error on.
func clipCause(err error) string { return clipText(err.Error()) }

func clipText(s string) string {
	if len(s) > 120 {
		s = strings.ToValidUTF8(s[:117], "") + "..."
	}
	return s
}
