package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

// Three platform processes share one store (a file store here; Redis or
// PostgreSQL in production, see the README): a sign-in started on the
// first is watched over server-sent events on the second and used on the
// third; a sign-in whose node gets kill -9 finishes on another, which a
// long poll on the third sees.
func TestThreeProcesses(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "platform")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	emu := deviceflowtest.NewServer(deviceflowtest.Config{Interval: 200 * time.Millisecond, Login: "mona"})
	defer emu.Close()
	store := "file:" + filepath.Join(dir, "store")
	var procs []*exec.Cmd
	var urls []string
	for _, name := range []string{"p1", "p2", "p3"} {
		cmd, url := startPlatform(t, bin, "-addr", "127.0.0.1:0", "-node", name, "-store", store, "-github", emu.URL(),
			"-lease", "3s", "-tenant", "acme=Ov23liAcme:repo", "-tenant", "globex=Ov23liGlobex")
		procs = append(procs, cmd)
		urls = append(urls, url)
	}

	// Start on p1, watch on p2, call the API on p3.
	var f view
	post(t, urls[0]+"/t/acme/signin", &f)
	if f.UserCode == "" || !strings.HasPrefix(f.VerificationURI, emu.URL()) || f.Node != "p1" {
		t.Fatalf("signin: %+v", f)
	}
	events := sse(t, urls[1]+"/signin/"+f.ID+"/events")
	if ev := <-events; ev != "pending" {
		t.Fatalf("first event %q", ev)
	}
	if err := emu.Approve(f.UserCode); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-events:
		if ev != "complete" {
			t.Fatalf("last event %q", ev)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no complete event")
	}
	var u struct {
		Tenant, Login, Node string
		Valid               bool
	}
	get(t, urls[2]+"/signin/"+f.ID+"/user", &u)
	if u.Login != "mona" || !u.Valid || u.Tenant != "acme" || u.Node != "p3" {
		t.Fatalf("user: %+v", u)
	}

	// A sign-in started on p2, which dies; the long poll on p3 sees it end.
	var g view
	post(t, urls[1]+"/t/globex/signin", &g)
	time.Sleep(500 * time.Millisecond)
	_ = procs[1].Process.Signal(syscall.SIGKILL)
	if err := emu.Approve(g.UserCode); err != nil {
		t.Fatal(err)
	}
	var st view
	get(t, urls[2]+"/signin/"+g.ID+"/wait?timeout=30s", &st)
	if st.State != "complete" || st.Tenant != "globex" {
		t.Fatalf("after p2 died: %+v", st)
	}
	get(t, urls[0]+"/signin/"+g.ID+"/user", &u)
	if u.Login != "mona" || u.Tenant != "globex" {
		t.Fatalf("user: %+v", u)
	}
	if s := emu.Stats(); s.TokensIssued != 2 || s.SlowDowns != 0 {
		t.Fatalf("emulator: %d tokens, %d slow_down", s.TokensIssued, s.SlowDowns)
	}
}

var listening = regexp.MustCompile(`platform listening" addr=(\S+)`)

// startPlatform runs the binary and answers its URL once it listens.
func startPlatform(t *testing.T, bin string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = os.Environ()
	errOut, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(errOut)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
			if testing.Verbose() {
				t.Log(sc.Text())
			}
		}
	}()
	select {
	case a := <-addr:
		return cmd, "http://" + a
	case <-time.After(30 * time.Second):
		t.Fatal("the platform did not start")
	}
	return nil, ""
}

func post(t *testing.T, url string, out any) {
	t.Helper()
	resp, err := http.Post(url, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	decode(t, resp, http.StatusCreated, out)
}

func get(t *testing.T, url string, out any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	decode(t, resp, http.StatusOK, out)
}

func decode(t *testing.T, resp *http.Response, want int, out any) {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s: %d %s", resp.Request.URL, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("%s: %v: %s", resp.Request.URL, err, b)
	}
}

// sse reads a server-sent event stream's event names.
func sse(t *testing.T, url string) <-chan string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || ct != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, ct)
	}
	out := make(chan string, 4)
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if name, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
				out <- name
			}
		}
		close(out)
	}()
	t.Cleanup(func() { resp.Body.Close() })
	return out
}
