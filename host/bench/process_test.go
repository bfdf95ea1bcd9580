package bench

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

// BenchmarkTokenProcess runs a whole `deviceflow token` process that
// answers a cached token from the file store: process start, store read,
// plugin load from a warm compilation cache, instantiation, the
// authenticate call, the print. The goal is ≤ 25 ms (issue 14).
func BenchmarkTokenProcess(b *testing.B) {
	dir := b.TempDir()
	bin := filepath.Join(dir, "deviceflow")
	build := exec.Command("go", "build", "-o", bin, "github.com/deviceflow/deviceflow/sdk/cmd/deviceflow")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	emu := deviceflowtest.NewServer(deviceflowtest.Config{Interval: 10 * time.Millisecond, AutoApprove: 1})
	defer emu.Close()
	env := append(os.Environ(),
		"DEVICEFLOW_CACHE_DIR="+filepath.Join(dir, "cache"),
		"DEVICEFLOW_CLIENT_ID=Ov23liBench",
		"DEVICEFLOW_BASE_URL="+emu.URL(),
		"DEVICEFLOW_STORE=file",
		"DEVICEFLOW_STORE_PATH="+filepath.Join(dir, "tokens.json"),
	)
	run := func(args ...string) string {
		c := exec.Command(bin, args...)
		c.Env = env
		var out, errOut bytes.Buffer
		c.Stdout, c.Stderr = &out, &errOut
		if err := c.Run(); err != nil {
			b.Fatalf("deviceflow %v: %v\n%s", args, err, errOut.String())
		}
		return out.String()
	}
	// Sign in once (the emulator approves at the first poll); this also
	// fills the compilation cache.
	run("login", "--no-browser")
	tok, _ := emu.LastToken()
	if got := strings.TrimSpace(run("token")); got != tok.AccessToken {
		b.Fatal("token did not print the stored token")
	}
	requests := emu.Stats()
	for b.Loop() {
		run("token")
	}
	if emu.Stats() != requests {
		b.Error("token sent requests: it should answer from the store")
	}
}
