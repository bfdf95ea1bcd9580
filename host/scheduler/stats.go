package scheduler

import (
	"sync/atomic"
	"time"
)

// Stats are a node's counters since New.
type Stats struct {
	// Flows is how many flows the node holds now (pending or ended and
	// not yet removed).
	Flows int
	// Started counts Start calls that began a flow; Polls the poll calls
	// sent through the plugin; SlowDowns the slow_down answers the plugin
	// reported; Early the polls the engine found early (it sent nothing).
	Started, Polls, SlowDowns, Early int64
	// Completed, Failed and Cancelled count the flows this node ended.
	Completed, Failed, Cancelled int64
	// Claimed counts flows taken over from dead nodes (or handed over);
	// Recovered the flows whose token a dead node had stored but not
	// recorded; Lost the flows this node dropped because another node took
	// them or they were cancelled elsewhere.
	Claimed, Recovered, Lost int64
	// Busy counts the due flows that found every worker busy and as many
	// flows already waiting for one: polls late because Config.Workers
	// caps the calls under way (the node logs it, at most once a minute).
	Busy int64
	// Lateness is the distribution of how late polls started after their
	// due time.
	Lateness Latency
}

// Latency is a histogram of lateness with 1 ms buckets up to 10 s.
type Latency struct {
	counts [latencyBuckets]int64
	n      int64
	max    time.Duration
}

const latencyBuckets = 10001

// Count is the number of polls measured.
func (l *Latency) Count() int64 { return l.n }

// Max is the largest lateness seen.
func (l *Latency) Max() time.Duration { return l.max }

// Quantile is the lateness that a fraction q (0..1) of polls did not
// exceed, to the millisecond (10 s for anything beyond).
func (l *Latency) Quantile(q float64) time.Duration {
	if l.n == 0 {
		return 0
	}
	want := int64(q*float64(l.n) + 0.5)
	want = max(want, 1)
	var seen int64
	for i, c := range l.counts {
		seen += c
		if seen >= want {
			return time.Duration(i) * time.Millisecond
		}
	}
	return l.max
}

// Sub is l minus an earlier snapshot: the polls between the two.
func (l Latency) Sub(earlier Latency) Latency {
	out := l
	for i := range out.counts {
		out.counts[i] -= earlier.counts[i]
	}
	out.n -= earlier.n
	return out
}

// counters are Stats kept with atomics.
type counters struct {
	started, polls, slowDowns, early atomic.Int64
	completed, failed, cancelled     atomic.Int64
	claimed, recovered, lost         atomic.Int64
	busy                             atomic.Int64
	lateness                         [latencyBuckets]atomic.Int64
	latenessN, latenessMax           atomic.Int64
}

func (c *counters) late(d time.Duration) {
	d = max(d, 0)
	ms := int64(d / time.Millisecond)
	c.lateness[min(ms, latencyBuckets-1)].Add(1)
	c.latenessN.Add(1)
	for {
		m := c.latenessMax.Load()
		if int64(d) <= m || c.latenessMax.CompareAndSwap(m, int64(d)) {
			break
		}
	}
}

func (c *counters) snapshot() Stats {
	st := Stats{
		Started: c.started.Load(), Polls: c.polls.Load(), SlowDowns: c.slowDowns.Load(), Early: c.early.Load(),
		Completed: c.completed.Load(), Failed: c.failed.Load(), Cancelled: c.cancelled.Load(),
		Claimed: c.claimed.Load(), Recovered: c.recovered.Load(), Lost: c.lost.Load(), Busy: c.busy.Load(),
	}
	for i := range c.lateness {
		st.Lateness.counts[i] = c.lateness[i].Load()
	}
	st.Lateness.n = c.latenessN.Load()
	st.Lateness.max = time.Duration(c.latenessMax.Load())
	return st
}
