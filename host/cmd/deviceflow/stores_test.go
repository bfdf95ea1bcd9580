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

func TestPreflightFileStoreLeavesNothingBehind(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens.json")
	st, err := openStore("file", path)
	if err != nil {
		t.Fatal(err)
	}
	if err := preflight(ctx, st); err != nil {
		t.Fatalf("a fresh directory: %v", err)
	}
	if err := st.store.Set(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	info, _ := os.Stat(path)
	names := func() []string {
		var out []string
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			out = append(out, e.Name())
		}
		return out
	}
	beside := names()
	if err := preflight(ctx, st); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(path)
	info2, _ := os.Stat(path)
	if string(before) != string(after) || !info.ModTime().Equal(info2.ModTime()) || !reflect.DeepEqual(beside, names()) {
		t.Errorf("preflight changed the store or its directory: %v -> %v", beside, names())
	}

	// A store kept as a directory of entries is checked inside.
	if err := dirWritable(dir); err != nil {
		t.Errorf("a directory store: %v", err)
	}
	if err := dirWritable("/proc/self"); err == nil && runtime.GOOS == "linux" {
		t.Error("a directory nobody can write in passed")
	}

	// A directory that does not exist yet is fine: the store makes it.
	deep, _ := openStore("file", filepath.Join(dir, "a", "b", "tokens.json"))
	if err := preflight(ctx, deep); err != nil {
		t.Errorf("missing directories: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a")); err == nil {
		t.Error("preflight made the store's directory")
	}
}

func TestPreflightRefusesAStoreThatCannotBeWritten(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("uses /proc, where nobody (root included) can create files")
	}
	// Reading works (there is no file: no entry); writing cannot.
	st, err := openStore("file", "/proc/deviceflow-test/tokens.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.store.Get(context.Background(), "k"); !errors.Is(err, host.ErrNoEntry) {
		t.Fatalf("read: %v", err)
	}
	err = preflight(context.Background(), st)
	if err == nil || !strings.Contains(err.Error(), "cannot write in the store directory /proc") {
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
