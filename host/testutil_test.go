package host

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/host/internal/storetest"
	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

// github is an emulator on loopback, optionally behind a middleware that
// injects faults, with a fake clock that the test host's sleeps advance.
type github struct {
	URL   string
	Emu   *deviceflowtest.Server
	Clock *deviceflowtest.FakeClock
}

// startGitHub serves an emulator (config cfg, with the fake clock) through
// wrap, which may be nil.
func startGitHub(t *testing.T, cfg deviceflowtest.Config, wrap func(http.Handler) http.Handler) *github {
	t.Helper()
	clock := deviceflowtest.NewFakeClock(time.Time{})
	cfg.Now = clock.Now
	emu, err := deviceflowtest.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = emu
	if wrap != nil {
		h = wrap(emu)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &github{URL: srv.URL, Emu: emu, Clock: clock}
}

// testHost returns a Host for g: the plugin sees g's fake clock, and its
// sleeps advance it at once. edit adjusts the options.
func testHost(t *testing.T, g *github, edit func(*Options)) *Host {
	t.Helper()
	opts := Options{
		BaseURL: g.URL,
		Clock:   g.Clock.Now,
		Sleep: func(ctx context.Context, d time.Duration) bool {
			if ctx.Err() != nil {
				return true
			}
			g.Clock.Advance(d)
			return false
		},
	}
	if edit != nil {
		edit(&opts)
	}
	h, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	return h
}

// input is an export's input for baseURL.
func input(baseURL string, extra ...string) []byte {
	m := map[string]any{"clientId": "Iv1.sandbox", "scopes": []string{"repo"}, "baseUrl": baseURL}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	b, _ := json.Marshal(m)
	return b
}

// recorder collects a host's events.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) on(_ context.Context, e Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return nil
}

func (r *recorder) types() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.events))
	for i, e := range r.events {
		out[i] = e.Type
	}
	return out
}

func (r *recorder) find(typ string) (map[string]any, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e.Type == typ {
			var m map[string]any
			json.Unmarshal(e.JSON, &m)
			return m, true
		}
	}
	return nil, false
}

// wantCode fails the test unless err is an *Error with code c.
func wantCode(t *testing.T, err error, c Code) *Error {
	t.Helper()
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("got %v (%T), want a deviceflow error %s", err, err, c)
	}
	if e.Code != c {
		t.Fatalf("got code %s (%s), want %s", e.Code, e.Message, c)
	}
	return e
}

// helperEnv marks a run of the test binary as a helper process for the
// test named in it.
const helperEnv = "DEVICEFLOW_HOST_TEST_HELPER"

// runHelper runs this test binary's TestHelperProcess as another process,
// with the helper's name and arguments and extra environment, and returns
// its combined output.
func runHelper(t *testing.T, env []string, name string, args ...string) (string, error) {
	t.Helper()
	cmd := helperCommand(t, name, args...)
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// helperCommand is the command that runs a helper in another process.
func helperCommand(t *testing.T, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+name+"\x1f"+strings.Join(args, "\x1f"))
	return cmd
}

// helpers are what TestHelperProcess can do in another process; each gets
// its arguments and returns an error to report.
var helpers = map[string]func(args []string) error{}

// TestHelperProcess is not a test: it runs a helper when another test
// starts this binary as a separate process (runHelper).
func TestHelperProcess(t *testing.T) {
	spec, ok := os.LookupEnv(helperEnv)
	if !ok {
		t.Skip("runs only as a helper process")
	}
	parts := strings.Split(spec, "\x1f")
	fn := helpers[parts[0]]
	if fn == nil {
		t.Fatalf("no helper %q", parts[0])
	}
	if err := fn(parts[1:]); err != nil {
		t.Fatal(err)
	}
}

// rawJSON passes JSON bytes through CallJSON as they are.
func rawJSON(b []byte) json.RawMessage { return b }

// suite is the behaviour every store shares (host/internal/storetest).
var suite = storetest.Suite{NoEntry: ErrNoEntry, Busy: ErrBusy}

func sp(s string) *string { return &s }

func itoa(n int) string { return strconv.Itoa(n) }

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// deref shows an optional value in a message.
func deref(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// openStore opens a file or encrypted store the way a helper process is
// told to ("file" or "encrypted", the key in $DEVICEFLOW_ENCRYPTION_KEY).
func openStore(kind, path string) (Store, error) {
	if kind == StoreFile {
		return NewFileStore(path)
	}
	key, _, err := KeyFromEnv()
	if err != nil {
		return nil, err
	}
	return NewEncryptedFileStore(path, key)
}
