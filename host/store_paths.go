package host

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// The kinds of store, as the deviceflow command's --store flag names them
// (DefaultStorePath takes them too).
const (
	// StoreMemory keeps tokens for the process's lifetime only.
	StoreMemory = "memory"
	// StoreFile keeps tokens in plain JSON files, mode 0600, in a
	// directory (FileStore).
	StoreFile = "file"
	// StoreEncrypted keeps tokens in AES-256-GCM encrypted files, in a
	// directory (EncryptedFileStore).
	StoreEncrypted = "encrypted"
	// StoreKeyring keeps each token in the OS keyring (package
	// host/store/keyring).
	StoreKeyring = "keyring"
)

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
