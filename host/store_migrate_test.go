package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// v1Fixture is what host/testdata/store_v1 holds: single-file (layout v1)
// stores as deviceflow wrote them before layout v2 (tokens.json plain,
// tokens.enc.json sealed with v1FixtureKey).
var v1Fixture = map[string]string{
	"deviceflow:v1:github.com:Iv1.sandbox:repo": `{"type":"token","token":"gho_fixture_one","tokenType":"oauth","scopes":["repo"]}`,
	"deviceflow:v1:github.com:Ov23li.other:":    `{"type":"token","token":"ghu_fixture_two","refreshToken":"ghr_fixture","expiresAt":"2030-01-01T00:00:00Z"}`,
	"ünï/cødé <key> & more":                     "välue\n\"quoted\"",
	"":                                          "empty key",
}

const v1FixtureKey = "q2Pm0h9Xk1s7v6l0fI3cZr8yT5bN4wA2eU1jK9dH0gM="

// copyFixture copies a v1 fixture file to dir/tokens.json and returns that
// path.
func copyFixture(t *testing.T, name string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "store_v1", name))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tokens.json")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkMigrated checks that the store at path is a directory holding
// exactly want, with nothing of the v1 file left.
func checkMigrated(t *testing.T, s interface {
	Store
	Keys(context.Context) ([]string, error)
}, path string, want map[string]string) {
	t.Helper()
	ctx := context.Background()
	for k, v := range want {
		if got, err := s.Get(ctx, k); err != nil || got != v {
			t.Errorf("Get(%q) = %q, %v; want %q", k, got, err, v)
		}
	}
	keys, err := s.Keys(ctx)
	if err != nil || len(keys) != len(want) {
		t.Errorf("Keys = %q, %v; want %d keys", keys, err, len(want))
	}
	if fi, err := os.Stat(path); err != nil || !fi.IsDir() {
		t.Errorf("%s is not a directory: %v", path, err)
	}
	if _, err := os.Stat(path + ".v1"); !os.IsNotExist(err) {
		t.Errorf("%s.v1 is still there: %v", path, err)
	}
	for k := range want {
		if _, err := os.Stat(entryPath(path, k)); err != nil {
			t.Errorf("no entry file for %q: %v", k, err)
		}
	}
}

// TestFileStoreMigratesV1: a v1 file, as the previous deviceflow wrote it,
// becomes a directory with every entry, on the first read; the Python
// SDK's v1 file too; and an empty v1 file.
func TestFileStoreMigratesV1(t *testing.T) {
	t.Parallel()
	path := copyFixture(t, "tokens.json")
	s := fileStoreAt(t, path)
	checkMigrated(t, s, path, v1Fixture)
	// A new store on the migrated directory, and writes after.
	s2 := fileStoreAt(t, path)
	if err := s2.Set(context.Background(), "new", "v"); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"new": "v"}
	for k, v := range v1Fixture {
		want[k] = v
	}
	checkMigrated(t, s2, path, want)

	for content, want := range map[string]map[string]string{
		`{"entries": {"py": "from python"}, "version": 1}`: {"py": "from python"},
		" \n":                        {},
		`{"version":1,"entries":{}}`: {},
	} {
		path := filepath.Join(t.TempDir(), "tokens.json")
		os.WriteFile(path, []byte(content), 0o600)
		s := fileStoreAt(t, path)
		if err := s.Set(context.Background(), "after", "x"); err != nil {
			t.Fatalf("%s: %v", content, err)
		}
		want["after"] = "x"
		checkMigrated(t, s, path, want)
	}
}

func TestEncryptedStoreMigratesV1(t *testing.T) {
	t.Parallel()
	path := copyFixture(t, "tokens.enc.json")
	s := encryptedAt(t, path, testKey(t, v1FixtureKey))
	checkMigrated(t, s, path, v1Fixture)
	for k := range v1Fixture {
		raw, _ := os.ReadFile(entryPath(path, k))
		if strings.Contains(string(raw), "fixture") || !strings.Contains(string(raw), sealedFormat) {
			t.Errorf("entry %q is not sealed: %s", k, raw)
		}
	}
	// The wrong key moves nothing.
	path = copyFixture(t, "tokens.enc.json")
	before, _ := os.ReadFile(path)
	_, err := encryptedAt(t, path, testKey(t, GenerateKey())).Get(context.Background(), "")
	if !errors.Is(err, ErrWrongEncryptionKey) || !strings.Contains(err.Error(), path) {
		t.Fatalf("got %v, want ErrWrongEncryptionKey naming the file", err)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Fatal("the v1 file changed")
	}
}

// TestFileStoreMigrationResumes: the states a kill can leave behind — the
// v1 file renamed but no directory yet, a directory with some entries, a
// directory with all of them (and a newer value written since by another
// process) — all end in the complete store, the newer value kept, and
// resuming again changes nothing.
func TestFileStoreMigrationResumes(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join("testdata", "store_v1", "tokens.json"))
	if err != nil {
		t.Fatal(err)
	}
	newer := "deviceflow:v1:github.com:Iv1.sandbox:repo"
	for name, entries := range map[string]map[string]string{
		"renamed, no directory": nil,
		"empty directory":       {},
		"some entries":          {"": "empty key"},
		"all entries, one newer": func() map[string]string {
			m := map[string]string{}
			for k, v := range v1Fixture {
				m[k] = v
			}
			m[newer] = "written after the migration began"
			return m
		}(),
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "tokens.json")
			os.WriteFile(path+".v1", raw, 0o600)
			want := map[string]string{}
			for k, v := range v1Fixture {
				want[k] = v
			}
			if entries != nil {
				os.Mkdir(path, 0o700)
				for k, v := range entries {
					doc, _ := encodeEntry(k, v)
					os.WriteFile(entryPath(path, k), doc, 0o600)
					want[k] = v
				}
				// A temporary file a killed writer left.
				os.WriteFile(filepath.Join(path, ".0123.deadbeef.tmp"), []byte("{"), 0o600)
			}
			checkMigrated(t, fileStoreAt(t, path), path, want)
			checkMigrated(t, fileStoreAt(t, path), path, want)
		})
	}
}

// TestFileStoreMigrationRefusesTwoV1Files: a v1 file at PATH while another
// is being migrated (PATH.v1) is an error; neither file is touched.
func TestFileStoreMigrationRefusesTwoV1Files(t *testing.T) {
	t.Parallel()
	path := copyFixture(t, "tokens.json")
	other := `{"version":1,"entries":{"k":"v"}}`
	os.WriteFile(path+".v1", []byte(other), 0o600)
	_, err := fileStoreAt(t, path).Get(context.Background(), "k")
	if !errors.Is(err, ErrStoreCorrupt) || !strings.Contains(err.Error(), path+".v1") {
		t.Fatalf("got %v, want an error naming both files", err)
	}
	if raw, _ := os.ReadFile(path + ".v1"); string(raw) != other {
		t.Fatal("PATH.v1 changed")
	}
	if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
		t.Fatal("PATH was moved")
	}
}

func init() {
	// migrateAndDie opens the file store at PATH and exits the process
	// without a word at the N-th step of its migration (see
	// migrationStep): a kill -9 at that point.
	helpers["migrateAndDie"] = func(args []string) error {
		n, _ := strconv.Atoi(args[1])
		migrationStep = func(string) {
			if n--; n == 0 {
				os.Exit(7)
			}
		}
		s, err := NewFileStore(args[0])
		if err != nil {
			return err
		}
		_, err = s.Get(context.Background(), "")
		return err
	}
}

// TestFileStoreMigrationSurvivesKill: a process killed after each step of
// a migration (the rename, each entry, the last write) loses nothing: the
// next process finishes it.
func TestFileStoreMigrationSurvivesKill(t *testing.T) {
	t.Parallel()
	steps := 1 + len(v1Fixture) + 1
	for n := 1; n <= steps; n++ {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			t.Parallel()
			path := copyFixture(t, "tokens.json")
			out, err := runHelper(t, nil, "migrateAndDie", path, strconv.Itoa(n))
			var ee interface{ ExitCode() int }
			if !errors.As(err, &ee) || ee.ExitCode() != 7 {
				t.Fatalf("the helper did not die at step %d: %v\n%s", n, err, out)
			}
			if _, err := os.Stat(path + ".v1"); err != nil {
				t.Fatalf("no PATH.v1 after a kill at step %d: %v", n, err)
			}
			checkMigrated(t, fileStoreAt(t, path), path, v1Fixture)
		})
	}
}

// TestFileStoreMigrationAcrossProcesses: six processes opening one v1
// store at once all succeed, and the store ends complete.
func TestFileStoreMigrationAcrossProcesses(t *testing.T) {
	t.Parallel()
	path := copyFixture(t, "tokens.json")
	var wg sync.WaitGroup
	for p := 0; p < 6; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if out, err := runHelper(t, nil, "openStore", path, fmt.Sprint(p)); err != nil {
				t.Errorf("helper %d: %v\n%s", p, err, out)
			}
		}()
	}
	wg.Wait()
	checkMigrated(t, fileStoreAt(t, path), path, v1Fixture)
}
