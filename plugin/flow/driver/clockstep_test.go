package driver_test

import (
	"encoding/json"
	"testing"

	"github.com/deviceflow/deviceflow/plugin/flow"
	"github.com/deviceflow/deviceflow/plugin/flow/driver"
)

// pollAt runs poll at the host's clock and answers whether it sent a
// request and the poll time it planned.
func pollAt(t *testing.T, f *pollFuncs, in []byte) (sent bool, next int64, state []byte) {
	t.Helper()
	f.request = f.request[:0]
	out, err := driver.Run(flow.OpPoll, in, driver.FuncHost{F: f})
	if err != nil {
		t.Fatalf("poll: %s", err.JSON())
	}
	var ans struct {
		NextPollAt int64 `json:"nextPollAt"`
	}
	if err := json.Unmarshal(out, &ans); err != nil {
		t.Fatal(err)
	}
	return len(f.request) > 0, ans.NextPollAt, stateInput(t, out)
}

// TestClockSteppedBack: a state's next poll is planned on the wall clock,
// which may step back (or run behind on another node) before the poll. The
// wait then starts again from now instead of lasting until the wall clock
// catches up, which could outlast the device code; it is never shorter
// than the interval, and a poll called early without a step waits as
// planned.
func TestClockSteppedBack(t *testing.T) {
	f := &pollFuncs{now: 1_800_000_000_000}
	in := pollInput(t, f) // the first poll is due 5,250 ms after begin
	planned := f.now + 5250

	// Called 2 s early, with no step: nothing sent, the same poll time.
	f.now += 3250
	if sent, next, _ := pollAt(t, f, in); sent || next != planned {
		t.Errorf("an early poll: sent %v, next %d; want nothing sent and %d", sent, next, planned)
	}

	// The clock steps back an hour: the wait starts again (5,250 ms from
	// now), not an hour and five seconds.
	f.now -= 3_600_000
	sent, next, stepped := pollAt(t, f, in)
	if sent || next != f.now+5250 {
		t.Fatalf("after the step: sent %v, next %d (in %d ms); want nothing sent and a poll in 5250 ms", sent, next, next-f.now)
	}
	f.now = next
	if sent, next, _ := pollAt(t, f, stepped); !sent || next != f.now+5250 {
		t.Errorf("at the new poll time: sent %v, next in %d ms; want the grant sent and the next in 5250 ms", sent, next-f.now)
	}

	// A state written before waitMs existed keeps the old rule.
	var st map[string]any
	if err := json.Unmarshal(in[len(`{"state":`):len(in)-1], &st); err != nil {
		t.Fatal(err)
	}
	delete(st, "waitMs")
	old, _ := json.Marshal(map[string]any{"state": st})
	if sent, next, _ := pollAt(t, f, old); sent || next != planned {
		t.Errorf("a state without waitMs after the step: sent %v, next %d; want %d", sent, next, planned)
	}
}
