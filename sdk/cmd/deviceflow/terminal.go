package main

import (
	"io"
	"os"

	"golang.org/x/term"
)

// terminal is where a command writes: results on stdout, messages for the
// person on stderr. interactive is true when both are terminals: only then
// does login animate a spinner, draw a QR code and touch the clipboard.
// stdout and stderr remove control characters from what is written (see
// cleanWriter); the spinner draws on rawStderr.
type terminal struct {
	stdout, stderr io.Writer
	// rawStderr is stderr without the filter, for the spinner's escape
	// sequences; stderr when nil.
	rawStderr   io.Writer
	interactive bool
	// width is the terminal's width in columns, 80 when unknown.
	width int
}

func newTerminal(stdout, stderr *os.File) *terminal {
	t := &terminal{stdout: cleanWriter{stdout}, stderr: cleanWriter{stderr}, rawStderr: stderr, width: 80}
	t.interactive = term.IsTerminal(int(stdout.Fd())) && term.IsTerminal(int(stderr.Fd()))
	if w, _, err := term.GetSize(int(stderr.Fd())); err == nil && w > 0 {
		t.width = w
	}
	return t
}

// spinnerOut is where the spinner draws.
func (t *terminal) spinnerOut() io.Writer {
	if t.rawStderr != nil {
		return t.rawStderr
	}
	return t.stderr
}
