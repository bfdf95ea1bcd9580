package interop

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/host/store/keyring"
)

// pythonKeyringScript is pythonScript for the Python SDK's KeyringStore:
// argv is write KEY VALUE, or read KEY....
const pythonKeyringScript = `
import json, sys
from deviceflow.stores import KeyringStore
store = KeyringStore()
op, args = sys.argv[1], sys.argv[2:]
if op == "write":
    store.set(args[0], args[1])
else:
    print(json.dumps({k: store.get(k) for k in args}))
`

// nodeKeyringScript is pythonKeyringScript for the Node SDK.
const nodeKeyringScript = `
const { KeyringStore } = await import(process.env.DEVICEFLOW_SDK_JS);
const store = new KeyringStore();
const [op, ...args] = process.argv.slice(1);
if (op === "write") await store.set(args[0], args[1]);
else {
  const out = {};
  for (const k of args) out[k] = (await store.get(k)) ?? null;
  console.log(JSON.stringify(out));
}
`

// inSession marks the test process that runs inside its own D-Bus session
// with a Secret Service.
const inSession = "DEVICEFLOW_INTEROP_SECRET_SERVICE"

// TestKeyringAcrossLanguages: with a real Secret Service (GNOME Keyring in
// a private D-Bus session and a private HOME), a secret each language's
// KeyringStore writes is read by the other two: service "deviceflow", the
// key as user name, in all three. The test re-runs itself inside
// `dbus-run-session`, with gnome-keyring-daemon unlocked by a throwaway
// password.
func TestKeyringAcrossLanguages(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the Secret Service is Linux's")
	}
	if os.Getenv(inSession) == "1" {
		keyringAcrossLanguages(t)
		return
	}
	for _, tool := range []string{"dbus-run-session", "gnome-keyring-daemon"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing(t, tool, "apt-get install gnome-keyring dbus-daemon (.ci/run does)")
		}
	}
	languages(t) // the same checks for Python and Node
	home := t.TempDir()
	cmd := exec.Command("dbus-run-session", "--", "sh", "-c",
		`printf throwaway | gnome-keyring-daemon --unlock --components=secrets >/dev/null && exec "$@"`,
		"sh", os.Args[0], "-test.run=^TestKeyringAcrossLanguages$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), inSession+"=1", "HOME="+home,
		"XDG_DATA_HOME="+filepath.Join(home, ".local", "share"),
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_RUNTIME_DIR="+home, "DISPLAY=")
	out, err := cmd.CombinedOutput()
	t.Logf("in its own D-Bus session:\n%s", out)
	if err != nil {
		t.Fatalf("the test inside a D-Bus session with GNOME Keyring failed: %v", err)
	}
}

func keyringAcrossLanguages(t *testing.T) {
	langs := languagesWith(t, pythonKeyringScript, nodeKeyringScript)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	goStore := keyring.New("", 0)
	if err := goStore.Check(ctx); err != nil {
		t.Fatalf("the Secret Service does not answer: %v", err)
	}
	written := map[string]string{}
	var keys []string
	for _, l := range langs {
		key := "deviceflow:v1:https://github.com|oauth-app|Ov23li|repo " + l.name
		value := `{"token":"gho_` + l.name + `","note":"<&> ☃"}`
		written[key] = value
		keys = append(keys, key)
		if l.run == nil {
			if err := goStore.Set(ctx, key, value); err != nil {
				t.Fatalf("go writes: %v", err)
			}
		} else {
			l.run(t, nil, "write", key, value)
		}
	}
	for _, l := range langs {
		got := map[string]string{}
		if l.run == nil {
			for _, k := range keys {
				v, err := goStore.Get(ctx, k)
				if err != nil {
					t.Fatalf("go reads %q: %v", k, err)
				}
				got[k] = v
			}
		} else {
			var read map[string]*string
			out := l.run(t, nil, append([]string{"read"}, keys...)...)
			if err := json.Unmarshal([]byte(out), &read); err != nil {
				t.Fatalf("%s read: %v\n%s", l.name, err, out)
			}
			for k, v := range read {
				if v != nil {
					got[k] = *v
				}
			}
		}
		for k, want := range written {
			if got[k] != want {
				t.Errorf("%s reads %q as %q, want %q", l.name, k, got[k], want)
			}
		}
		if !t.Failed() {
			t.Logf("%s reads the %d secrets go, python and node wrote in the keyring", l.name, len(written))
		}
	}
}
