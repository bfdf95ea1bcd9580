package host

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// The kinds of store OpenStore opens, as the deviceflow command's --store
// flag names them.
const (
	// StoreMemory keeps tokens for the process's lifetime only.
	StoreMemory = "memory"
	// StoreFile keeps tokens in plain JSON files, mode 0600, in a
	// directory (FileStore).
	StoreFile = "file"
	// StoreEncrypted keeps tokens in AES-256-GCM encrypted files, in a
	// directory (EncryptedFileStore).
	StoreEncrypted = "encrypted"
	// StoreKeyring keeps each token in the OS keyring (KeyringStore).
	StoreKeyring = "keyring"
)

// StoreKinds lists the kinds OpenStore accepts.
var StoreKinds = []string{StoreKeyring, StoreFile, StoreEncrypted, StoreMemory}

// OpenStore opens a store by kind, the way a command-line flag names it:
//
//   - "memory": a MemoryStore; path is ignored.
//   - "file": NewFileStore(path); path "" means
//     ConfigDir()/tokens.json.
//   - "encrypted": an EncryptedFileStore at path ("" means
//     ConfigDir()/tokens.enc.json), with the key from
//     $DEVICEFLOW_ENCRYPTION_KEY when it is set, or else from the OS keyring
//     (see KeyFromEnv and KeyFromKeyring).
//   - "keyring": NewKeyringStore(path, 0); path names the keyring service
//     ("deviceflow" when "").
//
// Opening does no I/O beyond parsing the key: a missing keyring or a wrong
// key shows on first use, as a clear error. Every store it opens implements
// Swapper and Locker. No kind ever falls back to
// another.
func OpenStore(kind, path string) (Store, error) {
	switch kind {
	case StoreMemory:
		return NewMemoryStore(), nil
	case StoreFile:
		return NewFileStore(path)
	case StoreEncrypted:
		key, ok, err := KeyFromEnv()
		if err != nil {
			return nil, err
		}
		if !ok {
			key = KeyFromKeyring(NewKeyringStore("", 0))
		}
		return NewEncryptedFileStore(path, key)
	case StoreKeyring:
		return NewKeyringStore(path, 0), nil
	}
	return nil, fmt.Errorf("deviceflow: unknown store %q: use one of keyring, file, encrypted, memory", kind)
}

// ConfigDir is the directory where file stores live by default:
// $DEVICEFLOW_CONFIG_DIR when set, otherwise deviceflow under the user's
// configuration directory (os.UserConfigDir: $XDG_CONFIG_HOME or ~/.config
// on Linux, ~/Library/Application Support on macOS, %AppData% on Windows),
// the same directory the Python SDK uses.
func ConfigDir() (string, error) {
	if d := os.Getenv("DEVICEFLOW_CONFIG_DIR"); d != "" {
		return d, nil
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("deviceflow: no configuration directory (%v): set DEVICEFLOW_CONFIG_DIR or give the store a path", err)
	}
	return filepath.Join(base, "deviceflow"), nil
}

// DefaultStorePath is where a store of the given kind keeps its files by
// default: the directory ConfigDir()/tokens.json for "file" and
// ConfigDir()/tokens.enc.json for "encrypted" (names kept from the days each
// was one file, which is migrated where it is found). Other kinds have no
// file.
func DefaultStorePath(kind string) (string, error) {
	var name string
	switch kind {
	case StoreFile:
		name = "tokens.json"
	case StoreEncrypted:
		name = "tokens.enc.json"
	default:
		return "", errors.New("deviceflow: the " + kind + " store has no file")
	}
	dir, err := ConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, name), nil
}

// String describes the store for a person: "memory".
func (s *MemoryStore) String() string { return StoreMemory }
