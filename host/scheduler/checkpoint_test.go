package scheduler_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/host"
	"github.com/deviceflow/deviceflow/host/scheduler"
)

// flowWrites is a MemoryStore that counts the compare-and-swaps of flow
// records.
type flowWrites struct {
	*host.MemoryStore
	n atomic.Int64
}

func (s *flowWrites) Swap(ctx context.Context, key string, old, new *string) (bool, *string, error) {
	if strings.Contains(key, ":flow:") {
		s.n.Add(1)
	}
	return s.MemoryStore.Swap(ctx, key, old, new)
}

// A pending flow's record is written once per Checkpoint, not after every
// poll; with a negative Checkpoint, after every poll. Either way the flow
// ends as it should, and a node that takes it over from the lagging
// record polls it no sooner than the interval (no slow_down).
func TestCheckpoint(t *testing.T) {
	for _, tc := range []struct {
		name       string
		checkpoint time.Duration
		// most writes per poll
		most float64
	}{
		// Lease 3 s + checkpoint 1.5 s: the polls of the 2.3 s before the
		// lease's last usable moment go unwritten (some 11 at 200 ms).
		{"default", 0, 0.25},
		{"every poll", -1, 1.1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			emu := newEmulator(t, nil)
			store := &flowWrites{MemoryStore: host.NewMemoryStore()}
			edit := func(c *scheduler.Config) { c.Checkpoint = tc.checkpoint }
			a := startNode(t, store, emu, "a", edit)
			ctx := context.Background()
			id, v, err := a.s.Start(ctx, "t", client())
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(25 * testInterval)
			polls := grant(t, emu, v.UserCode).Polls
			writes := store.n.Load() - 1 // the first, Start's
			t.Logf("%d polls, %d writes of the record", polls, writes)
			if polls < 15 || float64(writes) > tc.most*float64(polls) {
				t.Fatalf("%d polls, %d writes: want at most %.2f per poll", polls, writes, tc.most)
			}
			if tc.checkpoint < 0 && int(writes) < polls-1 {
				t.Fatalf("%d polls, %d writes: want one per poll", polls, writes)
			}
			// a dies with its record behind; b takes the flow over.
			b := startNode(t, store, emu, "b", edit)
			a.kill(t)
			if err := emu.Approve(v.UserCode); err != nil {
				t.Fatal(err)
			}
			wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			r, err := b.s.Wait(wctx, id)
			if err != nil || r.State != scheduler.Complete {
				t.Fatalf("after the takeover: %+v %v", r, err)
			}
			if st := emu.Stats(); st.SlowDowns != 0 || st.TokensIssued != 1 {
				t.Fatalf("emulator: %d slow_down, %d tokens", st.SlowDowns, st.TokensIssued)
			}
		})
	}
}
