package main

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deviceflow/deviceflow/host"
	"github.com/deviceflow/deviceflow/host/store/keyring"
)

// TestHostStore: --store names a store, opened with its default path,
// service and key.
func TestHostStore(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DEVICEFLOW_CONFIG_DIR", dir)
	t.Setenv(host.EncryptionKeyEnv, host.GenerateKey())

	for kind, want := range map[string]string{
		host.StoreMemory:    "memory",
		host.StoreFile:      "file " + filepath.Join(dir, "tokens.json"),
		host.StoreEncrypted: "encrypted file " + filepath.Join(dir, "tokens.enc.json") + " (key from " + host.EncryptionKeyEnv + ")",
		host.StoreKeyring:   "keyring (service deviceflow)",
	} {
		s, err := hostStore(kind, "")
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if got := s.(interface{ String() string }).String(); got != want {
			t.Errorf("%s: %q, want %q", kind, got, want)
		}
	}
	s, _ := hostStore(host.StoreFile, filepath.Join(dir, "mine.json"))
	if s.(*host.FileStore).Path() != filepath.Join(dir, "mine.json") {
		t.Errorf("path not used: %s", s)
	}
	s, _ = hostStore(host.StoreKeyring, "other-service")
	if s.(*keyring.Store).String() != "keyring (service other-service)" {
		t.Errorf("service not used: %s", s)
	}
	if _, err := hostStore("plaintext", ""); err == nil || !strings.Contains(err.Error(), "keyring, file, encrypted, memory") {
		t.Errorf("unknown kind: %v", err)
	}

	// Without an environment key, the encrypted store keeps its key in the
	// keyring; a malformed environment key is an error at once.
	t.Setenv(host.EncryptionKeyEnv, "")
	s, err := hostStore(host.StoreEncrypted, "")
	if err != nil || !strings.Contains(s.(*host.EncryptedFileStore).String(), "key from the OS keyring") {
		t.Fatalf("%v %v", s, err)
	}
	t.Setenv(host.EncryptionKeyEnv, "not-a-key")
	if _, err := hostStore(host.StoreEncrypted, ""); !errors.Is(err, host.ErrNoEncryptionKey) {
		t.Fatalf("got %v", err)
	}
}
