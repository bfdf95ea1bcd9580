package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/atotto/clipboard"
	"github.com/cli/browser"

	"github.com/deviceflow/deviceflow/sdk/deviceflow"
)

func runLogin(ctx context.Context, args []string, term *terminal, getenv func(string) string) int {
	var c common
	ui := &loginUI{term: term}
	fs := newFlagSet("login", "Sign in to GitHub with a one-time code, as `gh auth login` does, and store the token", &c, getenv, term.stderr)
	var open, force bool
	fs.BoolVar(&open, "open", false, "open the verification page in a browser (the default here; see --no-browser)")
	fs.BoolVar(&ui.noBrowser, "no-browser", false, "do not open the verification page in a browser")
	fs.BoolVar(&ui.noQR, "no-qr", false, "do not draw a QR code of the verification page")
	fs.BoolVar(&force, "force", false, "accepted for compatibility: login always signs in anew")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if open && ui.noBrowser {
		return usageError(term.stderr, "--open and --no-browser contradict each other: give one")
	}
	cl, st, code := c.client(term.stderr, deviceflow.Config{OnVerification: ui.verification, OnEvent: ui.event})
	if cl == nil {
		return code
	}
	defer cl.Close()
	// Always a new device flow, as `gh auth login` does: a person who runs
	// login wants to sign in, perhaps as someone else.
	a, code := signIn(ctx, term, &c, cl, st, ui, deviceflow.WithRefresh())
	if a == nil {
		return code
	}
	s := summarize(&c, st, a)
	if r, err := cl.Check(ctx); err == nil && r.Valid {
		s.Login = clean(r.Login)
	}
	if c.json {
		return printJSON(term, s)
	}
	who := ""
	if s.Login != "" {
		who = " as " + s.Login
	}
	fmt.Fprintf(term.stderr, "✓ Logged in to %s%s\n", c.host(), who)
	fmt.Fprintf(term.stderr, "✓ Token stored in: %s\n", st)
	return exitOK
}

// signIn checks that the store can keep a token, then asks for one with
// opts (a new device flow for login; the cached token first for token
// --login), showing the code through ui. A nil Authentication means the
// command ends with the code returned (the failure was reported).
func signIn(ctx context.Context, term *terminal, c *common, cl *deviceflow.Client, st *openedStore, ui *loginUI, opts ...deviceflow.Option) (*deviceflow.Authentication, int) {
	if err := preflight(ctx, st); err != nil {
		if ctx.Err() != nil {
			return nil, failure(ctx, term, c, &deviceflow.Error{Code: deviceflow.ErrCancelled.Code, Message: "cancelled", Cause: ctx.Err()}, "")
		}
		return nil, failure(ctx, term, c, &deviceflow.Error{Code: deviceflow.ErrStore.Code, Cause: err,
			Message: fmt.Sprintf("the store cannot keep a token, so no code was asked for (store: %s): %s", st, message(err))}, "")
	}
	a, err := cl.Token(ctx, opts...)
	ui.finish()
	if err != nil {
		var refused *unsafePageError
		if errors.As(err, &refused) && ctx.Err() == nil {
			err = &deviceflow.Error{Code: deviceflow.ErrInvalidResponse.Code, Message: refused.Error()}
		}
		return nil, failure(ctx, term, c, err, "Nothing was stored.")
	}
	return a, exitOK
}

// loginUI shows the code and the progress of the flow.
type loginUI struct {
	term      *terminal
	noBrowser bool
	noQR      bool

	mu   sync.Mutex
	spin *spinner
}

// verification shows the code: a box with the code and the page, the code
// on the clipboard, the page in the browser, a QR code for phones. All of
// it comes from the server, so the code is cleaned of control characters
// and the page must pass safeURL (https, or http to this machine; its host
// name in ASCII) to be shown, opened, drawn or copied; a page that does not
// pass ends the flow.
func (ui *loginUI) verification(_ context.Context, v deviceflow.Verification) error {
	w := ui.term.stderr
	page, err := safeURL(v.VerificationURI)
	if err != nil {
		return &unsafePageError{uri: v.VerificationURI}
	}
	open := page
	if v.VerificationURIComplete != "" {
		// The page with the code filled in, when it passes too.
		if u, err := safeURL(v.VerificationURIComplete); err == nil {
			open = u
		}
	}
	code := clean(v.UserCode)
	lines := []string{fmt.Sprintf("First copy your one-time code:  %s", code)}
	if ui.term.interactive {
		if err := copyToClipboard(code); err == nil {
			lines = append(lines, "(copied to the clipboard)")
		}
	}
	lines = append(lines, fmt.Sprintf("Then open:  %s", page))
	box(w, lines)
	if !ui.noBrowser {
		// The browser's own chatter must not reach our output.
		browser.Stdout, browser.Stderr = nil, nil
		if err := openBrowser(open); err != nil {
			fmt.Fprintf(w, "! Could not open a browser (%s): open the page yourself.\n", message(err))
		} else {
			fmt.Fprintf(w, "Opening %s in your browser.\n", page)
		}
	}
	if ui.term.interactive && !ui.noQR {
		fmt.Fprintln(w, "Or scan this code with your phone:")
		qr(w, open)
	}
	if ui.term.interactive {
		ui.mu.Lock()
		ui.spin = startSpinner(ui.term.spinnerOut(), v.ExpiresIn)
		ui.mu.Unlock()
	} else {
		fmt.Fprintf(w, "Waiting for authorization (the code expires in %s)…\n", clock(v.ExpiresIn))
	}
	return nil
}

// unsafePageError ends a flow whose verification page safeURL refused.
type unsafePageError struct{ uri string }

func (e *unsafePageError) Error() string {
	return fmt.Sprintf("the server's verification page %+q is %v: it was not shown or opened", clean(e.uri), errUnsafeURL)
}

// copyToClipboard puts text on the system clipboard, where there is one.
var copyToClipboard = clipboard.WriteAll

// openBrowser opens url without waiting long for the opener to finish.
var openBrowser = func(url string) error {
	done := make(chan error, 1)
	go func() { done <- browser.OpenURL(url) }()
	select {
	case err := <-done:
		return err
	case <-time.After(3 * time.Second):
		return nil
	}
}

// event follows the flow: time left, slow-downs, network trouble.
func (ui *loginUI) event(_ context.Context, e deviceflow.Event) error {
	ui.mu.Lock()
	spin := ui.spin
	ui.mu.Unlock()
	note := ""
	switch e.Type {
	case "polling":
		if spin != nil {
			spin.setRemaining(e.Remaining)
			spin.setNote("")
		}
		return nil
	case "slow_down":
		note = fmt.Sprintf("GitHub asked to slow down: polling every %s", e.Interval)
	case "backoff":
		note = fmt.Sprintf("connection trouble (%s): retrying in %s", clean(e.Reason), e.Wait.Round(time.Second))
	default:
		return nil
	}
	if spin != nil {
		spin.setNote(note)
	} else {
		fmt.Fprintf(ui.term.stderr, "! %s\n", note)
	}
	return nil
}

// finish stops the spinner.
func (ui *loginUI) finish() {
	ui.mu.Lock()
	spin := ui.spin
	ui.spin = nil
	ui.mu.Unlock()
	spin.Stop()
}
