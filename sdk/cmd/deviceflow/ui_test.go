package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/sdk/deviceflow"
)

// syncBuffer is a bytes.Buffer safe for the spinner's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// stubDesktop replaces the clipboard and the browser for a test and
// returns what puts them back.
func stubDesktop(clip, browse func(string) error) (restore func()) {
	oldClip, oldBrowse := copyToClipboard, openBrowser
	copyToClipboard, openBrowser = clip, browse
	return func() { copyToClipboard, openBrowser = oldClip, oldBrowse }
}

func TestInteractiveLoginScreen(t *testing.T) {
	var copied, opened []string
	defer stubDesktop(func(s string) error { copied = append(copied, s); return nil },
		func(u string) error { opened = append(opened, u); return nil })()

	var out syncBuffer
	ui := &loginUI{term: &terminal{stdout: &out, stderr: &out, interactive: true, width: 100}}
	v := deviceflow.Verification{UserCode: "WDJB-MJHT", VerificationURI: "https://github.com/login/device", ExpiresIn: 15 * time.Minute}
	if err := ui.verification(context.Background(), v); err != nil {
		t.Fatal(err)
	}
	ui.event(context.Background(), deviceflow.Event{Type: "polling", Remaining: 61 * time.Second})
	ui.event(context.Background(), deviceflow.Event{Type: "slow_down", Interval: 10 * time.Second})
	// The spinner draws every 100 ms: wait for a frame with the note,
	// however long a loaded machine takes.
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(out.String(), "left (GitHub asked to slow down") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	ui.finish()
	screen := out.String()

	for _, want := range []string{
		"╭", "First copy your one-time code:  WDJB-MJHT", "(copied to the clipboard)",
		"Then open:  https://github.com/login/device", "╯",
		"Opening https://github.com/login/device in your browser.",
		"Or scan this code with your phone:", "█",
		"Waiting for authorization… 1:0", "left (GitHub asked to slow down: polling every 10s)",
	} {
		if !strings.Contains(screen, want) {
			t.Errorf("the screen lacks %q:\n%s", want, screen)
		}
	}
	if !strings.HasSuffix(screen, "\r\033[K") {
		t.Errorf("the spinner's line was not cleared")
	}
	if len(copied) != 1 || copied[0] != "WDJB-MJHT" || len(opened) != 1 || opened[0] != v.VerificationURI {
		t.Errorf("clipboard %v, browser %v", copied, opened)
	}
}

func TestPlainLoginScreen(t *testing.T) {
	defer stubDesktop(func(string) error { t.Error("the clipboard was used without a terminal"); return nil },
		func(string) error { return errors.New("no browser here") })()

	var out bytes.Buffer
	ui := &loginUI{term: &terminal{stdout: &out, stderr: &out, width: 80}}
	v := deviceflow.Verification{UserCode: "WDJB-MJHT", VerificationURI: "https://ghe.example.com/login/device", ExpiresIn: 900 * time.Second}
	ui.verification(context.Background(), v)
	ui.event(context.Background(), deviceflow.Event{Type: "backoff", Reason: "timeout", Wait: 10 * time.Second})
	ui.finish()
	want := `╭────────────────────────────────────────────────────╮
│  First copy your one-time code:  WDJB-MJHT         │
│  Then open:  https://ghe.example.com/login/device  │
╰────────────────────────────────────────────────────╯
! Could not open a browser (no browser here): open the page yourself.
Waiting for authorization (the code expires in 15:00)…
! connection trouble (timeout): retrying in 10s
`
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
}

// stubQR records what the QR code would carry.
func stubQR(drawn *[]string) (restore func()) {
	old := qr
	qr = func(_ io.Writer, text string) { *drawn = append(*drawn, text) }
	return func() { qr = old }
}

func TestInteractiveScreenWithAHostileServer(t *testing.T) {
	var copied, opened, drawn []string
	defer stubDesktop(func(s string) error { copied = append(copied, s); return nil },
		func(u string) error { opened = append(opened, u); return nil })()
	defer stubQR(&drawn)()

	var out syncBuffer
	ui := &loginUI{term: &terminal{stdout: &out, stderr: &out, interactive: true, width: 100}}
	v := deviceflow.Verification{
		UserCode:                "\x1b[2JWDJB-MJHT\x07",
		VerificationURI:         "https://gıthub.com/login/device\x1b]0;x\x07",
		VerificationURIComplete: "javascript:alert(1)//https://github.com/login/device",
		ExpiresIn:               time.Minute,
	}
	if err := ui.verification(context.Background(), v); err != nil {
		t.Fatal(err)
	}
	ui.finish()
	const page = "https://xn--gthub-n4a.com/login/device]0;x"
	if len(copied) != 1 || copied[0] != "[2JWDJB-MJHT" {
		t.Errorf("clipboard %q", copied)
	}
	// The complete URI is refused; the page itself is opened and drawn.
	if len(opened) != 1 || opened[0] != page || len(drawn) != 1 || drawn[0] != page {
		t.Errorf("browser %q, QR %q", opened, drawn)
	}
	screen := out.String()
	if !strings.Contains(screen, "Then open:  "+page) || strings.Contains(screen, "gıthub") || strings.Contains(screen, "javascript") {
		t.Errorf("screen:\n%s", screen)
	}
	// The spinner's own escapes apart, nothing a terminal acts on.
	if s := strings.ReplaceAll(screen, "\r\033[K", ""); strings.ContainsAny(s, "\x1b\x07\r") {
		t.Errorf("control characters on the screen: %q", screen)
	}
}

func TestAPageThatIsNotHTTPSEndsTheFlow(t *testing.T) {
	var drawn []string
	defer stubDesktop(func(s string) error { t.Errorf("clipboard got %q", s); return nil },
		func(u string) error { t.Errorf("browser got %q", u); return nil })()
	defer stubQR(&drawn)()
	for _, uri := range []string{"javascript:alert(1)", "file:///etc/passwd", "http://github.com/login/device", "https://github.com@evil.example/", "vbscript:x", ""} {
		var out syncBuffer
		ui := &loginUI{term: &terminal{stdout: &out, stderr: &out, interactive: true, width: 100}}
		err := ui.verification(context.Background(), deviceflow.Verification{UserCode: "WDJB-MJHT", VerificationURI: uri, VerificationURIComplete: "https://github.com/login/device?user_code=WDJB-MJHT"})
		ui.finish()
		var refused *unsafePageError
		if !errors.As(err, &refused) || out.String() != "" {
			t.Errorf("%q: %v, screen %q", uri, err, out.String())
		}
	}
	if len(drawn) != 0 {
		t.Errorf("QR drawn: %q", drawn)
	}
}

func TestClock(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "0:00", -time.Second: "0:00", 61500 * time.Millisecond: "1:02", 15 * time.Minute: "15:00"} {
		if got := clock(d); got != want {
			t.Errorf("clock(%v) = %q, want %q", d, got, want)
		}
	}
}
