package main_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/host"
	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

// These tests hold the command to issue 11 §5: it trusts nothing it is
// sent. The server is the emulator, with what it answers changed on the way
// by a hostile proxy where the emulator cannot be asked for it.

// waitFor polls cond until it holds, failing the test after a generous
// deadline: no fixed sleep that a loaded machine could outrun.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 15s for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// hostile serves the emulator through rewrite, which may change any
// answer: it gets the request and the emulator's answer (status, JSON body)
// and returns the status and body to send instead.
func hostile(t *testing.T, cfg deviceflowtest.Config, rewrite func(r *http.Request, status int, body map[string]any) (int, map[string]any)) (*deviceflowtest.Server, string) {
	t.Helper()
	if cfg.Interval == 0 {
		cfg.Interval = 100 * time.Millisecond
	}
	emu, err := deviceflowtest.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		emu.ServeHTTP(rec, r)
		var body map[string]any
		if json.Unmarshal(rec.Body.Bytes(), &body) != nil {
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
			return
		}
		status, body := rewrite(r, rec.Code, body)
		b, _ := json.Marshal(body)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(status)
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return emu, srv.URL
}

// fakeBrowser puts an xdg-open first on PATH that records the URL it is
// asked to open in the returned file.
func fakeBrowser(t *testing.T) (env map[string]string, opened string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the fake browser is an xdg-open script")
	}
	dir := t.TempDir()
	opened = filepath.Join(dir, "opened")
	script := "#!/bin/sh\nprintf '%s\\n' \"$1\" >> '" + opened + ".tmp' && mv '" + opened + ".tmp' '" + opened + "'\n"
	if err := os.WriteFile(filepath.Join(dir, "xdg-open"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return map[string]string{"PATH": dir + string(os.PathListSeparator) + os.Getenv("PATH")}, opened
}

const escapes = "\x1b]0;pwned\x07\x1b[2J\x1b[H\u009b31m\x7f"

func TestServerTextIsStrippedOfControlCharacters(t *testing.T) {
	t.Parallel()
	_, url := hostile(t, deviceflowtest.Config{Login: "hu" + escapes + "bot", AutoApprove: 1, VerificationURIComplete: true},
		func(r *http.Request, status int, body map[string]any) (int, map[string]any) {
			if r.URL.Path == "/login/device/code" {
				body["user_code"] = escapes + body["user_code"].(string) + "\r\n✓ fake line"
				body["verification_uri"] = body["verification_uri"].(string) + escapes
				body["verification_uri_complete"] = body["verification_uri_complete"].(string) + escapes
			}
			return status, body
		})
	a := &account{flags: []string{"--base-url", url, "--client-id", "Ov23liCLITest", "--store", "memory"}}
	r := a.run(t, "login", "--no-browser")
	// run checks that no control character reached the output.
	if r.code != 0 {
		t.Fatalf("login: exit %d\n%s", r.code, r.output())
	}
	for _, want := range []string{"one-time code:  ]0;pwned[2J[H31m", " ✓ fake line", "Then open:  " + url + "/login/device]0;pwned", "as hu]0;pwned[2J[H31mbot"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stderr)
		}
	}
	for _, line := range strings.Split(r.stderr, "\n") {
		if strings.HasPrefix(strings.TrimLeft(line, "│ "), "✓ fake line") {
			t.Errorf("the server started a line of its own: %q", line)
		}
	}
}

func TestServerErrorTextIsStrippedOfControlCharacters(t *testing.T) {
	t.Parallel()
	for _, answer := range []map[string]any{
		{"error": "access_denied", "error_description": escapes + "Denied\n✓ Logged in to github.com as you", "error_uri": "https://x.example/" + escapes},
		{"error": "weird" + escapes, "error_description": "odd\x1b[2J"},
	} {
		_, url := hostile(t, deviceflowtest.Config{}, func(r *http.Request, status int, body map[string]any) (int, map[string]any) {
			if r.URL.Path == "/login/oauth/access_token" {
				return http.StatusOK, answer
			}
			return status, body
		})
		a := &account{flags: []string{"--base-url", url, "--client-id", "Ov23liCLITest", "--store", "memory"}}
		for _, json := range []bool{false, true} {
			args := []string{"--no-browser"}
			if json {
				args = append(args, "--json")
			}
			r := a.run(t, "login", args...)
			// run checks that no control character reached the output.
			if r.code != 1 || !strings.Contains(r.stderr, "]0;pwned[2J[H31m") && !strings.Contains(r.stderr, "odd[2J") {
				t.Errorf("login %v: exit %d\n%s", args, r.code, r.output())
			}
			for _, line := range strings.Split(r.stderr, "\n") {
				if strings.HasPrefix(line, "✓") {
					t.Errorf("the server started a line of its own: %q", line)
				}
			}
			if json {
				var m map[string]map[string]string
				if err := jsonUnmarshal(r.stdout, &m); err != nil || m["error"]["message"] == "" {
					t.Errorf("login --json: %q", r.stdout)
				}
			}
		}
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

func TestOnlyHTTPSPagesAreOpened(t *testing.T) {
	t.Parallel()
	for _, base := range []string{
		"javascript:alert(document.cookie)//",
		"file:///etc",
		"data:text/html,<script>alert(1)</script>",
		"http://github.com",
		"https://github.com@evil.example",
	} {
		t.Run(base, func(t *testing.T) {
			t.Parallel()
			benv, opened := fakeBrowser(t)
			emu := deviceflowtest.NewServer(deviceflowtest.Config{BaseURL: base, Interval: 100 * time.Millisecond})
			t.Cleanup(func() { emu.Close() })
			a := &account{env: benv, flags: []string{"--base-url", emu.URL(), "--client-id", "Ov23liCLITest", "--store", "memory"}}
			r := a.run(t, "login")
			if r.code != 1 || strings.Contains(r.stderr, "one-time code") || strings.Contains(r.stderr, "Opening") {
				t.Errorf("exit %d:\n%s", r.code, r.output())
			}
			if _, err := os.Stat(opened); err == nil {
				b, _ := os.ReadFile(opened)
				t.Errorf("the browser was asked to open %q", b)
			}
		})
	}
}

func TestInternationalisedHostsAreShownInASCII(t *testing.T) {
	t.Parallel()
	benv, opened := fakeBrowser(t)
	emu := deviceflowtest.NewServer(deviceflowtest.Config{BaseURL: "https://gıthub.com", Interval: 100 * time.Millisecond, AutoApprove: 1})
	t.Cleanup(func() { emu.Close() })
	a := &account{env: benv, flags: []string{"--base-url", emu.URL(), "--client-id", "Ov23liCLITest", "--store", "memory"}}
	r := a.run(t, "login")
	if r.code != 0 || strings.Contains(r.output(), "gıthub") || !strings.Contains(r.stderr, "Then open:  https://xn--gthub-n4a.com/login/device") {
		t.Errorf("exit %d:\n%s", r.code, r.output())
	}
	waitFor(t, "the browser", func() bool { _, err := os.Stat(opened); return err == nil })
	if b, _ := os.ReadFile(opened); string(b) != "https://xn--gthub-n4a.com/login/device\n" {
		t.Errorf("the browser opened %q", b)
	}

	// A host name from the flags too.
	s := runBinary(t, "status", "--base-url", "https://gıthub.com", "--client-id", "x", "--store", "memory")
	if s.code != 1 || strings.Contains(s.output(), "gıthub") || !strings.Contains(s.stderr, "xn--gthub-n4a.com") {
		t.Errorf("status: exit %d\n%s", s.code, s.output())
	}
}

func TestLoginChecksTheStoreTakesWritesBeforeShowingACode(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("uses /proc, where nobody (root included) can create files")
	}
	a := newAccount(t, deviceflowtest.Config{})
	// The store reads (there is no file: no entry) but cannot be written.
	a.flags = append(a.flags, "--store-path", "/proc/deviceflow-test/tokens.json")
	r := a.run(t, "login", "--no-browser")
	if r.code != 1 || strings.Contains(r.stderr, "one-time code") || !strings.Contains(r.stderr, "the store cannot keep a token, so no code was asked for (store: file /proc/deviceflow-test/tokens.json)") {
		t.Errorf("exit %d:\n%s", r.code, r.output())
	}
	j := a.run(t, "login", "--no-browser", "--json")
	var m map[string]map[string]string
	if err := json.Unmarshal([]byte(j.stdout), &m); j.code != 1 || err != nil || m["error"]["code"] != "store" {
		t.Errorf("login --json: exit %d %q", j.code, j.stdout)
	}
	if st := a.emu.Stats(); st.DeviceCode != 0 {
		t.Errorf("a code was asked for: %+v", st)
	}
}

func TestUnreadableEntryIsAStoreError(t *testing.T) {
	t.Parallel()
	a := newAccount(t, deviceflowtest.Config{})
	a.login(t)
	st, err := host.NewFileStore(a.store)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	keys, err := st.Keys(ctx)
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys %v %v", keys, err)
	}
	if err := st.Set(ctx, keys[0], "{not json"); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"status", "token"} {
		r := a.run(t, cmd)
		if r.code != 1 || strings.Contains(r.output(), "ot logged in") || !strings.Contains(r.stderr, "not valid JSON") || !strings.Contains(r.stderr, a.store) {
			t.Errorf("%s: exit %d\n%s", cmd, r.code, r.output())
		}
		j := a.run(t, cmd, "--json")
		var m map[string]map[string]string
		if err := json.Unmarshal([]byte(j.stdout), &m); err != nil || m["error"]["code"] != "store" || !strings.Contains(m["error"]["message"], a.store) {
			t.Errorf("%s --json: exit %d %q", cmd, j.code, j.stdout)
		}
	}

	// An entry the store itself cannot read: a store error from the store,
	// naming it, the command's name said once (run checks that).
	broken := a.store
	if info, err := os.Stat(a.store); err == nil && info.IsDir() {
		// One file per entry.
		entries, _ := filepath.Glob(filepath.Join(a.store, "*.json"))
		if len(entries) != 1 {
			t.Fatalf("entries %v", entries)
		}
		broken = entries[0]
	}
	if err := os.WriteFile(broken, []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := a.run(t, "status")
	if r.code != 1 || !strings.Contains(r.stderr, a.store) || strings.Contains(r.output(), "ot logged in") {
		t.Errorf("status with a broken file: exit %d\n%s", r.code, r.output())
	}
}

func TestBadConfigurationIsAUsageError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--base-url", "ftp://github.com"}, `bad --base-url "ftp://github.com"`},
		{[]string{"--base-url", "http://example.com"}, `bad --base-url "http://example.com"`},
		{[]string{"--base-url", "javascript:alert(1)"}, `bad --base-url "javascript:alert(1)"`},
		{[]string{"--base-url", "https://github.com:70000"}, `bad --base-url "https://github.com:70000"`},
		{[]string{"--base-url", "https://user:pw@github.com"}, `bad --base-url "https://user:pw@github.com"`},
		{[]string{"--base-url", "garbage"}, `bad --base-url "garbage"`},
		{[]string{"--base-url", "https://github.com/\x1b[2J"}, `bad --base-url "https://github.com/\x1b[2J"`},
		{[]string{"--hostname", "ghe.example.com/evil"}, `bad --hostname "ghe.example.com/evil"`},
		{[]string{"--store", "s3"}, `unknown store "s3"`},
		{[]string{"--client-id", "Ov23li\x1b[2Jx"}, `bad --client-id "Ov23li\x1b[2Jx": `},
		{[]string{"--client-id", "Ov23lix\n"}, `bad --client-id "Ov23lix\n": `},
		{[]string{"--client-id", "Ov23li\u009bx"}, `bad --client-id "Ov23li\u009bx": `},
		{[]string{"--bogus"}, "flag provided but not defined"},
	} {
		for _, cmd := range []string{"login", "token", "status", "logout"} {
			// A broken store must not hide the usage error.
			args := append([]string{cmd, "--client-id", "Ov23liCLITest", "--store", "file", "--store-path", "/proc/deviceflow-test/tokens.json", "--no-browser"}, tc.args...)
			if cmd != "login" {
				args = append(args[:7], tc.args...)
			}
			r := runBinary(t, args...)
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("deviceflow %q: exit %d, want 2 with %q:\n%s", args, r.code, tc.want, r.output())
			}
		}
	}
	// The value is quoted with Go escapes: the control character is named,
	// never sent to the terminal (run checks that), nor stripped.
	r := runBinary(t, "token", "--client-id", "a\x1bb", "--store", "memory")
	if !strings.Contains(r.stderr, `bad --client-id "a\x1bb": `) || !strings.Contains(r.stderr, "control character") {
		t.Errorf("client id: %s", r.stderr)
	}
}

func TestCtrlCBeforeTheCodeExits130(t *testing.T) {
	t.Parallel()
	// A device-code endpoint that never answers: the command waits, the
	// person presses Ctrl-C.
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case arrived <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	a := &account{flags: []string{"--base-url", srv.URL, "--client-id", "Ov23liCLITest", "--store", "memory"}}
	s := a.start(t, "login", "--no-browser")
	select {
	case <-arrived:
	case <-time.After(15 * time.Second):
		t.Fatalf("no request:\n%s", s.errText())
	}
	s.cmd.Process.Signal(os.Interrupt)
	r := s.wait(t)
	if r.code != 130 || !strings.Contains(r.stderr, "cancelled") {
		t.Errorf("exit %d:\n%s", r.code, r.output())
	}
}
