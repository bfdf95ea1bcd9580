package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mdp/qrterminal/v3"
)

// box draws lines in a rounded frame.
func box(w io.Writer, lines []string) {
	width := 0
	for _, l := range lines {
		if n := utf8.RuneCountInString(l); n > width {
			width = n
		}
	}
	bar := strings.Repeat("─", width+4)
	fmt.Fprintf(w, "╭%s╮\n", bar)
	for _, l := range lines {
		fmt.Fprintf(w, "│  %s%s  │\n", l, strings.Repeat(" ", width-utf8.RuneCountInString(l)))
	}
	fmt.Fprintf(w, "╰%s╯\n", bar)
}

// qr draws a QR code of text with half blocks, two rows per line.
var qr = func(w io.Writer, text string) {
	qrterminal.GenerateWithConfig(text, qrterminal.Config{
		Level:          qrterminal.L,
		Writer:         w,
		HalfBlocks:     true,
		BlackChar:      qrterminal.BLACK_BLACK,
		WhiteBlackChar: qrterminal.WHITE_BLACK,
		WhiteChar:      qrterminal.WHITE_WHITE,
		BlackWhiteChar: qrterminal.BLACK_WHITE,
		QuietZone:      1,
	})
}

// clock renders a duration as m:ss.
func clock(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int(d.Round(time.Second) / time.Second)
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// spinner animates "Waiting for authorization… 14:32 left" on one line
// until stopped. The time left follows the plugin's polling events.
type spinner struct {
	w    io.Writer
	mu   sync.Mutex
	end  time.Time
	note string
	stop chan struct{}
	done chan struct{}
}

var spinFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func startSpinner(w io.Writer, remaining time.Duration) *spinner {
	s := &spinner{w: w, end: time.Now().Add(remaining), stop: make(chan struct{}), done: make(chan struct{})}
	go s.loop()
	return s
}

// setRemaining corrects the time left from a polling event.
func (s *spinner) setRemaining(d time.Duration) {
	s.mu.Lock()
	s.end = time.Now().Add(d)
	s.mu.Unlock()
}

// setNote shows a short remark after the time left (slow down, retrying).
func (s *spinner) setNote(n string) {
	s.mu.Lock()
	s.note = n
	s.mu.Unlock()
}

func (s *spinner) loop() {
	defer close(s.done)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for i := 0; ; i++ {
		s.mu.Lock()
		left, note := time.Until(s.end), s.note
		s.mu.Unlock()
		line := fmt.Sprintf("%s Waiting for authorization… %s left", spinFrames[i%len(spinFrames)], clock(left))
		if note != "" {
			line += " (" + note + ")"
		}
		fmt.Fprintf(s.w, "\r\033[K%s", line)
		select {
		case <-s.stop:
			fmt.Fprint(s.w, "\r\033[K")
			return
		case <-t.C:
		}
	}
}

// Stop clears the spinner's line. It may be called more than once.
func (s *spinner) Stop() {
	if s == nil {
		return
	}
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
}
