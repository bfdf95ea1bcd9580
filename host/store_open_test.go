package host

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenStore(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DEVICEFLOW_CONFIG_DIR", dir)
	t.Setenv(EncryptionKeyEnv, GenerateKey())

	for kind, want := range map[string]string{
		StoreMemory:    "memory",
		StoreFile:      "file " + filepath.Join(dir, "tokens.json"),
		StoreEncrypted: "encrypted file " + filepath.Join(dir, "tokens.enc.json") + " (key from " + EncryptionKeyEnv + ")",
		StoreKeyring:   "keyring (service deviceflow)",
	} {
		s, err := OpenStore(kind, "")
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if got := s.(interface{ String() string }).String(); got != want {
			t.Errorf("%s: %q, want %q", kind, got, want)
		}
	}
	s, _ := OpenStore(StoreFile, filepath.Join(dir, "mine.json"))
	if s.(*FileStore).Path() != filepath.Join(dir, "mine.json") {
		t.Errorf("path not used: %s", s)
	}
	s, _ = OpenStore(StoreKeyring, "other-service")
	if s.(*KeyringStore).service != "other-service" {
		t.Errorf("service not used: %s", s)
	}
	if _, err := OpenStore("plaintext", ""); err == nil || !strings.Contains(err.Error(), "keyring, file, encrypted, memory") {
		t.Errorf("unknown kind: %v", err)
	}

	// Without an environment key, the encrypted store keeps its key in the
	// keyring; a malformed environment key is an error at once.
	t.Setenv(EncryptionKeyEnv, "")
	s, err := OpenStore(StoreEncrypted, "")
	if err != nil || !strings.Contains(s.(*EncryptedFileStore).String(), "key from the OS keyring") {
		t.Fatalf("%v %v", s, err)
	}
	t.Setenv(EncryptionKeyEnv, "not-a-key")
	if _, err := OpenStore(StoreEncrypted, ""); !errors.Is(err, ErrNoEncryptionKey) {
		t.Fatalf("got %v", err)
	}
}

func TestDefaultStorePath(t *testing.T) {
	t.Setenv("DEVICEFLOW_CONFIG_DIR", "")
	t.Setenv("XDG_CONFIG_HOME", "/xdg")
	t.Setenv("AppData", `C:\AppData`)
	t.Setenv("HOME", "/home/someone")
	p, err := DefaultStorePath(StoreFile)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(p) != "tokens.json" || filepath.Base(filepath.Dir(p)) != "deviceflow" {
		t.Errorf("file: %s", p)
	}
	p, _ = DefaultStorePath(StoreEncrypted)
	if filepath.Base(p) != "tokens.enc.json" {
		t.Errorf("encrypted: %s", p)
	}
	if _, err := DefaultStorePath(StoreKeyring); err == nil {
		t.Error("the keyring has no path")
	}
	t.Setenv("DEVICEFLOW_CONFIG_DIR", "/somewhere")
	if d, _ := ConfigDir(); d != "/somewhere" {
		t.Errorf("ConfigDir = %s", d)
	}
}
