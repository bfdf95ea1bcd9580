package host

import (
	"path/filepath"
	"testing"
)

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
