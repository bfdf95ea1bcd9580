package main

import (
	"io"
	"os"

	"golang.org/x/term"
)

// terminal is where a command writes: results on stdout, messages for the
// person on stderr. interactive is true when both are terminals: only then
// does login animate a spinner, draw a QR code and touch the clipboard.
type terminal struct {
	stdout, stderr io.Writer
	interactive    bool
	// width is the terminal's width in columns, 80 when unknown.
	width int
}

func newTerminal(stdout, stderr *os.File) *terminal {
	t := &terminal{stdout: stdout, stderr: stderr, width: 80}
	t.interactive = term.IsTerminal(int(stdout.Fd())) && term.IsTerminal(int(stderr.Fd()))
	if w, _, err := term.GetSize(int(stderr.Fd())); err == nil && w > 0 {
		t.width = w
	}
	return t
}
