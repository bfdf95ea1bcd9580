package interop

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/deviceflow/deviceflow/host"
)

// root is the repository's root directory.
var root = func() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(filepath.Dir(file)))
}()

// pythonScript writes or reads entries through the Python SDK's stores:
// argv is KIND DIR OP, then KEY VALUE (write) or KEY... (read, printing a
// JSON object of the values found). The key comes from the environment.
const pythonScript = `
import json, sys
from deviceflow.stores import EncryptedFileStore, FileStore
kind, path, op, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
store = FileStore(path) if kind == "file" else EncryptedFileStore(path)
if op == "write":
    store.set(args[0], args[1])
else:
    print(json.dumps({k: store.get(k) for k in args}))
`

// nodeScript is pythonScript for the Node SDK.
const nodeScript = `
const { EncryptedFileStore, FileStore } = await import(process.env.DEVICEFLOW_SDK_JS);
const [kind, path, op, ...args] = process.argv.slice(1);
const store = kind === "file" ? new FileStore(path) : new EncryptedFileStore(path);
if (op === "write") await store.set(args[0], args[1]);
else {
  const out = {};
  for (const k of args) out[k] = (await store.get(k)) ?? null;
  console.log(JSON.stringify(out));
}
`

// missing fails the test in CI and skips it elsewhere, saying how to get
// what is missing.
func missing(t *testing.T, what, how string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing: %s", what, how)
	}
	t.Skipf("%s is missing (%s); with CI=true this fails", what, how)
}

// lang is one language's store, driven in its own process (Go's runs in
// the test itself).
type lang struct {
	name string
	// run runs a script's operation; nil for Go.
	run func(t *testing.T, env []string, args ...string) string
}

func languages(t *testing.T) []lang {
	t.Helper()
	return languagesWith(t, pythonScript, nodeScript)
}

// languagesWith is languages with the Python and Node scripts given.
func languagesWith(t *testing.T, pyScript, jsScript string) []lang {
	t.Helper()
	py := filepath.Join(root, "sdk", "python", ".venv", "bin", "python")
	if _, err := os.Stat(py); err != nil {
		missing(t, "the Python venv "+py, "run sdk/python/scripts/venv.sh (or make test-python)")
	}
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		missing(t, "node", "install Node 20 or later")
	}
	if _, err := os.Stat(filepath.Join(root, "sdk", "js", "node_modules", "@extism", "extism")); err != nil {
		missing(t, "sdk/js/node_modules", "run npm ci in sdk/js (or make test-node)")
	}
	script := func(bin string, pre ...string) func(t *testing.T, env []string, args ...string) string {
		return func(t *testing.T, env []string, args ...string) string {
			t.Helper()
			cmd := exec.Command(bin, append(append([]string{}, pre...), args...)...)
			cmd.Dir = t.TempDir()
			cmd.Env = append(os.Environ(), env...)
			cmd.Env = append(cmd.Env, "PYTHONDONTWRITEBYTECODE=1",
				"DEVICEFLOW_SDK_JS="+filepath.Join(root, "sdk", "js", "src", "index.js"))
			out, err := cmd.Output()
			if err != nil {
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, ee.Stderr)
				}
				t.Fatalf("%s: %v", bin, err)
			}
			return string(out)
		}
	}
	return []lang{
		{name: "go"},
		{name: "python", run: script(py, "-c", pyScript)},
		{name: "node", run: script(nodeBin, "--input-type=module", "-e", jsScript)},
	}
}

// goStore opens the Go host's store of kind at path, the key from env.
func goStore(t *testing.T, kind, path string, env []string) interface {
	Get(context.Context, string) (string, error)
	Set(context.Context, string, string) error
} {
	t.Helper()
	if kind == "file" {
		s, err := host.NewFileStore(path)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	key, err := host.ParseEncryptionKey(strings.TrimPrefix(env[0], host.EncryptionKeyEnv+"="))
	if err != nil {
		t.Fatal(err)
	}
	s, err := host.NewEncryptedFileStore(path, key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestStoresAcrossLanguages: in a file store, an encrypted store with a key
// and one with a passphrase, each language writes a token under a key of its
// own, then each language reads every token: all three read all three.
func TestStoresAcrossLanguages(t *testing.T) {
	langs := languages(t)
	kinds := []struct {
		name, store string
		env         []string
	}{
		{"file", "file", nil},
		{"encrypted with a key", "encrypted", []string{host.EncryptionKeyEnv + "=" + host.GenerateKey()}},
		{"encrypted with a passphrase", "encrypted", []string{host.EncryptionKeyEnv + "=passphrase:correct horse battery staple"}},
	}
	for _, kind := range kinds {
		t.Run(kind.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "tokens.json")
			written := map[string]string{}
			var keys []string
			for _, l := range langs {
				// Keys and values with characters each JSON encoder
				// treats in its own way: HTML, non-ASCII, a quote.
				key := "deviceflow:v1:https://github.com|oauth-app|Ov23li<&>|repo é " + l.name
				value := `{"token":"gho_` + l.name + `\u00e9","note":"<&> ☃ \"q\""}`
				written[key] = value
				keys = append(keys, key)
				if l.run == nil {
					if err := goStore(t, kind.store, dir, kind.env).Set(context.Background(), key, value); err != nil {
						t.Fatalf("go writes: %v", err)
					}
				} else {
					l.run(t, kind.env, kind.store, dir, "write", key, value)
				}
			}
			sort.Strings(keys)
			for _, l := range langs {
				got := map[string]string{}
				if l.run == nil {
					s := goStore(t, kind.store, dir, kind.env)
					for _, k := range keys {
						v, err := s.Get(context.Background(), k)
						if err != nil {
							t.Fatalf("go reads %q: %v", k, err)
						}
						got[k] = v
					}
				} else {
					out := l.run(t, kind.env, append([]string{kind.store, dir, "read"}, keys...)...)
					var read map[string]*string
					if err := json.Unmarshal([]byte(out), &read); err != nil {
						t.Fatalf("%s read: %v\n%s", l.name, err, out)
					}
					for k, v := range read {
						if v == nil {
							t.Errorf("%s finds no value under %q", l.name, k)
							continue
						}
						got[k] = *v
					}
				}
				for k, want := range written {
					if got[k] != want {
						t.Errorf("%s reads %q as %q, want %q", l.name, k, got[k], want)
					}
				}
				if !t.Failed() {
					t.Logf("%s reads the %d tokens go, python and node wrote", l.name, len(written))
				}
			}
			// One entry file per key, nothing else but their lock files.
			entries, _ := filepath.Glob(filepath.Join(dir, "*.json"))
			if len(entries) != len(langs) {
				t.Errorf("%d entry files, want %d: %v", len(entries), len(langs), entries)
			}
		})
	}
}
