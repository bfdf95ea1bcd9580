//go:build linux

package interop

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/deviceflow/deviceflow/host"
	"github.com/deviceflow/deviceflow/host/internal/testserver"
	pgstore "github.com/deviceflow/deviceflow/host/store/postgres"
	redisstore "github.com/deviceflow/deviceflow/host/store/redis"
)

// sharedScript drives the Python SDK's RedisStore or PostgresStore: argv
// is KIND URL TENANT OP ARGS; the key comes from the environment. OPs:
// get KEY... (prints a JSON object), swap KEY OLD NEW (JSON null for
// None; prints [swapped, current]), count KEY N (N increments by
// compare-and-swap), hold KEY (takes the lease, prints "held", releases
// it when standard input closes), lock KEY (prints whether it took the
// lease at once).
const sharedScript = `
import json, sys
from deviceflow.stores import PostgresStore, RedisStore
kind, url, tenant, op, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
s = (RedisStore if kind == "redis" else PostgresStore)(url, tenant=tenant)
if op == "get":
    print(json.dumps({k: s.get(k) for k in args}))
elif op == "swap":
    print(json.dumps(list(s.swap(args[0], json.loads(args[1]), json.loads(args[2])))))
elif op == "count":
    for _ in range(int(args[1])):
        while True:
            old = s.get(args[0])
            if s.swap(args[0], old, str(int(old or "0") + 1))[0]:
                break
elif op == "hold":
    release = s.lock(args[0], 0)
    assert release is not None
    print("held", flush=True)
    sys.stdin.read()
    release()
elif op == "lock":
    release = s.lock(args[0], 0)
    print(json.dumps(release is not None))
    if release:
        release()
s.close()
`

type sharedBackend struct {
	name   string
	server func() (*testserver.Server, error)
	open   func(t *testing.T, url, tenant string, key host.EncryptionKey) sharedStore
}

type sharedStore interface {
	host.Store
	host.Swapper
	host.Locker
}

var sharedBackends = []sharedBackend{
	{"redis", testserver.Redis, func(t *testing.T, url, tenant string, key host.EncryptionKey) sharedStore {
		s, err := redisstore.Open(url, redisstore.Options{Tenant: tenant, Key: &key})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}},
	{"postgres", testserver.Postgres, func(t *testing.T, url, tenant string, key host.EncryptionKey) sharedStore {
		s, err := pgstore.Open(context.Background(), url, pgstore.Options{Tenant: tenant, Key: &key})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		return s
	}},
}

// python returns the venv's interpreter, or ends the test as missing does.
func python(t *testing.T) string {
	t.Helper()
	py := filepath.Join(root, "sdk", "python", ".venv", "bin", "python")
	if _, err := os.Stat(py); err != nil {
		missing(t, "the Python venv "+py, "run sdk/python/scripts/venv.sh (or make test-python)")
	}
	return py
}

// pyCmd is the Python half's command for one operation.
func pyCmd(py string, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(py, append([]string{"-c", sharedScript}, args...)...)
	cmd.Env = append(append(os.Environ(), env...), "PYTHONDONTWRITEBYTECODE=1")
	cmd.Stderr = os.Stderr
	return cmd
}

func pyRun(t *testing.T, py string, env []string, args ...string) string {
	t.Helper()
	out, err := pyCmd(py, env, args...).Output()
	if err != nil {
		t.Fatalf("python %s: %v", strings.Join(args[3:], " "), err)
	}
	return strings.TrimSpace(string(out))
}

func jsonArg(s *string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestSharedStoresAcrossLanguages: on one Redis and on one PostgreSQL, a
// Go service and a Python service share entries (Go writes, Python reads
// and swaps, Go reads and swaps back, Python reads), compare-and-swaps
// (Go goroutines and Python processes increment one counter: no increment
// lost) and leases (each excludes the other).
func TestSharedStoresAcrossLanguages(t *testing.T) {
	py := python(t)
	keyText := host.GenerateKey()
	key, _ := host.ParseEncryptionKey(keyText)
	env := []string{host.EncryptionKeyEnv + "=" + keyText}
	for _, b := range sharedBackends {
		t.Run(b.name, func(t *testing.T) {
			srv, err := b.server()
			srv = testserver.Require(t, srv, err)
			ctx := testserver.Context(t)
			tenant := fmt.Sprintf("interop-%d", time.Now().UnixNano())
			g := b.open(t, srv.URL, tenant, key)
			args := func(op string, rest ...string) []string {
				return append([]string{b.name, srv.URL, tenant, op}, rest...)
			}

			// Entries, both ways.
			k := "deviceflow:v1:https://github.com|oauth-app|Ov23li<&>|repo é"
			v1 := `{"token":"gho_go\u00e9","note":"<&> ☃"}`
			if err := g.Set(ctx, k, v1); err != nil {
				t.Fatal(err)
			}
			var read map[string]*string
			json.Unmarshal([]byte(pyRun(t, py, env, args("get", k)...)), &read)
			if read[k] == nil || *read[k] != v1 {
				t.Fatalf("python reads Go's entry as %v", read[k])
			}
			v2 := `{"token":"gho_python"}`
			var swapped []any
			json.Unmarshal([]byte(pyRun(t, py, env, args("swap", k, jsonArg(&v1), jsonArg(&v2))...)), &swapped)
			if len(swapped) != 2 || swapped[0] != true {
				t.Fatalf("python's swap over Go's entry: %v", swapped)
			}
			if got, err := g.Get(ctx, k); err != nil || got != v2 {
				t.Fatalf("Go reads Python's swap as %q, %v", got, err)
			}
			json.Unmarshal([]byte(pyRun(t, py, env, args("swap", k, jsonArg(&v1), jsonArg(&v2))...)), &swapped)
			if swapped[0] != false || swapped[1] != v2 {
				t.Fatalf("python's stale swap: %v", swapped)
			}
			if ok, _, err := g.Swap(ctx, k, &v2, nil); err != nil || !ok {
				t.Fatalf("Go's swap over Python's entry: %v, %v", ok, err)
			}
			json.Unmarshal([]byte(pyRun(t, py, env, args("get", k)...)), &read)
			if read[k] != nil {
				t.Fatalf("python still reads the entry Go removed: %q", *read[k])
			}

			// One counter, Go goroutines and Python processes.
			const each = 20
			var wg sync.WaitGroup
			var pyErr error
			var mu sync.Mutex
			for range 3 {
				wg.Add(2)
				go func() {
					defer wg.Done()
					if err := pyCmd(py, env, args("count", "n", strconv.Itoa(each))...).Run(); err != nil {
						mu.Lock()
						pyErr = err
						mu.Unlock()
					}
				}()
				go func() {
					defer wg.Done()
					for range each {
						for {
							var old *string
							n := 0
							if v, err := g.Get(ctx, "n"); err == nil {
								old, n = &v, atoi(v)
							} else if !errors.Is(err, host.ErrNoEntry) {
								t.Error(err)
								return
							}
							nv := strconv.Itoa(n + 1)
							ok, _, err := g.Swap(ctx, "n", old, &nv)
							if err != nil {
								t.Error(err)
								return
							}
							if ok {
								break
							}
						}
					}
				}()
			}
			wg.Wait()
			if pyErr != nil {
				t.Fatal(pyErr)
			}
			if v, _ := g.Get(ctx, "n"); v != strconv.Itoa(6*each) {
				t.Fatalf("counter = %s after 3 Go goroutines and 3 Python processes each added %d, want %d", v, each, 6*each)
			}

			// Leases: Python holds, Go waits; Go holds, Python is refused.
			hold := pyCmd(py, env, args("hold", "lease")...)
			stdin, _ := hold.StdinPipe()
			stdout, _ := hold.StdoutPipe()
			if err := hold.Start(); err != nil {
				t.Fatal(err)
			}
			if l, _ := bufio.NewReader(stdout).ReadString('\n'); strings.TrimSpace(l) != "held" {
				t.Fatalf("python's hold answered %q", l)
			}
			if _, err := g.Lock(ctx, "lease", 100*time.Millisecond); !errors.Is(err, host.ErrBusy) {
				t.Fatalf("Go's Lock on Python's lease = %v, want ErrBusy", err)
			}
			got := make(chan error, 1)
			go func() {
				u, err := g.Lock(ctx, "lease", 30*time.Second)
				if err == nil {
					defer u()
					if out := pyRun(t, py, env, args("lock", "lease")...); out != "false" {
						err = fmt.Errorf("python took the lease Go holds: %s", out)
					}
				}
				got <- err
			}()
			stdin.Close()
			io.Copy(io.Discard, stdout)
			hold.Wait()
			if err := <-got; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestPostgresSchemaAcrossLanguages: a database whose tables the Python
// store made is used by the Go store as it is, and the other way round.
func TestPostgresSchemaAcrossLanguages(t *testing.T) {
	py := python(t)
	srv, err := testserver.Postgres()
	srv = testserver.Require(t, srv, err)
	ctx := testserver.Context(t)
	keyText := host.GenerateKey()
	key, _ := host.ParseEncryptionKey(keyText)
	env := []string{host.EncryptionKeyEnv + "=" + keyText}
	admin, err := pgx.Connect(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	for i, first := range []string{"python", "go"} {
		db := fmt.Sprintf("schema_%d_%d", time.Now().UnixNano(), i)
		if _, err := admin.Exec(ctx, "CREATE DATABASE "+db); err != nil {
			t.Fatal(err)
		}
		url := strings.Replace(srv.URL, "/postgres?", "/"+db+"?", 1)
		g := sharedBackends[1].open(t, url, "t", key)
		if first == "python" {
			pyRun(t, py, env, "postgres", url, "t", "swap", "k", "null", `"from python"`)
			if v, err := g.Get(ctx, "k"); err != nil || v != "from python" {
				t.Fatalf("Go on Python's tables: %q, %v", v, err)
			}
		} else {
			if err := g.Set(ctx, "k", "from go"); err != nil {
				t.Fatal(err)
			}
			var read map[string]*string
			json.Unmarshal([]byte(pyRun(t, py, env, "postgres", url, "t", "get", "k")), &read)
			if read["k"] == nil || *read["k"] != "from go" {
				t.Fatalf("Python on Go's tables: %v", read["k"])
			}
		}
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		var versions []int
		rows, _ := c.Query(ctx, "SELECT version FROM deviceflow_schema ORDER BY version")
		for rows.Next() {
			var v int
			rows.Scan(&v)
			versions = append(versions, v)
		}
		c.Close(ctx)
		if len(versions) != 1 || versions[0] != pgstore.SchemaVersion {
			t.Errorf("%s made the tables first: schema versions %v, want [%d]", first, versions, pgstore.SchemaVersion)
		}
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// TestMain stops the servers the shared stores' tests started.
func TestMain(m *testing.M) {
	code := m.Run()
	testserver.StopAll()
	os.Exit(code)
}
