//go:build linux

package reliability_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/host"
)

// Padding of the store in TestKillDuringRefresh: 10,000 other entries of
// about 800 bytes, some 8 MB, as in issue 11 §2.
const (
	paddingEntries = 10000
	paddingBytes   = 800
)

// Where a kill lands, relative to the refresh.
const (
	// phaseHeld: while the refresh request is held at the server, before
	// the server has seen it; the request is then dropped, as if it had
	// never arrived. The old pair must still work.
	phaseHeld = "held"
	// phaseAnswered: a random 0-20 ms after the server answered the
	// refresh (and so spent the old refresh token). The sign-in is lost
	// only if the kill lands before the new pair is durable in the store:
	// that window cannot be closed by any client, and must not grow with
	// the store's size.
	phaseAnswered = "answered"
	// phaseWritten: as soon as the new pair has been renamed into place
	// (seen through inotify), while the process still holds the lease.
	phaseWritten = "written"
	// phaseAnytime: at a moment drawn uniformly over the command's usual
	// run time with a refresh (measured first), as issue 11 measured it:
	// before the refresh, during it or after it.
	phaseAnytime = "anytime"
)

// answeredWindow is the range of kill delays after the server's answer.
const answeredWindow = 20 * time.Millisecond

// TestKillDuringRefresh (issue 11 §2): `token` processes (Go and Python in
// turn) on a file store padded to about 8 MB are killed with SIGKILL around
// the refresh of an expiring token, at a random moment of one of three
// phases (held, answered, written). After each kill the store must still
// be readable with every other entry intact, and a following `token` must
// succeed without a device flow, unless the kill landed after the server
// spent the old refresh token and before the new pair was renamed into
// place (then nobody can have the new pair: such kills are counted apart).
// It also measures that window — the time from the server's answer to the
// rename of the new entry — on the padded store and on a store holding
// only the sign-in: it must not grow with the store's size.
func TestKillDuringRefresh(t *testing.T) {
	kills, calibrations := 20, 3
	if full {
		kills, calibrations = 100, 10
	}
	if s := os.Getenv("DEVICEFLOW_RELIABILITY_KILLS"); s != "" {
		kills, _ = strconv.Atoi(s)
	}
	if s := os.Getenv("DEVICEFLOW_RELIABILITY_CALIBRATIONS"); s != "" {
		calibrations, _ = strconv.Atoi(s)
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("DEVICEFLOW_RELIABILITY_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (DEVICEFLOW_RELIABILITY_SEED replays it)", seed)
	rng := rand.New(rand.NewPCG(seed, 0x5eed))

	commands := clis(t)
	g := newGate(t)
	base := t.TempDir()
	dir := filepath.Join(base, "tokens.json")
	store, err := host.NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	key := signIn(t, g, store)
	entry := entryName(key) + ".json"
	size := pad(t, dir)
	checkPadding(t, store, -1)
	t.Logf("store: %d entries besides the sign-in, %.1f MB of entry files", paddingEntries, float64(size)/1e6)

	smallDir := filepath.Join(base, "small.json")
	small, err := host.NewFileStore(smallDir)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := store.Get(context.Background(), key)
	if err := small.Set(context.Background(), key, v); err != nil {
		t.Fatal(err)
	}
	w := newWatcher(t, syscall.IN_CREATE|syscall.IN_MOVED_TO, dir, smallDir)

	// One run of each command first: the plugin's compilation caches are
	// filled, and the first measured run is not a cold start.
	for _, c := range commands {
		rearm(t, small, key)
		if p := runToken(t, c, g, smallDir); p.err != nil {
			t.Fatalf("warm-up: %v", p)
		}
	}

	// The window: from the server's answer to the rename of the new entry,
	// unkilled, on the small store and then on the padded one.
	window := map[string][]time.Duration{}
	toTmp := map[string][]time.Duration{}
	toRename := map[string][]time.Duration{}
	runs := map[string][]time.Duration{}
	for _, s := range []struct {
		name string
		dir  string
		st   *host.FileStore
	}{{"small", smallDir, small}, {"8MB", dir, store}} {
		if s.st == store {
			moveSignIn(t, small, store, key)
		}
		for i := range calibrations * len(commands) {
			c := commands[i%len(commands)]
			rearm(t, s.st, key)
			answered := make(chan time.Time, 1)
			g.set(nil, func(at time.Time) { answered <- at })
			from := w.mark()
			p := runToken(t, c, g, s.dir)
			g.set(nil, nil)
			if _, ok := p.token(); !ok {
				t.Fatalf("calibration on the %s store: %v", s.name, p)
			}
			var at time.Time
			select {
			case at = <-answered:
			default:
				t.Fatalf("calibration on the %s store: %s token did not refresh", s.name, c.lang)
			}
			w.sync()
			ev, ok := w.await(from, time.Now(), in(s.dir, entry, syscall.IN_MOVED_TO))
			if !ok {
				t.Fatalf("calibration on the %s store: %s token wrote no new entry", s.name, c.lang)
			}
			k := s.name + " " + c.lang
			window[k] = append(window[k], ev.at.Sub(at))
			runs[k] = append(runs[k], p.end.Sub(p.start))
			// The temporary file the new entry was written to, created
			// between the answer and the rename: before it, the process
			// reads the answer; after it, it writes, syncs and renames.
			tmp := func(e fsEvent) bool {
				return e.dir == s.dir && e.mask&syscall.IN_CREATE != 0 && strings.HasPrefix(e.name, "."+entryName(key)) && strings.HasSuffix(e.name, ".tmp")
			}
			if te, ok := w.await(from, time.Now(), tmp); ok && !te.at.Before(at) && !te.at.After(ev.at) {
				toTmp[k] = append(toTmp[k], te.at.Sub(at))
				toRename[k] = append(toRename[k], ev.at.Sub(te.at))
			}
		}
	}
	for _, k := range []string{"small go", "8MB go", "small python", "8MB python"} {
		if len(window[k]) > 0 {
			t.Logf("%-12s server's answer to the new entry renamed into place: %s (answer to the temporary file created: %s; then written, synced and renamed: %s); token process with a refresh: %s",
				k+":", durations(window[k]), durations(toTmp[k]), durations(toRename[k]), durations(runs[k]))
		}
	}
	// The fastest run is the least disturbed by the machine's load: compare
	// those. Rewriting an 8 MB document (layout v1) costs tens of
	// milliseconds at the very least.
	for _, lang := range []string{"go", "python"} {
		smallW, bigW := slices.Min(append(window["small "+lang], time.Hour)), slices.Min(append(window["8MB "+lang], time.Hour))
		if bigW != time.Hour && bigW > 3*smallW+15*time.Millisecond {
			t.Errorf("%s: the write of a refreshed pair takes at least %v with an 8 MB store against %v with a small one: it grows with the store's size", lang, bigW, smallW)
		}
	}

	// The kills.
	type outcome struct {
		kills, hit, lost, lostInWindow, window, renamed int
	}
	results := map[string]*outcome{phaseHeld: {}, phaseAnswered: {}, phaseWritten: {}, phaseAnytime: {}}
	phases := []string{phaseHeld, phaseAnswered, phaseWritten, phaseAnytime}
	var follow []time.Duration
	refused := 0
	for i := range kills {
		c := commands[(i/len(phases))%len(commands)]
		phase := phases[i%len(phases)]
		res := results[phase]
		res.kills++
		rearm(t, store, key)
		before, emuBefore := g.Counts(), g.emu.Stats()
		from := w.mark()

		arrived := make(chan struct{}, 1)
		release := make(chan struct{})
		answered := make(chan time.Time, 1)
		if phase == phaseHeld {
			g.set(func() bool {
				arrived <- struct{}{}
				<-release
				return false
			}, nil)
		} else {
			g.set(nil, func(at time.Time) { answered <- at })
		}
		p := startToken(t, c, g, dir)
		killed, reached := false, true
		var delay time.Duration
		switch phase {
		case phaseAnytime:
			delay = time.Duration(rng.Int64N(int64(max(median(runs["8MB "+c.lang]), time.Millisecond))))
			time.Sleep(time.Until(p.start.Add(delay)))
			killed = p.kill()
		case phaseHeld:
			select {
			case <-arrived:
				delay = time.Duration(rng.Int64N(int64(5 * time.Millisecond)))
				time.Sleep(delay)
				killed = p.kill()
			case <-p.done:
				reached = false
			}
			close(release)
		case phaseAnswered:
			select {
			case at := <-answered:
				delay = time.Duration(rng.Int64N(int64(answeredWindow)))
				time.Sleep(time.Until(at.Add(delay)))
				killed = p.kill()
			case <-p.done:
				reached = answeredBefore(answered)
			}
		case phaseWritten:
			select {
			case at := <-answered:
				if ev, ok := w.await(from, time.Now().Add(30*time.Second), in(dir, entry, syscall.IN_MOVED_TO)); ok {
					delay = ev.at.Sub(at)
				}
				killed = p.kill()
			case <-p.done:
				reached = answeredBefore(answered)
			}
		}
		g.set(nil, nil)
		if !reached {
			now := g.Counts()
			t.Fatalf("kill %d (%s, %s): the process ended before its refresh reached the server (%d refresh requests answered, %d dropped since the kill began): %v",
				i, phase, c.lang, now.Refreshes-before.Refreshes, now.Dropped-before.Dropped, p)
		}
		if killed {
			res.hit++
		}
		w.sync()
		renamed := w.count(from, in(dir, entry, syscall.IN_MOVED_TO)) > 0
		spent := g.emu.Stats().Refreshes > emuBefore.Refreshes
		if renamed {
			res.renamed++
		}
		inWindow := spent && !renamed
		if inWindow {
			res.window++
		}

		// The store is readable, and a following token works without a
		// device flow.
		if _, err := store.Get(context.Background(), key); err != nil {
			t.Errorf("kill %d (%s, %s, %v): the store cannot be read: %v", i, phase, c.lang, delay, err)
		}
		fu := runToken(t, commands[0], g, dir)
		follow = append(follow, fu.end.Sub(fu.start))
		after, emuAfter := g.Counts(), g.emu.Stats()
		refused += (after.Refreshes - before.Refreshes) - (emuAfter.Refreshes - emuBefore.Refreshes)
		tok, ok := fu.token()
		lost := !ok
		if ok {
			cur, _ := stored(t, store, key)
			if cur.Token != tok || !strings.HasPrefix(tokenState(g, tok), "valid") {
				t.Errorf("kill %d (%s, %s): the following token printed a token that is not the stored, valid one (%s)", i, phase, c.lang, tokenState(g, tok))
			}
		}
		if d := after.DeviceCodes - before.DeviceCodes; d != 0 {
			t.Errorf("kill %d: %d device flows started by token", i, d)
		}
		if lost {
			res.lost++
			if inWindow {
				res.lostInWindow++
			} else {
				t.Errorf("kill %d (%s, %s, %v after the %s; killed: %v, server spent the old refresh token: %v, new entry renamed in: %v): the sign-in was lost: %v",
					i, phase, c.lang, delay.Round(10*time.Microsecond), map[string]string{phaseHeld: "arrival", phaseAnswered: "answer", phaseWritten: "answer", phaseAnytime: "start"}[phase], killed, spent, renamed, fu)
			}
			signIn(t, g, store)
		}
		checkPadding(t, store, 20)
		if t.Failed() && !full {
			break
		}
	}
	checkPadding(t, store, -1)

	lost, inWin, hit := 0, 0, 0
	for _, ph := range phases {
		r := results[ph]
		lost += r.lost
		inWin += r.lostInWindow
		hit += r.hit
		t.Logf("%-8s %3d kills (%d hit a running process): %d lost sign-ins (%d of them killed between the server's answer and the rename of the new entry, where no client can keep it; %d kills landed there), new entry renamed in before the kill %d times",
			ph, r.kills, r.hit, r.lost, r.lostInWindow, r.window, r.renamed)
	}
	t.Logf("kill -9 during a refresh with an 8 MB store: %d lost of %d kills (%d of them hit a running process; %d lost outside the unavoidable window); %d refresh requests refused as spent; following token: %s",
		lost, kills, hit, lost-inWin, refused, durations(follow))
}

// answeredBefore says whether the server had answered a refresh by the time
// the process ended.
func answeredBefore(answered chan time.Time) bool {
	select {
	case at := <-answered:
		answered <- at
		return true
	default:
		return false
	}
}

// paddingKey and paddingValue are the other entries of the padded store.
func paddingKey(i int) string { return fmt.Sprintf("reliability:padding:%05d", i) }

func paddingValue(i int) string {
	v := fmt.Sprintf("%05d:", i)
	return v + strings.Repeat("x", paddingBytes-len(v))
}

// pad writes the other entries straight in the v2 layout (no fsync: it is
// the test's set-up), and returns the total size of the entry files.
func pad(t *testing.T, dir string) int64 {
	t.Helper()
	var total int64
	for i := range paddingEntries {
		doc, err := json.Marshal(struct {
			Version int    `json:"version"`
			Key     string `json:"key"`
			Value   string `json:"value"`
		}{2, paddingKey(i), paddingValue(i)})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, entryName(paddingKey(i))+".json"), doc, 0o600); err != nil {
			t.Fatal(err)
		}
		total += int64(len(doc))
	}
	return total
}

// checkPadding checks n random other entries (every one, and the number of
// keys, when n < 0).
func checkPadding(t *testing.T, store *host.FileStore, n int) {
	t.Helper()
	ctx := context.Background()
	idx := make([]int, 0, paddingEntries)
	if n < 0 {
		keys, err := store.Keys(ctx)
		if err != nil {
			t.Fatalf("listing the store: %v", err)
		}
		if len(keys) != paddingEntries+1 {
			t.Errorf("the store holds %d entries, want %d", len(keys), paddingEntries+1)
		}
		for i := range paddingEntries {
			idx = append(idx, i)
		}
	} else {
		for range n {
			idx = append(idx, rand.IntN(paddingEntries))
		}
	}
	for _, i := range idx {
		if v, err := store.Get(ctx, paddingKey(i)); err != nil || v != paddingValue(i) {
			t.Fatalf("entry %d of the padding is damaged: %v", i, err)
		}
	}
}

// moveSignIn moves the current pair from one store to another.
func moveSignIn(t *testing.T, from, to *host.FileStore, key string) {
	t.Helper()
	ctx := context.Background()
	v, err := from.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := to.Set(ctx, key, v); err != nil {
		t.Fatal(err)
	}
	if err := from.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
}
