package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

// The Go command and the Python one (python -m deviceflow, sdk/python) are
// one command in two languages: the same flags with the same meaning, the
// same store names, the same exit codes, the same --json output. This test
// runs both, step by step, with the same arguments against one emulator
// that approves every code at its first poll, each with a store of its own,
// and compares their exit codes, their JSON (tokens and times masked, store
// directories named $STORE) and, where a step says so, the first or last
// line of their messages.

// parityStep is one run of both commands. $STORE in an argument is the
// command's own store directory.
type parityStep struct {
	args []string
	code int
	// line compares a line of stderr: "first" or "last"; "" compares none
	// (argparse and Go's flag package word their complaints differently,
	// and login's box is drawn differently).
	line string
	// stdout compares stdout as text (masked), for token and status.
	stdout bool
}

// parityScenario is a sequence of steps sharing the stores; every step
// gets flags first (the account), then its own arguments, which win.
type parityScenario struct {
	name  string
	flags []string
	env   map[string]string
	steps []parityStep
}

func TestParityWithPython(t *testing.T) {
	t.Parallel()
	python := venvPython(t)

	emu := deviceflowtest.NewServer(deviceflowtest.Config{
		Interval: 50 * time.Millisecond, AutoApprove: 1,
		AllowUnknownClients: true,
		Clients:             []deviceflowtest.Client{{ID: "Iv1.parity", Type: deviceflowtest.GitHubApp, ExpiringTokens: true}},
		AccessTokenLifetime: 8 * time.Hour,
	})
	t.Cleanup(func() { emu.Close() })
	generic := deviceflowtest.NewServer(deviceflowtest.Config{
		Profile: deviceflowtest.ProfileGeneric, Interval: 50 * time.Millisecond, AutoApprove: 1,
		Clients: []deviceflowtest.Client{{ID: "parity-generic", Secret: "parity-generic-secret"}},
	})
	t.Cleanup(func() { generic.Close() })
	account := []string{"--base-url", emu.URL(), "--client-id", "Ov23liParity", "--store", "file", "--store-path", "$STORE/tokens.json"}

	scenarios := []parityScenario{{
		name:  "oauth-app",
		flags: append(account, "--scopes", "repo,read:org"),
		steps: []parityStep{
			{args: []string{"token", "--json"}, code: 1},
			{args: []string{"token"}, code: 1, line: "first"},
			{args: []string{"status", "--json"}, code: 1},
			{args: []string{"status"}, code: 1, line: "first"},
			{args: []string{"logout", "--json"}, code: 0},
			{args: []string{"logout"}, code: 0, line: "first"},
			{args: []string{"login", "--no-browser", "--json"}, code: 0},
			{args: []string{"login", "--no-browser"}, code: 0, line: "last"},
			{args: []string{"login", "--force", "--no-qr", "--no-browser", "--json"}, code: 0},
			{args: []string{"token", "--json"}, code: 0},
			{args: []string{"token"}, code: 0, stdout: true},
			{args: []string{"status", "--json"}, code: 0},
			{args: []string{"status"}, code: 0, stdout: true},
			{args: []string{"logout", "--json"}, code: 0},
			{args: []string{"logout", "--json"}, code: 0},
			{args: []string{"token", "--login", "--json"}, code: 0},
			{args: []string{"token", "--login"}, code: 0, stdout: true},
			{args: []string{"logout"}, code: 0, line: "first"},
			{args: []string{"token", "--login"}, code: 0, stdout: true},
		},
	}, {
		name:  "github-app with expiring tokens",
		flags: append(account, "--client-id", "Iv1.parity", "--client-type", "github-app"),
		steps: []parityStep{
			{args: []string{"login", "--no-browser", "--json"}, code: 0},
			{args: []string{"token", "--json"}, code: 0},
			{args: []string{"status", "--json"}, code: 0},
			{args: []string{"status"}, code: 0, stdout: true},
			{args: []string{"logout", "--json"}, code: 0},
		},
	}, {
		name:  "generic server from its issuer",
		flags: []string{"--issuer", generic.IssuerURL(), "--client-id", "parity-generic", "--scopes", "openid profile", "--store", "file", "--store-path", "$STORE/tokens.json"},
		env:   map[string]string{"DEVICEFLOW_CLIENT_SECRET": "parity-generic-secret"},
		steps: []parityStep{
			{args: []string{"token", "--json"}, code: 1},
			{args: []string{"token"}, code: 1, line: "first"},
			{args: []string{"login", "--no-browser", "--json"}, code: 0},
			{args: []string{"token", "--json"}, code: 0},
			{args: []string{"token"}, code: 0, stdout: true},
			{args: []string{"status", "--json"}, code: 0},
			{args: []string{"status"}, code: 0, stdout: true},
			{args: []string{"logout", "--json"}, code: 0},
			{args: []string{"token", "--login"}, code: 0, stdout: true},
			{args: []string{"token", "--issuer", "http://idp.example.com/realms/r"}, code: 2, line: "first"},
			{args: []string{"token", "--client-type", "github-app"}, code: 2, line: "first"},
		},
	}, {
		name:  "store names",
		flags: account,
		env:   map[string]string{"DEVICEFLOW_ENCRYPTION_KEY": "passphrase:parity test passphrase"},
		steps: []parityStep{
			{args: []string{"status", "--json", "--store", "encrypted-file", "--store-path", "$STORE/enc"}, code: 1},
			{args: []string{"status", "--json", "--store", "encrypted", "--store-path", "$STORE/enc"}, code: 1},
			{args: []string{"status", "--json", "--store", "memory"}, code: 1},
			{args: []string{"token", "--store", "s3"}, code: 2, line: "first"},
		},
	}, {
		name: "usage",
		env:  map[string]string{"DEVICEFLOW_STORE": "memory"},
		steps: []parityStep{
			{args: []string{"token"}, code: 2, line: "first"},
			{args: []string{"token", "--client-id", "x", "--client-type", "app"}, code: 2, line: "first"},
			{args: []string{"token", "--client-id", "x", "--base-url", "http://example.com"}, code: 2, line: "first"},
			{args: []string{"token", "--client-id", "x", "--base-url", "https://github.com:70000"}, code: 2, line: "first"},
			{args: []string{"token", "--client-id", "x", "--hostname", "http://ghe.example.com"}, code: 2, line: "first"},
			{args: []string{"token", "--client-id", "Ov23\x1bli"}, code: 2, line: "first"},
			{args: []string{"login", "--client-id", "x", "--open", "--no-browser"}, code: 2},
			{args: []string{"login", "--client-id", "x", "--bogus"}, code: 2},
			{args: []string{"status", "--client-id", "x", "extra"}, code: 2},
			{args: []string{"frobnicate"}, code: 2},
			{args: []string{"status", "--client-id", "x", "--hostname", "ghe.example.com", "--json"}, code: 1},
			{args: []string{"token", "--client-id", "x", "--hostname", "ghe.example.com"}, code: 1, line: "first"},
		},
	}}

	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			parityScenarioRun(t, sc, python)
		})
	}
}

// parityScenarioRun runs a scenario's steps with both commands in turn.
func parityScenarioRun(t *testing.T, sc parityScenario, python string) {
	goDir, pyDir := t.TempDir(), t.TempDir()
	for i, step := range sc.steps {
		// The subcommand first, then the account, then the step's flags.
		args := append(append([]string{step.args[0]}, sc.flags...), step.args[1:]...)
		g := runParity(t, goDir, sc.env, []string{binary}, slices.Clone(args))
		if g.code != step.code {
			t.Errorf("%s, step %d: deviceflow %q: exit %d, want %d\n%s", sc.name, i, step.args, g.code, step.code, g.output())
		}
		if python == "" {
			continue
		}
		p := runParity(t, pyDir, sc.env, []string{python, "-m", "deviceflow"}, slices.Clone(args))
		compareParity(t, sc.name, i, step, g, p)
	}
}

// TestParityOneStore: a sign-in made by one command is the other's, on
// the same file or encrypted store with the same flags.
func TestParityOneStore(t *testing.T) {
	t.Parallel()
	python := venvPython(t)
	if python == "" {
		return
	}
	emu := deviceflowtest.NewServer(deviceflowtest.Config{Interval: 50 * time.Millisecond, AutoApprove: 1})
	t.Cleanup(func() { emu.Close() })
	py := []string{python, "-m", "deviceflow"}
	for _, store := range []string{"file", "encrypted"} {
		dir := t.TempDir()
		extra := map[string]string{"DEVICEFLOW_ENCRYPTION_KEY": "passphrase:parity test passphrase"}
		flags := func(cmd string, more ...string) []string {
			return append([]string{cmd, "--base-url", emu.URL(), "--client-id", "Ov23liShared", "--store", store, "--store-path", "$STORE/s", "--scopes", "repo"}, more...)
		}
		if r := runParity(t, dir, extra, []string{binary}, flags("login", "--no-browser")); r.code != 0 {
			t.Fatalf("%s: Go login: %d\n%s", store, r.code, r.output())
		}
		issued, _ := emu.LastToken()
		r := runParity(t, dir, extra, py, flags("token", "--json"))
		var tok struct{ Token string }
		if r.code != 0 || json.Unmarshal([]byte(r.raw), &tok) != nil || tok.Token != issued.AccessToken {
			t.Errorf("%s: Python did not read the Go command's token: %d\n%s", store, r.code, r.output())
		}
		if r := runParity(t, dir, extra, py, flags("token")); r.code != 0 || r.raw != issued.AccessToken+"\n" {
			t.Errorf("%s: Python token: %d\n%s", store, r.code, r.output())
		}
		if r := runParity(t, dir, extra, py, flags("logout")); r.code != 0 || !strings.Contains(r.stderr, "Logged out") {
			t.Errorf("%s: Python logout: %d\n%s", store, r.code, r.output())
		}
		if r := runParity(t, dir, extra, []string{binary}, flags("status")); r.code != 1 {
			t.Errorf("%s: Go status after the Python logout: %d\n%s", store, r.code, r.output())
		}
		if r := runParity(t, dir, extra, py, flags("token", "--login")); r.code != 0 {
			t.Fatalf("%s: Python token --login: %d\n%s", store, r.code, r.output())
		}
		issued, _ = emu.LastToken()
		if r := runParity(t, dir, extra, []string{binary}, flags("token")); r.code != 0 || r.raw != issued.AccessToken+"\n" {
			t.Errorf("%s: Go did not read the Python command's token: %d\n%s", store, r.code, r.output())
		}
	}
}

// parityRun is a finished run, its output normalised.
type parityRun struct {
	stdout, stderr string
	code           int
	// raw is stdout as printed, tokens and all.
	raw string
}

func (r parityRun) output() string { return r.stdout + r.stderr }

var (
	parityToken = regexp.MustCompile(`\b(gh[oupsr]_|at\.)[A-Za-z0-9_]{8,}`)
	parityTime  = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`)
)

func runParity(t *testing.T, dir string, extra map[string]string, command, args []string) parityRun {
	t.Helper()
	for i, a := range args {
		args[i] = strings.ReplaceAll(a, "$STORE", dir)
	}
	environment := map[string]string{"DEVICEFLOW_CONFIG_DIR": filepath.Join(dir, "config")}
	for k, v := range extra {
		environment[k] = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, command[0], append(command[1:], args...)...)
	c.Env = env(environment)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	err := c.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	norm := func(s string) string {
		s = strings.ReplaceAll(s, dir, "$STORE")
		s = strings.ReplaceAll(s, "python -m deviceflow", "deviceflow")
		s = parityToken.ReplaceAllString(s, "${1}<token>")
		return parityTime.ReplaceAllString(s, "<time>")
	}
	return parityRun{norm(stdout.String()), norm(stderr.String()), code, stdout.String()}
}

// compareParity fails the test where the Python run differs from the Go one.
func compareParity(t *testing.T, name string, i int, step parityStep, g, p parityRun) {
	t.Helper()
	where := fmt.Sprintf("%s, step %d (%s)", name, i, strings.Join(step.args, " "))
	if g.code != p.code {
		t.Errorf("%s: exit %d in Go, %d in Python\nGo:\n%s\nPython:\n%s", where, g.code, p.code, g.output(), p.output())
		return
	}
	if slices.Contains(step.args, "--json") {
		var gj, pj any
		gerr, perr := json.Unmarshal([]byte(g.stdout), &gj), json.Unmarshal([]byte(p.stdout), &pj)
		if gerr != nil || perr != nil {
			t.Errorf("%s: stdout is not JSON (Go: %v, Python: %v)\nGo: %q\nPython: %q", where, gerr, perr, g.stdout, p.stdout)
		} else if !reflect.DeepEqual(gj, pj) {
			t.Errorf("%s: JSON differs\nGo:     %s\nPython: %s", where, g.stdout, p.stdout)
		}
	} else if step.stdout && g.stdout != p.stdout {
		t.Errorf("%s: stdout differs\nGo:\n%s\nPython:\n%s", where, g.stdout, p.stdout)
	}
	if step.line != "" {
		gl, pl := pickLine(g.stderr, step.line), pickLine(p.stderr, step.line)
		if gl != pl || gl == "" {
			t.Errorf("%s: the %s line of stderr differs\nGo:     %q\nPython: %q", where, step.line, gl, pl)
		}
	}
}

func pickLine(s, which string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if which == "last" {
		return lines[len(lines)-1]
	}
	return lines[0]
}

// venvPython is the Python of sdk/python/.venv, "" when there is none and
// the test is not running in CI (the Python half is then skipped, said in
// the log). In CI a missing venv fails the test.
func venvPython(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	py := filepath.Join(root, "sdk", "python", ".venv", "bin", "python")
	if _, err := os.Stat(py); err == nil {
		return py
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("no Python virtual environment at %s: the parity test runs the Python command from it. Create it with sdk/python/scripts/venv.sh (make test does)", py)
	}
	t.Logf("no Python virtual environment at %s: the Python half of the parity test is skipped (create it with sdk/python/scripts/venv.sh)", py)
	return ""
}

// TestParityInterrupt: Ctrl-C (SIGINT) and SIGTERM while login waits end
// both commands with 130 and the line "deviceflow: cancelled", with
// nothing stored.
func TestParityInterrupt(t *testing.T) {
	t.Parallel()
	python := venvPython(t)
	// A long interval: the commands are waiting for the first poll.
	emu := deviceflowtest.NewServer(deviceflowtest.Config{Interval: 5 * time.Minute})
	t.Cleanup(func() { emu.Close() })
	commands := map[string][]string{"Go": {binary}}
	if python != "" {
		commands["Python"] = []string{python, "-m", "deviceflow"}
	}
	for lang, command := range commands {
		for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
			dir := t.TempDir()
			args := append(slices.Clone(command[1:]), "login", "--no-browser", "--base-url", emu.URL(), "--client-id", "Ov23liStop", "--store", "file", "--store-path", filepath.Join(dir, "s"))
			c := exec.Command(command[0], args...)
			c.Env = env(map[string]string{"DEVICEFLOW_CONFIG_DIR": filepath.Join(dir, "config")})
			var stderr lockedBuffer
			c.Stderr = &stderr
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Process.Kill() })
			// The code is shown; then the command waits for its first poll.
			waitFor(t, lang+" showing the code", func() bool { return strings.Contains(stderr.String(), "expires in") })
			if err := c.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			err := c.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 130 {
				t.Errorf("%s after %v: %v, want exit 130\n%s", lang, sig, err, stderr.String())
			}
			if !slices.Contains(strings.Split(stderr.String(), "\n"), "deviceflow: cancelled") {
				t.Errorf("%s after %v: no line %q:\n%s", lang, sig, "deviceflow: cancelled", stderr.String())
			}
			if entries, _ := filepath.Glob(filepath.Join(dir, "s", "*.json")); len(entries) != 0 {
				t.Errorf("%s after %v stored %v", lang, sig, entries)
			}
		}
	}
}

// lockedBuffer is a buffer a process writes while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// goOnlyCommands are the Go command's servers: the emulator (a test double
// from sdk/deviceflow/deviceflowtest) and the CORS relay (host/relay). The
// Python command is a client and has neither; everything else is one
// command in two languages.
var goOnlyCommands = []string{"emulator", "relay"}

// TestParityCommands: the Go command's list of commands is the Python
// command's plus goOnlyCommands. The Python command takes every other
// command (-h exits 0) and refuses the Go-only ones as unknown (exit 2,
// as the Go command refuses a command it does not know).
func TestParityCommands(t *testing.T) {
	t.Parallel()
	python := venvPython(t)
	dir := t.TempDir()
	help := runParity(t, dir, nil, []string{binary}, []string{"help"})
	var commands []string
	inList := false
	for _, line := range strings.Split(help.stdout, "\n") {
		switch {
		case line == "Commands:":
			inList = true
		case inList && strings.HasPrefix(line, "  "):
			commands = append(commands, strings.Fields(line)[0])
		case inList:
			inList = false
		}
	}
	for _, c := range goOnlyCommands {
		if !slices.Contains(commands, c) {
			t.Errorf("Go-only command %q is not in deviceflow help:\n%s", c, help.stdout)
		}
	}
	if len(commands) <= len(goOnlyCommands) {
		t.Fatalf("commands %q from deviceflow help:\n%s", commands, help.stdout)
	}
	if python == "" {
		return
	}
	for _, c := range commands {
		want := 0
		if slices.Contains(goOnlyCommands, c) {
			want = 2
		}
		if p := runParity(t, dir, nil, []string{python, "-m", "deviceflow"}, []string{c, "-h"}); p.code != want {
			t.Errorf("python -m deviceflow %s -h: exit %d, want %d\n%s", c, p.code, want, p.output())
		}
	}
}
