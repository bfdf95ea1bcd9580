package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

// The example signs in against the emulator while the test plays the
// person: it reads the code the program prints and enters it on the page.
func TestWhoami(t *testing.T) {
	emu := deviceflowtest.NewServer(deviceflowtest.Config{Interval: 50 * time.Millisecond, Login: "mona"})
	defer emu.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	prompt, stderr := io.Pipe()
	go func() {
		line := regexp.MustCompile(`Open (\S+) and enter the code (\S+)`)
		sc := bufio.NewScanner(prompt)
		for sc.Scan() {
			if m := line.FindStringSubmatch(sc.Text()); m != nil {
				res, err := http.PostForm(m[1], url.Values{"user_code": {m[2]}, "action": {"authorize"}})
				if err == nil {
					res.Body.Close()
				}
			}
		}
	}()
	var stdout strings.Builder
	code := run(ctx, []string{"-client-id", "Ov23liExample", "-base-url", emu.URL(), "-scopes", "read:user,gist"}, &stdout, stderr)
	stderr.Close()
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if want := "Hello, mona! Your token has the scopes \"gist, read:user\".\n"; stdout.String() != want {
		t.Errorf("got %q, want %q", stdout.String(), want)
	}
}

func TestWhoamiWithoutClientID(t *testing.T) {
	var stderr strings.Builder
	t.Setenv("DEVICEFLOW_CLIENT_ID", "")
	if code := run(context.Background(), nil, io.Discard, &stderr); code != 1 || !strings.Contains(stderr.String(), "clientId") {
		t.Errorf("exit %d: %s", code, stderr.String())
	}
}
