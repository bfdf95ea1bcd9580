package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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

// entryPath is where a file store at dir keeps key's entry: spelled out
// here as the contract states it, not through the code under test.
func entryPath(dir, key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(dir, hex.EncodeToString(sum[:])[:32]+".json")
}

func fileStoreAt(t testing.TB, path string) *FileStore {
	t.Helper()
	s, err := NewFileStore(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFileStoreContract(t *testing.T) {
	t.Parallel()
	suite.Contract(t, fileStoreAt(t, filepath.Join(t.TempDir(), "tokens.json")))
}

func TestFileStoreSwap(t *testing.T) {
	t.Parallel()
	suite.Swap(t, capable(fileStoreAt(t, filepath.Join(t.TempDir(), "tokens.json"))))
}

// TestFileStoreSwapStaleOld: a Swap whose old value someone else replaced
// meanwhile writes nothing and answers the value now held.
func TestFileStoreSwapStaleOld(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.json")
	ctx := context.Background()
	a, b := fileStoreAt(t, path), fileStoreAt(t, path)
	if err := a.Set(ctx, "k", "pair-1"); err != nil {
		t.Fatal(err)
	}
	read, _ := a.Get(ctx, "k")
	// Another process writes the winner's pair.
	if ok, _, err := b.Swap(ctx, "k", sp("pair-1"), sp("pair-2")); !ok || err != nil {
		t.Fatalf("the winner's swap: %v, %v", ok, err)
	}
	ok, cur, err := a.Swap(ctx, "k", &read, sp("pair-3"))
	if err != nil || ok || cur == nil || *cur != "pair-2" {
		t.Fatalf("a stale swap = %v, %v, %v; want a conflict showing pair-2", ok, deref(cur), err)
	}
	ok, cur, err = a.Swap(ctx, "k", &read, nil)
	if err != nil || ok || cur == nil || *cur != "pair-2" {
		t.Fatalf("a stale delete = %v, %v, %v; want a conflict showing pair-2", ok, deref(cur), err)
	}
	if v, _ := a.Get(ctx, "k"); v != "pair-2" {
		t.Fatalf("the store holds %q, want the winner's pair", v)
	}
}

// TestFileStoreSwapWithoutDirectory: a swap to nothing on a store that was
// never written creates nothing.
func TestFileStoreSwapWithoutDirectory(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.json")
	s := fileStoreAt(t, path)
	if ok, cur, err := s.Swap(context.Background(), "k", nil, nil); !ok || cur != nil || err != nil {
		t.Fatalf("Swap(nil, nil) = %v, %v, %v", ok, deref(cur), err)
	}
	if ok, cur, err := s.Swap(context.Background(), "k", sp("x"), nil); ok || cur != nil || err != nil {
		t.Fatalf("Swap(x, nil) = %v, %v, %v", ok, deref(cur), err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("a swap to nothing created the store")
	}
}

// TestFileStoreSwapRace: 32 goroutines, each with a store of its own on
// one directory (as many lock descriptors), increment one counter by
// compare-and-swap, and no increment is lost.
func TestFileStoreSwapRace(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.json")
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := fileStoreAt(t, path)
			for range 10 {
				if err := suite.Increment(ctx, s, "n"); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if v, _ := fileStoreAt(t, path).Get(ctx, "n"); v != "320" {
		t.Fatalf("counter = %q, want 320", v)
	}
}

func TestFileStoreLock(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.json")
	suite.LockWaits(t, capable(fileStoreAt(t, path)))
	suite.LockExclusive(t, capable(fileStoreAt(t, path)), 16, 10)
	// Each goroutine with a store of its own: the lease files exclude them.
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := fileStoreAt(t, path)
			for range 10 {
				unlock, err := s.Lock(ctx, "k", time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				v, _ := s.Get(ctx, "m")
				var old *string
				if v != "" {
					old = &v
				}
				if ok, _, err := s.Swap(ctx, "m", old, sp(itoa(atoi(v)+1))); !ok || err != nil {
					t.Errorf("a swap under the lease: %v, %v", ok, err)
				}
				unlock()
			}
		}()
	}
	wg.Wait()
	if v, _ := fileStoreAt(t, path).Get(ctx, "m"); v != "160" {
		t.Fatalf("counter = %q, want 160", v)
	}
	if _, err := os.Stat(strings.TrimSuffix(entryPath(path, "k"), ".json") + ".lease"); err != nil {
		t.Errorf("no lease file: %v", err)
	}
}

func TestFileStoreCreatesPrivateFiles(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no POSIX modes")
	}
	parent := filepath.Join(t.TempDir(), "new", "deviceflow")
	path := filepath.Join(parent, "tokens.json")
	s := fileStoreAt(t, path)
	ctx := context.Background()
	if _, err := s.Get(ctx, "k"); !errors.Is(err, ErrNoEntry) {
		t.Fatal(err)
	}
	if keys, err := s.Keys(ctx); err != nil || len(keys) != 0 {
		t.Fatalf("Keys = %v, %v", keys, err)
	}
	if err := s.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(parent); !os.IsNotExist(err) {
		t.Fatal("a read or a delete created the directory")
	}
	if err := s.Set(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	entry := entryPath(path, "k")
	lock := strings.TrimSuffix(entry, ".json") + ".lock"
	for p, want := range map[string]os.FileMode{parent: 0o700, path: 0o700, entry: 0o600, lock: 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s has mode %o, want %o", p, got, want)
		}
	}
	entries, _ := os.ReadDir(path)
	if len(entries) != 2 {
		t.Errorf("the directory holds %d files, want the entry and its lock (no temporary file left)", len(entries))
	}
	if err := s.CheckWritable(ctx); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadDir(path); len(after) != 2 {
		t.Errorf("CheckWritable left a file behind")
	}
}

// TestFileStoreNeverWidensMode shows that a write replaces an entry file
// with a new 0600 file even where the old one was readable by others: the
// mode is set at creation, never changed after.
func TestFileStoreNeverWidensMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no POSIX modes")
	}
	path := filepath.Join(t.TempDir(), "tokens.json")
	os.Mkdir(path, 0o700)
	os.WriteFile(entryPath(path, "k"), []byte(`{"version":2,"key":"k","value":"old"}`), 0o644)
	s := fileStoreAt(t, path)
	if err := s.Set(context.Background(), "k", "v"); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(entryPath(path, "k"))
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %o after a write, want 600", fi.Mode().Perm())
	}
}

// TestFileStoreFormat pins the layout, which the Python SDK shares.
func TestFileStoreFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	os.Mkdir(path, 0o700)
	// As the Python SDK writes it (json.dumps, compact, ensure_ascii=False).
	os.WriteFile(entryPath(path, "py <&>"), []byte(`{"version":2,"key":"py <&>","value":"from pythön"}`), 0o600)
	s := fileStoreAt(t, path)
	ctx := context.Background()
	if v, err := s.Get(ctx, "py <&>"); err != nil || v != "from pythön" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	if err := s.Set(ctx, "go <&>", "from gö"); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(entryPath(path, "go <&>"))
	if err != nil {
		t.Fatal(err)
	}
	if string(raw) != `{"version":2,"key":"go <&>","value":"from gö"}` {
		t.Errorf("entry file %s", raw)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil || doc["version"] != 2.0 || doc["key"] != "go <&>" || doc["value"] != "from gö" || len(doc) != 3 {
		t.Fatalf("entry file %s: %v", raw, err)
	}
	keys, err := s.Keys(ctx)
	if err != nil || strings.Join(keys, ",") != "go <&>,py <&>" {
		t.Errorf("Keys = %v, %v", keys, err)
	}
	// 32 hex digits of sha256("k"), fixed by the contract.
	if got := entryName("k"); got != "8254c329a92850f6d539dd376f4816ee" {
		t.Errorf("entryName(k) = %s", got)
	}
	// Locks, leases, temporary files and other files are no entries.
	for _, name := range []string{"x.lock", "x.lease", ".y.123.tmp", "notes.txt"} {
		os.WriteFile(filepath.Join(path, name), []byte("junk"), 0o600)
	}
	if keys, err := s.Keys(ctx); err != nil || len(keys) != 2 {
		t.Errorf("Keys = %v, %v", keys, err)
	}
}

// TestFileStoreCorruptEntryIsKept: an entry file that is not an entry is
// an error naming it, for every operation on it, and is never overwritten
// nor removed; other entries still work.
func TestFileStoreCorruptEntryIsKept(t *testing.T) {
	cases := map[string]string{
		"not json":      "this is my shopping list\n",
		"empty":         "",
		"truncated":     `{"version":2,"key":"k","value":"v"`,
		"wrong shape":   `{"version":2,"key":"k","value":["v"]}`,
		"no value":      `{"version":2,"key":"k"}`,
		"v1 document":   `{"version":1,"entries":{"k":"v"}}`,
		"newer version": `{"version":3,"key":"k","value":"v"}`,
		"another key":   `{"version":2,"key":"not k","value":"v"}`,
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "tokens.json")
			os.Mkdir(path, 0o700)
			file := entryPath(path, "k")
			os.WriteFile(file, []byte(content), 0o600)
			s := fileStoreAt(t, path)
			ctx := context.Background()
			_, gerr := s.Get(ctx, "k")
			serr := s.Set(ctx, "k", "new")
			derr := s.Delete(ctx, "k")
			_, _, werr := s.Swap(ctx, "k", nil, sp("new"))
			errs := []error{gerr, serr, derr, werr}
			if name != "another key" {
				_, kerr := s.Keys(ctx)
				errs = append(errs, kerr)
			}
			for _, err := range errs {
				if !errors.Is(err, ErrStoreCorrupt) {
					t.Fatalf("got %v, want ErrStoreCorrupt", err)
				}
				if !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), "left untouched") {
					t.Errorf("message %q does not name the file and say it was kept", err)
				}
			}
			if raw, _ := os.ReadFile(file); string(raw) != content {
				t.Fatalf("the file changed to %q", raw)
			}
			if err := s.Set(ctx, "other", "v"); err != nil {
				t.Fatalf("another entry: %v", err)
			}
		})
	}
}

// TestFileStoreCorruptV1IsKept: a file at the store's path that is not a
// v1 store is an error naming it, and is neither moved nor changed.
func TestFileStoreCorruptV1IsKept(t *testing.T) {
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
			s := fileStoreAt(t, path)
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
			if _, err := os.Stat(path + ".v1"); !os.IsNotExist(err) {
				t.Fatal("the file was moved")
			}
		})
	}
}

// TestFileStoreThroughSymlink: a symbolic link to a directory is used as
// the directory, and stays a link.
func TestFileStoreThroughSymlink(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges")
	}
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	link := filepath.Join(dir, "tokens.json")
	os.Mkdir(real, 0o700)
	os.Symlink(real, link)
	s := fileStoreAt(t, link)
	if err := s.Set(context.Background(), "k", "v"); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&os.ModeSymlink == 0 {
		t.Fatal("the link was replaced")
	}
	if _, err := os.Stat(entryPath(real, "k")); err != nil {
		t.Fatalf("the linked directory was not written: %v", err)
	}
}

// TestFileStoreSharedInProcess: two stores on one directory (two lock
// descriptors) writing at once lose nothing.
func TestFileStoreSharedInProcess(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.json")
	a, b := fileStoreAt(t, path), fileStoreAt(t, path)
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
	// holdLock takes the lock file PATH, prints "locked", and keeps it
	// until its standard input closes.
	helpers["holdLock"] = func(args []string) error {
		unlock, err := lockFile(context.Background(), args[0], time.Second)
		if err != nil {
			return err
		}
		fmt.Println("locked")
		io.Copy(io.Discard, os.Stdin)
		unlock()
		return nil
	}
	// leaseIncrement, N times: takes the lease on KEY in the store at PATH
	// (kind "file" or "encrypted", the key in $DEVICEFLOW_ENCRYPTION_KEY),
	// reads the counter, and swaps in the next value, which must succeed:
	// nobody else writes while the lease is held.
	helpers["leaseIncrement"] = func(args []string) error {
		kind, path, key := args[0], args[1], args[2]
		n, _ := strconv.Atoi(args[3])
		st, err := openStore(kind, path)
		if err != nil {
			return err
		}
		s := capable(st)
		ctx := context.Background()
		for i := 0; i < n; i++ {
			unlock, err := s.Lock(ctx, key, time.Minute)
			if err != nil {
				return err
			}
			var old *string
			v, err := s.Get(ctx, key)
			if err == nil {
				old = &v
			} else if !errors.Is(err, ErrNoEntry) {
				unlock()
				return err
			}
			ok, cur, err := s.Swap(ctx, key, old, sp(itoa(atoi(v)+1)))
			unlock()
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("a swap under the lease found %v, not %v: another holder wrote", deref(cur), deref(old))
			}
		}
		return nil
	}
	// casIncrement, N times: increments the counter under KEY in the file
	// store at PATH by compare-and-swap alone, retrying on conflict.
	helpers["casIncrement"] = func(args []string) error {
		s, err := NewFileStore(args[0])
		if err != nil {
			return err
		}
		n, _ := strconv.Atoi(args[2])
		for i := 0; i < n; i++ {
			if err := suite.Increment(context.Background(), s, args[1]); err != nil {
				return err
			}
		}
		return nil
	}
	// openStore reads KEY from the file store at PATH (migrating it).
	helpers["openStore"] = func(args []string) error {
		s, err := NewFileStore(args[0])
		if err != nil {
			return err
		}
		_, err = s.Get(context.Background(), args[1])
		if errors.Is(err, ErrNoEntry) {
			err = nil
		}
		return err
	}
}

// TestFileStoreAcrossProcesses: four processes writing one directory at
// once lose none of each other's entries.
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
	keys, err := fileStoreAt(t, path).Keys(context.Background())
	if err != nil || len(keys) != 100 {
		t.Fatalf("%d keys, %v; want 100", len(keys), err)
	}
}

// TestFileStoreLeaseAcrossProcesses: eight processes, each taking the
// lease, reading the counter and swapping in the next value 25 times, lose
// no increment, and none ever finds another's write under its lease; the
// same with eight processes doing compare-and-swap alone. Both for the
// plain and the encrypted store.
func TestFileStoreLeaseAcrossProcesses(t *testing.T) {
	t.Parallel()
	const procs, each = 8, 25
	key := GenerateKey()
	env := []string{EncryptionKeyEnv + "=" + key}
	for _, kind := range []string{StoreFile, StoreEncrypted} {
		path := filepath.Join(t.TempDir(), "tokens.json")
		var wg sync.WaitGroup
		for p := 0; p < procs; p++ {
			wg.Add(2)
			go func() {
				defer wg.Done()
				if out, err := runHelper(t, env, "leaseIncrement", kind, path, "lease", strconv.Itoa(each)); err != nil {
					t.Errorf("%s lease helper %d: %v\n%s", kind, p, err, out)
				}
			}()
			go func() {
				defer wg.Done()
				if kind != StoreFile {
					return
				}
				if out, err := runHelper(t, env, "casIncrement", path, "cas", strconv.Itoa(each)); err != nil {
					t.Errorf("cas helper %d: %v\n%s", p, err, out)
				}
			}()
		}
		wg.Wait()
		var s Store = fileStoreAt(t, path)
		if kind == StoreEncrypted {
			s = encryptedAt(t, path, testKey(t, key))
		}
		ctx := context.Background()
		if v, err := s.Get(ctx, "lease"); err != nil || v != itoa(procs*each) {
			t.Errorf("%s: lease counter = %q, %v; want %d", kind, v, err, procs*each)
		}
		if kind == StoreFile {
			if v, err := s.Get(ctx, "cas"); err != nil || v != itoa(procs*each) {
				t.Errorf("cas counter = %q, %v; want %d", v, err, procs*each)
			}
		}
	}
}

// TestFileStoreLockWaitIsBounded: a writer of an entry whose lock another
// process keeps gives up with ErrStoreLocked; writers of other entries and
// readers are not held up.
func TestFileStoreLockWaitIsBounded(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.json")
	s := fileStoreAt(t, path)
	ctx := context.Background()
	if err := s.Set(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	lock := strings.TrimSuffix(entryPath(path, "k"), ".json") + ".lock"
	unlock, err := lockFile(ctx, lock, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	s.d.lockWait = 100 * time.Millisecond
	start := time.Now()
	err = s.Set(ctx, "k", "w")
	if !errors.Is(err, ErrStoreLocked) || !strings.Contains(err.Error(), lock) {
		t.Fatalf("got %v, want ErrStoreLocked naming the lock", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("gave up after %v", d)
	}
	if _, _, err := s.Swap(ctx, "k", sp("v"), sp("w")); !errors.Is(err, ErrStoreLocked) {
		t.Fatalf("Swap: got %v, want ErrStoreLocked", err)
	}
	// Another entry's write takes its own lock only: with no wait at all
	// for a held lock, it succeeds.
	s.d.lockWait = 0
	if err := s.Set(ctx, "other", "v"); err != nil {
		t.Fatalf("a write of another entry: %v", err)
	}
	if v, err := s.Get(ctx, "k"); err != nil || v != "v" {
		t.Fatalf("a read under another's lock: %q, %v", v, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(20*time.Millisecond, cancel)
	s.d.lockWait = time.Minute
	if err := s.Delete(cctx, "k"); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want the context's error", err)
	}
}

// TestFileStoreWaitsForAnotherProcess: a writer waits while another
// process holds the entry's lock, then proceeds; a lease held by another
// process is busy.
func TestFileStoreWaitsForAnotherProcess(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.json")
	os.Mkdir(path, 0o700)
	stem := strings.TrimSuffix(entryPath(path, "k"), ".json")
	hold := func(file string) func() {
		cmd := helperCommand(t, "holdLock", file)
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 64)
		if n, _ := stdout.Read(buf); !strings.Contains(string(buf[:n]), "locked") {
			t.Fatalf("helper said %q", buf[:n])
		}
		return func() { stdin.Close(); cmd.Wait() }
	}
	release := hold(stem + ".lock")
	s := fileStoreAt(t, path)
	done := make(chan error, 1)
	go func() { done <- s.Set(context.Background(), "k", "v") }()
	select {
	case err := <-done:
		t.Fatalf("the write did not wait for the other process: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get(context.Background(), "k"); err != nil || v != "v" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	release = hold(stem + ".lease")
	if _, err := s.Lock(context.Background(), "k", 50*time.Millisecond); !errors.Is(err, ErrBusy) {
		t.Fatalf("Lock while another process holds the lease: %v, want ErrBusy", err)
	}
	if ok, _, err := s.Swap(context.Background(), "k", sp("v"), sp("w")); !ok || err != nil {
		t.Fatalf("a swap while another process holds the lease: %v, %v", ok, err)
	}
	release()
	unlock, err := s.Lock(context.Background(), "k", 0)
	if err != nil {
		t.Fatalf("Lock after the other process let go: %v", err)
	}
	unlock()
}

// TestFileStoreTouchesOneEntry: with hundreds of other entry files that
// cannot even be parsed, one entry's read, swap, write, delete and lease
// still work: an operation reads and writes that entry's files only, so
// its cost does not depend on the others (BenchmarkFileStoreSwap measures
// it).
func TestFileStoreTouchesOneEntry(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.json")
	os.Mkdir(path, 0o700)
	for i := range 300 {
		os.WriteFile(entryPath(path, fmt.Sprint("other-", i)), []byte("not an entry"), 0o600)
	}
	s := fileStoreAt(t, path)
	ctx := context.Background()
	unlock, err := s.Lock(ctx, "k", 0)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := s.Swap(ctx, "k", nil, sp("1")); !ok || err != nil {
		t.Fatalf("Swap = %v, %v", ok, err)
	}
	if err := s.Set(ctx, "k", "2"); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get(ctx, "k"); v != "2" || err != nil {
		t.Fatalf("Get = %q, %v", v, err)
	}
	if err := s.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	unlock()
	if _, err := s.Keys(ctx); !errors.Is(err, ErrStoreCorrupt) {
		t.Fatalf("Keys over damaged entries = %v, want ErrStoreCorrupt", err)
	}
}
