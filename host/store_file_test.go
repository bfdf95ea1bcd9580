package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// storeContract checks the behaviour every Store shares.
func storeContract(t *testing.T, s Store) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.Get(ctx, "a"); !errors.Is(err, ErrNoEntry) {
		t.Fatalf("Get of a missing key: %v, want ErrNoEntry", err)
	}
	if err := s.Delete(ctx, "a"); err != nil {
		t.Fatalf("Delete of a missing key: %v", err)
	}
	for _, kv := range [][2]string{{"a", "1"}, {"b", `{"token":"x","n":2}`}, {"a", "3"}, {"ünï/cødé key", "välue\n"}} {
		if err := s.Set(ctx, kv[0], kv[1]); err != nil {
			t.Fatalf("Set(%q): %v", kv[0], err)
		}
	}
	for k, want := range map[string]string{"a": "3", "b": `{"token":"x","n":2}`, "ünï/cødé key": "välue\n"} {
		if got, err := s.Get(ctx, k); err != nil || got != want {
			t.Fatalf("Get(%q) = %q, %v; want %q", k, got, err, want)
		}
	}
	if err := s.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "a"); !errors.Is(err, ErrNoEntry) {
		t.Fatalf("Get after Delete: %v, want ErrNoEntry", err)
	}
	if got, _ := s.Get(ctx, "b"); got == "" {
		t.Fatal("Delete removed another key")
	}
}

func TestFileStoreContract(t *testing.T) {
	t.Parallel()
	s, err := NewFileStore(filepath.Join(t.TempDir(), "tokens.json"))
	if err != nil {
		t.Fatal(err)
	}
	storeContract(t, s)
}

func TestFileStoreCreatesPrivateFiles(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no POSIX modes")
	}
	dir := filepath.Join(t.TempDir(), "new", "deviceflow")
	path := filepath.Join(dir, "tokens.json")
	s, _ := NewFileStore(path)
	if _, err := s.Get(context.Background(), "k"); !errors.Is(err, ErrNoEntry) {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatal("a read created the directory")
	}
	if err := s.Set(context.Background(), "k", "v"); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600, path + ".lock": 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s has mode %o, want %o", filepath.Base(p), got, want)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("the directory holds %d files, want the store and its lock (no temporary file left)", len(entries))
	}
}

// TestFileStoreNeverWidensMode shows that a write replaces the file with a
// new 0600 file even where the old one was readable by others: the mode is
// set at creation, never changed after.
func TestFileStoreNeverWidensMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no POSIX modes")
	}
	path := filepath.Join(t.TempDir(), "tokens.json")
	os.WriteFile(path, []byte(`{"version":1,"entries":{}}`), 0o644)
	s, _ := NewFileStore(path)
	if err := s.Set(context.Background(), "k", "v"); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %o after a write, want 600", fi.Mode().Perm())
	}
}

// TestFileStoreFormat pins the document, which the Python SDK shares.
func TestFileStoreFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	// As the Python SDK writes it.
	os.WriteFile(path, []byte(`{"entries": {"py": "from python"}, "version": 1}`), 0o600)
	s, _ := NewFileStore(path)
	ctx := context.Background()
	if v, err := s.Get(ctx, "py"); err != nil || v != "from python" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	if err := s.Set(ctx, "go", "from go"); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	doc, err := parseDocument(path, raw)
	if err != nil || doc["py"] != "from python" || doc["go"] != "from go" || len(doc) != 2 {
		t.Fatalf("file %s: %v", raw, err)
	}
	if !strings.Contains(string(raw), `"version": 1`) {
		t.Errorf("no version in %s", raw)
	}
	keys, err := s.Keys(ctx)
	if err != nil || strings.Join(keys, ",") != "go,py" {
		t.Errorf("Keys = %v, %v", keys, err)
	}
}

func TestFileStoreEmptyFileIsEmpty(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	os.WriteFile(path, []byte(" \n"), 0o600)
	s, _ := NewFileStore(path)
	storeContract(t, s)
}

// TestFileStoreCorruptFileIsKept: a file that is not a store is an error
// naming it, for reads and writes alike, and is never overwritten.
func TestFileStoreCorruptFileIsKept(t *testing.T) {
	cases := map[string]string{
		"not json":      "this is my shopping list\n",
		"truncated":     `{"version":1,"entries":{"k":"v"`,
		"wrong shape":   `{"version":1,"entries":["k","v"]}`,
		"no entries":    `{"version":1}`,
		"bare map":      `{"k":"v"}`,
		"newer version": `{"version":2,"entries":{}}`,
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "tokens.json")
			os.WriteFile(path, []byte(content), 0o600)
			s, _ := NewFileStore(path)
			ctx := context.Background()
			_, gerr := s.Get(ctx, "k")
			serr := s.Set(ctx, "k", "new")
			derr := s.Delete(ctx, "k")
			for _, err := range []error{gerr, serr, derr} {
				if !errors.Is(err, ErrStoreCorrupt) {
					t.Fatalf("got %v, want ErrStoreCorrupt", err)
				}
				if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "left untouched") {
					t.Errorf("message %q does not name the file and say it was kept", err)
				}
			}
			if raw, _ := os.ReadFile(path); string(raw) != content {
				t.Fatalf("the file changed to %q", raw)
			}
		})
	}
}

func TestFileStoreFollowsSymlink(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges")
	}
	dir := t.TempDir()
	real := filepath.Join(dir, "real.json")
	link := filepath.Join(dir, "tokens.json")
	os.WriteFile(real, []byte(`{"version":1,"entries":{}}`), 0o600)
	os.Symlink(real, link)
	s, _ := NewFileStore(link)
	if err := s.Set(context.Background(), "k", "v"); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&os.ModeSymlink == 0 {
		t.Fatal("the link was replaced by a file")
	}
	if raw, _ := os.ReadFile(real); !strings.Contains(string(raw), `"k"`) {
		t.Fatalf("the linked file was not written: %s", raw)
	}
}

// TestFileStoreSharedInProcess: two stores on one file (two lock
// descriptors) writing at once lose nothing.
func TestFileStoreSharedInProcess(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.json")
	a, _ := NewFileStore(path)
	b, _ := NewFileStore(path)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 5; j++ {
				if err := s.Set(context.Background(), fmt.Sprintf("g%d-%d", i, j), "v"); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	keys, err := a.Keys(context.Background())
	if err != nil || len(keys) != 40 {
		t.Fatalf("%d keys, %v; want 40", len(keys), err)
	}
}

func init() {
	// setMany writes keys PREFIX-0 … PREFIX-N-1 into the store at PATH.
	helpers["setMany"] = func(args []string) error {
		s, err := NewFileStore(args[0])
		if err != nil {
			return err
		}
		n, _ := strconv.Atoi(args[2])
		for i := 0; i < n; i++ {
			if err := s.Set(context.Background(), fmt.Sprintf("%s-%d", args[1], i), "v"); err != nil {
				return err
			}
		}
		return nil
	}
	// holdLock takes the store's lock, prints "locked", and keeps it until
	// its standard input closes.
	helpers["holdLock"] = func(args []string) error {
		unlock, err := lockFile(context.Background(), args[0]+".lock", time.Second)
		if err != nil {
			return err
		}
		fmt.Println("locked")
		io.Copy(io.Discard, os.Stdin)
		unlock()
		return nil
	}
}

// TestFileStoreAcrossProcesses: four processes writing the same file at
// once lose none of each other's entries: the lock covers each
// read-modify-write.
func TestFileStoreAcrossProcesses(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.json")
	var wg sync.WaitGroup
	for p := 0; p < 4; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if out, err := runHelper(t, nil, "setMany", path, fmt.Sprintf("p%d", p), "25"); err != nil {
				t.Errorf("helper %d: %v\n%s", p, err, out)
			}
		}()
	}
	wg.Wait()
	s, _ := NewFileStore(path)
	keys, err := s.Keys(context.Background())
	if err != nil || len(keys) != 100 {
		t.Fatalf("%d keys, %v; want 100", len(keys), err)
	}
}

// TestFileStoreLockWaitIsBounded: a writer gives up with ErrStoreLocked
// when another process keeps the lock, and a reader is not blocked.
func TestFileStoreLockWaitIsBounded(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.json")
	s, _ := NewFileStore(path)
	ctx := context.Background()
	if err := s.Set(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	unlock, err := lockFile(ctx, path+".lock", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	s.f.lockWait = 100 * time.Millisecond
	start := time.Now()
	err = s.Set(ctx, "k", "w")
	if !errors.Is(err, ErrStoreLocked) || !strings.Contains(err.Error(), path+".lock") {
		t.Fatalf("got %v, want ErrStoreLocked naming the lock", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("gave up after %v", d)
	}
	if v, err := s.Get(ctx, "k"); err != nil || v != "v" {
		t.Fatalf("a read under another's lock: %q, %v", v, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(20*time.Millisecond, cancel)
	s.f.lockWait = time.Minute
	if err := s.Delete(cctx, "k"); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want the context's error", err)
	}
}

// TestFileStoreWaitsForAnotherProcess: a writer waits while another
// process holds the lock, then proceeds.
func TestFileStoreWaitsForAnotherProcess(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.json")
	cmd := helperCommand(t, "holdLock", path)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	buf := make([]byte, 64)
	if n, _ := stdout.Read(buf); !strings.Contains(string(buf[:n]), "locked") {
		t.Fatalf("helper said %q", buf[:n])
	}
	s, _ := NewFileStore(path)
	done := make(chan error, 1)
	go func() { done <- s.Set(context.Background(), "k", "v") }()
	select {
	case err := <-done:
		t.Fatalf("the write did not wait for the other process: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	stdin.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get(context.Background(), "k"); err != nil || v != "v" {
		t.Fatalf("Get = %q, %v", v, err)
	}
}
