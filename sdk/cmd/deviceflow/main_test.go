package main_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

// These tests build the deviceflow command once and run it as a person
// would, against an emulator, approving codes through the emulator's web
// page with real HTTP requests.

// binary is the built command.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "deviceflow-cli-test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "deviceflow")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building deviceflow:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	// Compile the plugin once, so parallel tests find a warm cache.
	warm := exec.Command(binary, "token", "--client-id", "warm-up", "--store", "memory")
	warm.Env = env(nil)
	_ = warm.Run()
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// env is a clean environment for the command: no DEVICEFLOW_* settings from
// the machine running the tests except the compilation cache (the user's,
// by default: wazero names entries by content, so sharing it is safe and
// spares each test run a compilation), and extra.
func env(extra map[string]string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DEVICEFLOW_") || strings.HasPrefix(kv, "DEVICEFLOW_CACHE_DIR=") {
			out = append(out, kv)
		}
	}
	for k, v := range extra {
		out = append(out, k+"="+v)
	}
	return out
}

// result is a finished run of the command.
type result struct {
	stdout, stderr string
	code           int
}

// output is everything the command printed.
func (r result) output() string { return r.stdout + r.stderr }

// account is one emulator, client and store: the flags every command
// takes, so runs share a sign-in.
type account struct {
	emu   *deviceflowtest.Server
	flags []string
	store string // the store file, for the file store
	// env is added to the command's environment.
	env map[string]string
}

func newAccount(t *testing.T, cfg deviceflowtest.Config, extra ...string) *account {
	t.Helper()
	if cfg.Interval == 0 {
		cfg.Interval = 100 * time.Millisecond
	}
	emu := deviceflowtest.NewServer(cfg)
	t.Cleanup(func() { emu.Close() })
	a := &account{emu: emu, store: filepath.Join(t.TempDir(), "tokens.json")}
	a.flags = append([]string{"--base-url", emu.URL(), "--client-id", "Ov23liCLITest", "--store", "file", "--store-path", a.store}, extra...)
	return a
}

// run runs a subcommand to the end.
func (a *account) run(t *testing.T, cmd string, args ...string) result {
	t.Helper()
	return runEnv(t, a.env, append(append([]string{cmd}, a.flags...), args...)...)
}

func runBinary(t *testing.T, args ...string) result {
	t.Helper()
	return runEnv(t, nil, args...)
}

func runEnv(t *testing.T, extra map[string]string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, binary, args...)
	c.Env = env(extra)
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
	r := result{stdout.String(), stderr.String(), code}
	r.check(t, args)
	return r
}

// check holds for every run: nothing a terminal could act on (the command
// prints no escape sequence when its output is not a terminal, and strips
// every control character a server sends), and never the command's name
// twice ("deviceflow: deviceflow: ...").
func (r result) check(t *testing.T, args []string) {
	t.Helper()
	out := r.output()
	if i := strings.IndexFunc(out, func(c rune) bool {
		return (c < 0x20 && c != '\n' && c != '\t') || (c >= 0x7f && c <= 0x9f) || c == utf8.RuneError
	}); i >= 0 {
		t.Errorf("deviceflow %q printed a control character at byte %d: %q", args, i, out)
	}
	for _, twice := range []string{"deviceflow: deviceflow", ": deviceflow: "} {
		if strings.Contains(out, twice) {
			t.Errorf("deviceflow %q printed %q:\n%s", args, twice, out)
		}
	}
}

// session is a running command whose stderr is read line by line.
type session struct {
	cmd    *exec.Cmd
	stdout bytes.Buffer
	mu     sync.Mutex
	stderr strings.Builder
	lines  chan string
}

func (a *account) start(t *testing.T, cmd string, args ...string) *session {
	t.Helper()
	s := &session{lines: make(chan string, 100)}
	s.cmd = exec.Command(binary, append(append([]string{cmd}, a.flags...), args...)...)
	s.cmd.Env = env(a.env)
	s.cmd.Stdout = &s.stdout
	pipe, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.cmd.Process.Kill() })
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			s.mu.Lock()
			s.stderr.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
			s.lines <- sc.Text()
		}
		close(s.lines)
	}()
	return s
}

var codePattern = regexp.MustCompile(`one-time code:\s+([A-Z0-9]{4}-[A-Z0-9]{4})`)
var pagePattern = regexp.MustCompile(`Then open:\s+(\S+)`)

// code waits for the box with the code and the page's URL.
func (s *session) code(t *testing.T) (code, page string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for code == "" || page == "" {
		select {
		case line, ok := <-s.lines:
			if !ok {
				t.Fatalf("the command ended without showing a code:\n%s", s.errText())
			}
			if m := codePattern.FindStringSubmatch(line); m != nil {
				code = m[1]
			}
			if m := pagePattern.FindStringSubmatch(line); m != nil {
				page = m[1]
			}
		case <-timeout:
			t.Fatalf("no code shown:\n%s", s.errText())
		}
	}
	return code, page
}

// wait waits for the command to end and returns its result.
func (s *session) wait(t *testing.T) result {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		for range s.lines {
		}
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		r := result{s.stdout.String(), s.errText(), code}
		r.check(t, s.cmd.Args[1:])
		return r
	case <-time.After(15 * time.Second):
		t.Fatalf("the command did not end:\n%s", s.errText())
	}
	return result{}
}

func (s *session) errText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

// press does what the person does: open the page, type the code, press the
// button (authorize or cancel).
func press(t *testing.T, page, code, action string) {
	t.Helper()
	res, err := http.Get(page)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), `id="device-form"`) {
		t.Fatalf("the page has no form")
	}
	res, err = http.PostForm(page, url.Values{deviceflowtest.FieldUserCode: {strings.ToLower(code)}, deviceflowtest.FieldAction: {action}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	want := map[string]string{deviceflowtest.ActionAuthorize: deviceflowtest.ResultAuthorized, deviceflowtest.ActionCancel: deviceflowtest.ResultCancelled}[action]
	if !strings.Contains(string(body), `data-result="`+want+`"`) {
		t.Fatalf("pressing %s: the page did not answer %s", action, want)
	}
}

// login signs in through the page and returns the session's result.
func (a *account) login(t *testing.T, args ...string) result {
	t.Helper()
	s := a.start(t, "login", append([]string{"--no-browser"}, args...)...)
	code, page := s.code(t)
	press(t, page, code, deviceflowtest.ActionAuthorize)
	r := s.wait(t)
	if r.code != 0 {
		t.Fatalf("login exited %d:\n%s", r.code, r.output())
	}
	return r
}

// noToken fails the test when any output holds a token the emulator issued.
func (a *account) noToken(t *testing.T, what string, r result) {
	t.Helper()
	for _, tok := range a.emu.Tokens() {
		for _, secret := range []string{tok.AccessToken, tok.RefreshToken} {
			if secret != "" && strings.Contains(r.output(), secret) {
				t.Errorf("%s printed a token", what)
			}
		}
	}
}
