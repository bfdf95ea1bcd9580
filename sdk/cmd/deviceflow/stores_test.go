package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/deviceflow/deviceflow/host"
)

// readOnlyStore reads fine and refuses every write, as a locked keyring
// may.
type readOnlyStore struct{ host.Store }

func (readOnlyStore) Set(context.Context, string, string) error {
	return errors.New("keyring is read-only")
}

type brokenStore struct{ host.Store }

func (brokenStore) Get(context.Context, string) (string, error) {
	return "", errors.New("disk on fire")
}

// recordingStore counts writes and keeps what is left.
type recordingStore struct {
	*host.MemoryStore
	sets, deletes int
}

func (s *recordingStore) Set(ctx context.Context, k, v string) error {
	s.sets++
	return s.MemoryStore.Set(ctx, k, v)
}

func (s *recordingStore) Delete(ctx context.Context, k string) error {
	s.deletes++
	return s.MemoryStore.Delete(ctx, k)
}

func TestPreflightChecksTheStoreTakesWrites(t *testing.T) {
	ctx := context.Background()
	for name, tc := range map[string]struct {
		st   *openedStore
		want string
	}{
		"memory":     {&openedStore{store: host.NewMemoryStore(), kind: host.StoreMemory}, ""},
		"read-only":  {&openedStore{store: readOnlyStore{host.NewMemoryStore()}, kind: host.StoreKeyring}, "keyring is read-only"},
		"unreadable": {&openedStore{store: brokenStore{host.NewMemoryStore()}, kind: host.StoreKeyring}, "disk on fire"},
	} {
		err := preflight(ctx, tc.st)
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: got %v, want %q", name, err, tc.want)
		}
	}

	// A store without a file takes a probe entry and loses it again.
	rec := &recordingStore{MemoryStore: host.NewMemoryStore()}
	if err := preflight(ctx, &openedStore{store: rec, kind: host.StoreKeyring}); err != nil {
		t.Fatal(err)
	}
	if rec.sets != 1 || rec.deletes != 1 || len(rec.Snapshot()) != 0 {
		t.Errorf("probe: %d sets, %d deletes, left %v", rec.sets, rec.deletes, rec.Snapshot())
	}
}

// checkingStore checks itself, as the host's file stores do.
type checkingStore struct {
	host.Store
	err error
}

func (s checkingStore) CheckWritable(context.Context) error { return s.err }

func TestPreflightUsesTheStoresOwnCheck(t *testing.T) {
	full := errors.New("disk full")
	for _, want := range []error{nil, full} {
		rec := &recordingStore{MemoryStore: host.NewMemoryStore()}
		err := preflight(context.Background(), &openedStore{store: checkingStore{rec, want}, kind: host.StoreKeyring})
		if err != want || rec.sets+rec.deletes != 0 {
			t.Errorf("got %v, want %v; %d writes", err, want, rec.sets+rec.deletes)
		}
	}
}

// tree describes every file under root: its content and modification time,
// so that a test can tell a file was not rewritten.
func tree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		info, _ := d.Info()
		out[p] = string(b) + "@" + info.ModTime().String()
		return nil
	})
	return out
}

func TestPreflightFileStoreLeavesNothingBehind(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens.json")
	for _, kind := range []string{host.StoreFile, host.StoreEncrypted} {
		t.Setenv(host.EncryptionKeyEnv, host.GenerateKey())
		st, err := openStore(kind, path+"."+kind)
		if err != nil {
			t.Fatal(err)
		}
		if err := preflight(ctx, st); err != nil {
			t.Fatalf("%s, a fresh directory: %v", kind, err)
		}
		if err := st.store.Set(ctx, "k", "v"); err != nil {
			t.Fatal(err)
		}
		before := tree(t, dir)
		if err := preflight(ctx, st); err != nil {
			t.Fatal(err)
		}
		if after := tree(t, dir); !reflect.DeepEqual(before, after) {
			t.Errorf("%s: preflight changed the store: %v -> %v", kind, before, after)
		}
	}
}

func TestDirWritable(t *testing.T) {
	dir := t.TempDir()
	before := tree(t, dir)
	for _, p := range []string{filepath.Join(dir, "tokens.json"), dir, filepath.Join(dir, "a", "b", "tokens.json")} {
		if err := dirWritable(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	if after := tree(t, dir); !reflect.DeepEqual(before, after) {
		t.Errorf("left behind: %v", after)
	}
	if _, err := os.Stat(filepath.Join(dir, "a")); err == nil {
		t.Error("made a directory")
	}
	if runtime.GOOS == "linux" {
		for _, p := range []string{"/proc/self", "/proc/deviceflow-test/tokens.json"} {
			if err := dirWritable(p); err == nil {
				t.Errorf("%s: nobody can write there, yet it passed", p)
			}
		}
	}
}

func TestPreflightRefusesAStoreThatCannotBeWritten(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("uses /proc, where nobody (root included) can create files")
	}
	// Reading works (there is nothing: no entry); writing cannot.
	st, err := openStore("file", "/proc/deviceflow-test/tokens.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.store.Get(context.Background(), "k"); !errors.Is(err, host.ErrNoEntry) {
		t.Fatalf("read: %v", err)
	}
	err = preflight(context.Background(), st)
	if err == nil || !strings.Contains(err.Error(), "/proc/deviceflow-test") {
		t.Errorf("got %v", err)
	}
}

func TestOpenStoreDescribesItself(t *testing.T) {
	dir := t.TempDir()
	st, err := openStore("file", dir+"/tokens.json")
	if err != nil {
		t.Fatal(err)
	}
	if st.kind != "file" || st.path != dir+"/tokens.json" || st.String() != "file "+dir+"/tokens.json" {
		t.Errorf("file store: %+v", st)
	}
	if m, _ := openStore("memory", ""); m.String() != "memory (this process only)" || m.path != "" {
		t.Errorf("memory store: %+v", m)
	}
	if _, err := openStore("shoebox", ""); err == nil {
		t.Error("unknown store opened")
	}
}
