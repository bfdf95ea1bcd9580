package scheduler_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/host"
	"github.com/deviceflow/deviceflow/host/scheduler"
	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

// TestWallClockStepsBack: the node's wall clock (the scheduler's and the
// plugin's) steps back an hour while flows are pending, as NTP may at boot
// or a resumed VM's may. The flows keep polling at their interval and
// complete (the device codes would expire long before the wall clock
// caught up), with no poll early enough to draw a slow_down.
func TestWallClockStepsBack(t *testing.T) {
	t.Parallel()
	emu := newEmulator(t, func(c *deviceflowtest.Config) { c.AutoApprove = 6 })
	var back atomic.Int64 // how far the wall clock is behind, in ns
	t0 := time.Now()
	n := startNode(t, host.NewMemoryStore(), emu, "n1", func(c *scheduler.Config) {
		c.Host.Clock = func() time.Time { return time.Now().Add(-time.Duration(back.Load())) }
		c.Host.Monotonic = func() time.Duration { return time.Since(t0) }
	})
	const flows = 5
	for range flows {
		if _, _, err := n.s.Start(context.Background(), "acme", client()); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "two polls of every flow", 10*time.Second, func() bool { return emu.Stats().AccessToken >= 2*flows })
	back.Store(int64(time.Hour))
	stepped := time.Now()
	waitFor(t, "every flow to complete after the step", 20*time.Second, func() bool { return len(n.Results()) == flows })
	for _, r := range n.Results() {
		if r.State != scheduler.Complete {
			t.Errorf("flow %s ended %s: %v", r.ID, r.State, r.Err)
		}
	}
	if sd := emu.Stats().SlowDowns; sd != 0 {
		t.Errorf("%d slow_down answers: a poll went out early", sd)
	}
	t.Logf("all %d flows complete %v after the step", flows, time.Since(stepped).Round(time.Millisecond))
}
