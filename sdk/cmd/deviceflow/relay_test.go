package main_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

// TestRelayCommand: deviceflow relay in front of an emulator answers CORS
// for its --allow-origin only, refuses other paths, carries the command's
// own sign-in, logs no token, and stops on Ctrl-C.
func TestRelayCommand(t *testing.T) {
	t.Parallel()
	emu := deviceflowtest.NewServer(deviceflowtest.Config{Interval: 50 * time.Millisecond, AutoApprove: 1, Login: "mona"})
	t.Cleanup(func() { emu.Close() })
	const page = "https://app.example.com"
	cmd := exec.Command(binary, "relay", "--listen", "127.0.0.1:0", "--github", emu.URL(), "--allow-origin", page, "--allow-origin", "http://localhost:5173", "--rate", "50", "--json")
	cmd.Env = env(nil)
	stdout, _ := cmd.StdoutPipe()
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var out struct{ URL, GitHub string }
	if err := json.Unmarshal([]byte(line), &out); err != nil || !strings.HasPrefix(out.URL, "http://127.0.0.1:") || out.GitHub != emu.URL() {
		t.Fatalf("first line %q", line)
	}

	options := func(path, origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, out.URL+path, nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := options("/login/device/code", page); resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != page {
		t.Errorf("preflight from the page: %d %v", resp.StatusCode, resp.Header)
	}
	if resp := options("/login/oauth/access_token", "https://evil.example"); resp.StatusCode != 403 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from another origin: %d %v", resp.StatusCode, resp.Header)
	}
	if resp := options("/user", page); resp.StatusCode != 404 {
		t.Errorf("preflight for /user: %d", resp.StatusCode)
	}

	// The command itself signs in through the relay (the relay is an
	// OAuth base like any other; GET /user is not relayed, so login names
	// no user).
	r := runBinary(t, "token", "--login", "--base-url", out.URL, "--client-id", "Ov23liRelay", "--store", "memory")
	issued, ok := emu.LastToken()
	if r.code != 0 || !ok || strings.TrimSpace(r.stdout) != issued.AccessToken {
		t.Errorf("token --login through the relay: %d\n%s", r.code, r.output())
	}

	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("relay exit: %v\n%s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the relay did not stop on SIGINT")
	}
	logs := stderr.String()
	if !strings.Contains(logs, "path=/login/oauth/access_token status=200") || !strings.Contains(logs, "Relaying to:  "+emu.URL()) {
		t.Errorf("stderr:\n%s", logs)
	}
	if issued.AccessToken != "" && strings.Contains(logs, issued.AccessToken) {
		t.Errorf("the relay logged the token:\n%s", logs)
	}
	for _, g := range emu.Grants() {
		if strings.Contains(logs, g.DeviceCode) {
			t.Errorf("the relay logged a device code:\n%s", logs)
		}
	}
}

// TestRelayCommandUsage: flags that would open the relay too wide, or make
// no sense, are usage errors (exit 2) before anything listens.
func TestRelayCommandUsage(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "--allow-origin is required"},
		{[]string{"--allow-origin", "*"}, `bad --allow-origin: "*" is not allowed`},
		{[]string{"--allow-origin", "null"}, `bad --allow-origin: "null" is not allowed`},
		{[]string{"--allow-origin", "http://app.example.com"}, "plain http is allowed only for this machine"},
		{[]string{"--allow-origin", page(), "--github", "http://ghe.example.com"}, `bad --github "http://ghe.example.com"`},
		{[]string{"--allow-origin", page(), "--github", "https://github.com/login"}, `bad --github`},
		{[]string{"--allow-origin", page(), "--trusted-proxy", "proxy.example"}, `bad --trusted-proxy "proxy.example"`},
		{[]string{"--allow-origin", page(), "--tls-cert", "c.pem"}, "--tls-cert and --tls-key go together"},
		{[]string{"--allow-origin", page(), "--rate", "-1"}, "--rate must not be negative"},
		{[]string{"--allow-origin", page(), "--client-id", "Ov23 li"}, "client id"},
		{[]string{"--allow-origin", page(), "extra"}, `unexpected argument "extra"`},
	} {
		r := runBinary(t, append([]string{"relay"}, c.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("relay %q: %d, want 2 and %q\n%s", c.args, r.code, c.want, r.output())
		}
	}
	if r := runBinary(t, "relay", "-h"); r.code != 0 || !strings.Contains(r.stderr, "--allow-origin") {
		t.Errorf("relay -h: %d\n%s", r.code, r.output())
	}
}

func page() string { return "https://app.example.com" }
