package host

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

type authResult struct {
	Type  string `json:"type"`
	Token string `json:"token"`
}

// TestHostWithFileStores signs in through the plugin with each file store,
// then a new host with a new store on the same file (a second process)
// gets the cached token without asking the server, and logout empties it.
func TestHostWithFileStores(t *testing.T) {
	for _, kind := range []string{StoreFile, StoreEncrypted} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "tokens")
			key := testKey(t, GenerateKey())
			open := func() Store {
				if kind == StoreFile {
					s, _ := NewFileStore(path)
					return s
				}
				return encryptedAt(t, path, key)
			}
			g := startGitHub(t, deviceflowtest.Config{AutoApprove: 1}, nil)
			ctx := context.Background()
			var first, second authResult
			h1 := testHost(t, g, func(o *Options) { o.Store = open() })
			if err := h1.CallJSON(ctx, "authenticate", rawJSON(input(g.URL)), &first); err != nil || first.Token == "" {
				t.Fatalf("first sign-in: %+v, %v", first, err)
			}
			var raw []byte
			files, _ := filepath.Glob(filepath.Join(path, "*.json"))
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				raw = append(raw, b...)
			}
			if len(files) != 1 {
				t.Errorf("%d entry files, want 1", len(files))
			}
			if strings.Contains(string(raw), first.Token) != (kind == StoreFile) {
				t.Errorf("token in the %s store's file: %v", kind, !(kind == StoreFile))
			}
			h2 := testHost(t, g, func(o *Options) { o.Store = open() })
			if err := h2.CallJSON(ctx, "authenticate", rawJSON(input(g.URL)), &second); err != nil || second.Token != first.Token {
				t.Fatalf("second process: %+v, %v", second, err)
			}
			if n := g.Emu.Stats().DeviceCode; n != 1 {
				t.Errorf("%d device codes requested, want 1 (the second run reads the store)", n)
			}
			if err := h2.CallJSON(ctx, "logout", rawJSON(input(g.URL)), nil); err != nil {
				t.Fatal(err)
			}
			if keys, _ := open().(interface {
				Keys(context.Context) ([]string, error)
			}).Keys(ctx); len(keys) != 0 {
				t.Errorf("keys after logout: %v", keys)
			}
		})
	}
}

// TestHostStoreFailuresAreTyped: a store's failure reaches the caller as a
// "store" error that wraps the store's own error, before any request.
func TestHostStoreFailuresAreTyped(t *testing.T) {
	t.Parallel()
	corrupt := filepath.Join(t.TempDir(), "tokens.json")
	os.WriteFile(corrupt, []byte("not a store"), 0o600)
	fileStore, _ := NewFileStore(corrupt)
	cases := []struct {
		name  string
		store Store
		kind  error
		says  string
	}{
		{"failing store", failingStore{}, errNoSecretService, "dbus-launch"},
		{"corrupt file", fileStore, ErrStoreCorrupt, corrupt},
	}

	for _, c := range cases {
		g := startGitHub(t, deviceflowtest.Config{AutoApprove: 1}, nil)
		h := testHost(t, g, func(o *Options) { o.Store = c.store })
		_, err := h.Call(context.Background(), "authenticate", input(g.URL))
		e := wantCode(t, err, "store")
		if !errors.Is(err, ErrStore) || !errors.Is(err, c.kind) {
			t.Errorf("%s: %v does not wrap %v", c.name, err, c.kind)
		}
		if !strings.Contains(e.Message, c.says) {
			t.Errorf("%s: message %q lacks %q", c.name, e.Message, c.says)
		}
		if n := g.Emu.Stats().DeviceCode; n != 0 {
			t.Errorf("%s: %d requests made", c.name, n)
		}
	}
	if raw, _ := os.ReadFile(corrupt); string(raw) != "not a store" {
		t.Error("the corrupt file changed")
	}
}

// TestHostCorruptEntryIsStoreError: an entry file damaged after a sign-in
// is a "store" error naming the file, not "not logged in", and the file is
// left as it is.
func TestHostCorruptEntryIsStoreError(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.json")
	s, _ := NewFileStore(path)
	g := startGitHub(t, deviceflowtest.Config{AutoApprove: 1}, nil)
	h := testHost(t, g, func(o *Options) { o.Store = s })
	ctx := context.Background()
	if _, err := h.Call(ctx, "authenticate", input(g.URL)); err != nil {
		t.Fatal(err)
	}
	keys, err := s.Keys(ctx)
	if err != nil || len(keys) != 1 {
		t.Fatalf("Keys = %v, %v", keys, err)
	}
	file := entryPath(path, keys[0])
	os.WriteFile(file, []byte(`{"version":2,"key":`), 0o600)
	_, err = h.Call(ctx, "authenticate", input(g.URL))
	e := wantCode(t, err, "store")
	if !errors.Is(err, ErrStoreCorrupt) || !strings.Contains(e.Message, file) {
		t.Fatalf("got %v, want ErrStoreCorrupt naming %s", err, file)
	}
	if raw, _ := os.ReadFile(file); string(raw) != `{"version":2,"key":` {
		t.Error("the damaged entry changed")
	}
	if n := g.Emu.Stats().DeviceCode; n != 1 {
		t.Errorf("%d device codes requested, want 1", n)
	}
}
