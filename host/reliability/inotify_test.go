//go:build linux

package reliability_test

import (
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// fsEvent is one inotify event in a watched directory, stamped when the
// harness read it.
type fsEvent struct {
	dir  string // the watched directory
	name string // the file in it
	mask uint32
	at   time.Time
}

// watcher records what processes do in some directories (inotify): which
// files they create and rename into place. It is how the harness knows,
// without sleeping, that a new pair has been renamed into the store, and
// whether a killed process got that far. Identical events the harness has
// not read yet are merged by the kernel: use it for "did it happen", not
// for counting.
type watcher struct {
	f    *os.File
	side string // a directory of the watcher's own, for sync

	mu      sync.Mutex
	dirs    map[int32]string
	events  []fsEvent
	changed chan struct{} // closed and replaced at each new event
	seq     int
}

// newWatcher watches the directories for the events in mask (syscall.IN_*).
func newWatcher(t *testing.T, mask uint32, dirs ...string) *watcher {
	t.Helper()
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK)
	if err != nil {
		t.Fatalf("inotify: %v", err)
	}
	w := &watcher{f: os.NewFile(uintptr(fd), "inotify"), side: t.TempDir(), dirs: map[int32]string{}, changed: make(chan struct{})}
	add := func(dir string, m uint32) {
		wd, err := syscall.InotifyAddWatch(fd, dir, m)
		if err != nil {
			t.Fatalf("inotify watch %s: %v", dir, err)
		}
		w.dirs[int32(wd)] = dir
	}
	add(w.side, syscall.IN_CREATE)
	for _, d := range dirs {
		add(d, mask)
	}
	go w.read()
	t.Cleanup(func() { w.f.Close() })
	return w
}

func (w *watcher) read() {
	buf := make([]byte, 64<<10)
	for {
		n, err := w.f.Read(buf)
		if err != nil {
			return
		}
		now := time.Now()
		var got []fsEvent
		for off := 0; off+syscall.SizeofInotifyEvent <= n; {
			ev := (*syscall.InotifyEvent)(unsafe.Pointer(&buf[off]))
			nameBytes := buf[off+syscall.SizeofInotifyEvent : off+syscall.SizeofInotifyEvent+int(ev.Len)]
			name := string(nameBytes)
			for len(name) > 0 && name[len(name)-1] == 0 {
				name = name[:len(name)-1]
			}
			w.mu.Lock()
			dir := w.dirs[ev.Wd]
			w.mu.Unlock()
			got = append(got, fsEvent{dir: dir, name: name, mask: ev.Mask, at: now})
			off += syscall.SizeofInotifyEvent + int(ev.Len)
		}
		w.mu.Lock()
		w.events = append(w.events, got...)
		close(w.changed)
		w.changed = make(chan struct{})
		w.mu.Unlock()
	}
}

// mark returns the index of the next event: events from then on are those
// that happen after the call (once sync has run).
func (w *watcher) mark() int {
	w.sync()
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.events)
}

// sync returns once every event that happened before the call has been
// read: it makes a file in the side directory and waits for its event,
// which the kernel queues after them.
func (w *watcher) sync() {
	w.mu.Lock()
	w.seq++
	name := "sync-" + strconv.Itoa(w.seq)
	w.mu.Unlock()
	f, err := os.Create(filepath.Join(w.side, name))
	if err == nil {
		f.Close()
	}
	w.await(0, time.Now().Add(10*time.Second), func(e fsEvent) bool { return e.dir == w.side && e.name == name })
}

// await returns the first event from index from on that match accepts,
// waiting for it until deadline.
func (w *watcher) await(from int, deadline time.Time, match func(fsEvent) bool) (fsEvent, bool) {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		w.mu.Lock()
		for _, e := range w.events[from:] {
			if match(e) {
				w.mu.Unlock()
				return e, true
			}
		}
		from = len(w.events)
		ch := w.changed
		w.mu.Unlock()
		select {
		case <-ch:
		case <-timer.C:
			return fsEvent{}, false
		}
	}
}

// count returns how many events from index from on match accepts.
func (w *watcher) count(from int, match func(fsEvent) bool) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, e := range w.events[from:] {
		if match(e) {
			n++
		}
	}
	return n
}

// in returns a matcher for events of mask on name in dir.
func in(dir, name string, mask uint32) func(fsEvent) bool {
	return func(e fsEvent) bool { return e.dir == dir && e.name == name && e.mask&mask != 0 }
}
