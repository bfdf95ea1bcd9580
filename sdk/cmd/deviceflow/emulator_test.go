package main_test

import (
	"bufio"
	"encoding/json"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestEmulatorCommand(t *testing.T) {
	t.Parallel()
	emu := exec.Command(binary, "emulator", "--addr", "127.0.0.1:0", "--interval", "100ms", "--auto-approve", "1", "--login", "mona", "--json")
	emu.Env = env(nil)
	stdout, _ := emu.StdoutPipe()
	var stderr strings.Builder
	emu.Stderr = &stderr
	if err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	defer emu.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	var urls struct{ URL, APIURL string }
	if err := json.Unmarshal([]byte(line), &urls); err != nil || !strings.HasPrefix(urls.URL, "http://127.0.0.1:") || urls.APIURL != urls.URL+"/api/v3" {
		t.Fatalf("first line %q", line)
	}

	// Sign in against it with auto-approval, from another process.
	r := runBinary(t, "login", "--base-url", urls.URL, "--client-id", "Ov23liEmu", "--store", "memory", "--no-browser")
	if r.code != 0 || !strings.Contains(r.stderr, "as mona") {
		t.Errorf("login against the emulator command: %d\n%s", r.code, r.output())
	}

	emu.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- emu.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("emulator exit: %v\n%s", err, stderr.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the emulator did not stop on SIGINT")
	}
	if !strings.Contains(stderr.String(), "Device page: "+urls.URL+"/login/device") {
		t.Errorf("banner:\n%s", stderr.String())
	}
}
