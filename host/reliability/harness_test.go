//go:build linux

package reliability_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/host"
	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

// clientID is the GitHub App (with expiring tokens) every test signs in to.
const clientID = "Iv1.reliability0001"

// refreshLead is how far in the future a re-armed token expires: inside the
// engine's five-minute refresh window, so that every run refreshes it.
const refreshLead = 2 * time.Minute

// holdLimit bounds how long a refresh is held back while the harness waits
// for every competitor to have read the expiring entry. The process that
// sent it gives up on the request after 30 s (the hosts' default request
// timeout) and a waiter on the lease after 60 s, so the hold must end well
// before either: a refresh the server answers after its client gave up
// spends the refresh token for nobody.
const holdLimit = 20 * time.Second

var (
	// root is the module's directory.
	root string
	// goCLI is the deviceflow command built for this run.
	goCLI string
	// procEnv is the environment of every command: the caller's, minus
	// DEVICEFLOW_* settings, with a home and caches of the run's own (shared
	// by all the tests, so the plugin is compiled once per language).
	procEnv []string
	// full is set by DEVICEFLOW_RELIABILITY_FULL=1: the long run.
	full bool
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	full = os.Getenv("DEVICEFLOW_RELIABILITY_FULL") == "1"
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		fmt.Fprintln(os.Stderr, "reliability: cannot find the module (go env GOMOD):", err)
		return 1
	}
	root = filepath.Dir(strings.TrimSpace(string(out)))
	tmp, err := os.MkdirTemp("", "deviceflow-reliability-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "reliability:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	goCLI = filepath.Join(tmp, "deviceflow")
	build := exec.Command("go", "build", "-o", goCLI, "./sdk/cmd/deviceflow")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "reliability: go build ./sdk/cmd/deviceflow: %v\n%s", err, out)
		return 1
	}
	home := filepath.Join(tmp, "home")
	for _, d := range []string{home, filepath.Join(home, ".cache"), filepath.Join(home, ".config")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			fmt.Fprintln(os.Stderr, "reliability:", err)
			return 1
		}
	}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "DEVICEFLOW_"), name == "HOME", strings.HasPrefix(name, "XDG_"):
			continue
		}
		procEnv = append(procEnv, kv)
	}
	procEnv = append(procEnv,
		"HOME="+home,
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"PYTHONDONTWRITEBYTECODE=1",
	)
	return m.Run()
}

// pythonCLI returns the Python interpreter that runs `python -m deviceflow`:
// DEVICEFLOW_RELIABILITY_PYTHON, or the venv make test-python creates. A
// missing venv fails the test in CI and skips the Python half elsewhere.
func pythonCLI(t *testing.T) (string, bool) {
	t.Helper()
	if p := os.Getenv("DEVICEFLOW_RELIABILITY_PYTHON"); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("DEVICEFLOW_RELIABILITY_PYTHON=%s: %v", p, err)
		}
		return p, true
	}
	p := filepath.Join(root, "sdk", "python", ".venv", "bin", "python")
	if _, err := os.Stat(p); err == nil {
		return p, true
	}
	const how = "create it with `make test-python` (or sdk/python/scripts/venv.sh), or set DEVICEFLOW_RELIABILITY_PYTHON to a python with the deviceflow package"
	if os.Getenv("CI") == "true" {
		t.Fatalf("no Python venv at %s: %s", p, how)
	}
	t.Logf("no Python venv at %s: the Python half is skipped (%s)", p, how)
	return "", false
}

// gate is the emulator behind a handler that sees every refresh-token
// request first: it counts them, may hold one back (policy) or drop it as
// if it had never reached the server, and reports when the emulator's
// answer has been sent in full (answered).
type gate struct {
	emu *deviceflowtest.Server
	srv *httptest.Server

	mu sync.Mutex
	// policy runs for each refresh request before the emulator sees it; it
	// may block, and false drops the request (the connection is closed and
	// the emulator never sees it).
	policy func() bool
	// answered runs once the emulator's answer to a refresh request has
	// been written and flushed to the client.
	answered func(at time.Time)
	counts   gateCounts
}

// gateCounts counts requests by what reached the emulator.
type gateCounts struct {
	// Refreshes are refresh-token requests the emulator answered, Dropped
	// those the policy dropped, DeviceCodes device-flow starts.
	Refreshes, Dropped, DeviceCodes int
}

// newGate starts an emulator with one GitHub App with expiring tokens, and
// codes approved on their first poll, behind a gate on 127.0.0.1.
func newGate(t *testing.T) *gate {
	t.Helper()
	emu, err := deviceflowtest.New(deviceflowtest.Config{
		Clients:       []deviceflowtest.Client{{ID: clientID, Type: deviceflowtest.GitHubApp, ExpiringTokens: true}},
		Interval:      20 * time.Millisecond,
		PollTolerance: 20 * time.Millisecond,
		AutoApprove:   1,
	})
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{emu: emu}
	g.srv = httptest.NewServer(g)
	t.Cleanup(g.srv.Close)
	return g
}

func (g *gate) URL() string { return g.srv.URL }

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch strings.TrimSuffix(r.URL.Path, "/") {
	case "/login/device/code":
		g.count(func(c *gateCounts) { c.DeviceCodes++ })
	case "/login/oauth/access_token":
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		r.Body = io.NopCloser(bytes.NewReader(body))
		if !isRefresh(r.Header.Get("Content-Type"), body) {
			break
		}
		g.mu.Lock()
		policy, answered := g.policy, g.answered
		g.mu.Unlock()
		if policy != nil && !policy() {
			g.count(func(c *gateCounts) { c.Dropped++ })
			panic(http.ErrAbortHandler) // the client is gone: close without an answer
		}
		g.count(func(c *gateCounts) { c.Refreshes++ })
		g.emu.ServeHTTP(w, r)
		if f, ok := w.(http.Flusher); ok {
			f.Flush() // the emulator set Content-Length: the client has it all now
		}
		if answered != nil {
			answered(time.Now())
		}
		return
	}
	g.emu.ServeHTTP(w, r)
}

// isRefresh says whether a token-endpoint body is a refresh-token grant.
func isRefresh(ctype string, body []byte) bool {
	mt, _, _ := mime.ParseMediaType(ctype)
	if strings.Contains(mt, "json") {
		var m map[string]any
		return json.Unmarshal(body, &m) == nil && m["grant_type"] == "refresh_token"
	}
	v, err := url.ParseQuery(string(body))
	return err == nil && v.Get("grant_type") == "refresh_token"
}

func (g *gate) count(f func(*gateCounts)) {
	g.mu.Lock()
	f(&g.counts)
	g.mu.Unlock()
}

// Counts returns the counters so far.
func (g *gate) Counts() gateCounts {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.counts
}

// set installs a policy and an answered hook (nil for none) for the next
// refresh requests.
func (g *gate) set(policy func() bool, answered func(time.Time)) {
	g.mu.Lock()
	g.policy, g.answered = policy, answered
	g.mu.Unlock()
}

// auth is the stored authentication object, the fields the harness needs.
type auth struct {
	Token        string `json:"token"`
	RefreshToken string `json:"refreshToken"`
	ExpiresAt    string `json:"expiresAt"`
}

// signIn runs a whole device flow in process (the emulator approves the
// code at once) and leaves the pair in store; it returns the cache key.
func signIn(t *testing.T, g *gate, store host.Store) string {
	t.Helper()
	h, err := host.New(host.Options{BaseURL: g.URL(), Store: store})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var a auth
	in := map[string]any{"clientId": clientID, "clientType": "github-app", "baseUrl": g.URL(), "refresh": true}
	if err := h.CallJSON(ctx, "authenticate", in, &a); err != nil {
		t.Fatalf("signing in through the emulator: %v", err)
	}
	if a.Token == "" || a.RefreshToken == "" {
		t.Fatalf("signing in gave no expiring pair: %+v", a)
	}
	return cacheKey(t, store, a.Token)
}

// cacheKey finds the key under which store holds the token.
func cacheKey(t *testing.T, store host.Store, token string) string {
	t.Helper()
	type keyer interface {
		Keys(context.Context) ([]string, error)
	}
	if ms, ok := store.(*host.MemoryStore); ok {
		for k, v := range ms.Snapshot() {
			if strings.Contains(v, token) {
				return k
			}
		}
	} else if ks, ok := store.(keyer); ok {
		keys, err := ks.Keys(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if v, err := store.Get(context.Background(), k); err == nil && strings.Contains(v, token) {
				return k
			}
		}
	}
	t.Fatalf("the store does not hold the token it was given")
	return ""
}

// stored reads the pair under key.
func stored(t *testing.T, store host.Store, key string) (auth, string) {
	t.Helper()
	v, err := store.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("reading the stored sign-in: %v", err)
	}
	var a auth
	if err := json.Unmarshal([]byte(v), &a); err != nil {
		t.Fatalf("the stored sign-in is not an authentication object: %v", err)
	}
	return a, v
}

// rearm makes the stored token expire within the refresh window again,
// keeping its pair: the next run must refresh it. It rewrites the expiry
// the engine reads: expiresAt, and the local stamp beside it.
func rearm(t *testing.T, store host.Store, key string) {
	t.Helper()
	_, old := stored(t, store, key)
	var m map[string]any
	if err := json.Unmarshal([]byte(old), &m); err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(refreshLead)
	m["expiresAt"] = exp.UTC().Format("2006-01-02T15:04:05.000Z")
	// The engine decides on the local stamps it keeps beside the server's
	// expiresAt (Unix ms by the host's clock) when there are any.
	local, _ := m["local"].(map[string]any)
	if local == nil {
		local = map[string]any{}
	}
	local["expiresAt"] = exp.UnixMilli()
	m["local"] = local
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	nv := string(b)
	ok, _, err := host.SwapperFor(store).Swap(context.Background(), key, &old, &nv)
	if err != nil || !ok {
		t.Fatalf("re-arming the stored token: swapped %v, %v", ok, err)
	}
}

// entryName is the v2 file layout's name of key's entry: the first 32 hex
// digits of its SHA-256.
func entryName(key string) string {
	s := sha256.Sum256([]byte(key))
	return hex.EncodeToString(s[:])[:32]
}

// cli is a command that reads the token: the Go command or the Python one.
type cli struct {
	lang string // "go" or "python"
	bin  string // the deviceflow binary, or the python interpreter
}

// proc is one run of `token`.
type proc struct {
	lang           string
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	start, end     time.Time
	err            error
	done           chan struct{}
}

// startToken starts `token` on the store at dir.
func startToken(t *testing.T, c cli, g *gate, dir string) *proc {
	t.Helper()
	args := []string{"token", "--client-id", clientID, "--client-type", "github-app",
		"--base-url", g.URL(), "--store", "file", "--store-path", dir}
	var cmd *exec.Cmd
	if c.lang == "python" {
		cmd = exec.Command(c.bin, append([]string{"-m", "deviceflow"}, args...)...)
	} else {
		cmd = exec.Command(c.bin, args...)
	}
	cmd.Env = procEnv
	p := &proc{lang: c.lang, cmd: cmd, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &p.stdout, &p.stderr
	p.start = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s token: %v", c.lang, err)
	}
	go func() {
		p.err = cmd.Wait()
		p.end = time.Now()
		close(p.done)
	}()
	return p
}

// wait waits for the process to end.
func (p *proc) wait() { <-p.done }

// kill sends SIGKILL and waits for the process to end; it reports whether
// the signal reached a running process.
func (p *proc) kill() bool {
	select {
	case <-p.done:
		return false
	default:
	}
	err := p.cmd.Process.Signal(syscall.SIGKILL)
	p.wait()
	var ee *exec.ExitError
	return err == nil && errors.As(p.err, &ee) && !ee.Exited()
}

// token is what the process printed, when it ended well.
func (p *proc) token() (string, bool) {
	tok := strings.TrimSpace(p.stdout.String())
	return tok, p.err == nil && tok != "" && !strings.ContainsAny(tok, " \n")
}

func (p *proc) String() string {
	return fmt.Sprintf("%s token: %v after %v; stderr: %q", p.lang, p.err, p.end.Sub(p.start).Round(time.Millisecond), strings.TrimSpace(p.stderr.String()))
}

// clis returns the commands a test runs: the Go one, and the Python one
// when there is a venv.
func clis(t *testing.T) []cli {
	out := []cli{{lang: "go", bin: goCLI}}
	if py, ok := pythonCLI(t); ok {
		out = append(out, cli{lang: "python", bin: py})
	}
	return out
}

// runToken runs `token` to its end.
func runToken(t *testing.T, c cli, g *gate, dir string) *proc {
	t.Helper()
	p := startToken(t, c, g, dir)
	p.wait()
	return p
}

// durations summarises a list of durations: median and maximum.
func durations(ds []time.Duration) string {
	if len(ds) == 0 {
		return "-"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return fmt.Sprintf("median %v, max %v", s[len(s)/2].Round(100*time.Microsecond), s[len(s)-1].Round(100*time.Microsecond))
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
