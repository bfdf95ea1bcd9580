package deviceflow

import (
	"context"
	"encoding/json"
	"time"

	"github.com/deviceflow/deviceflow/host"
)

// Pending is a device flow started by Begin and not complete yet: the step
// API, for event loops and platforms that run many flows at once. Pass it
// to Poll no sooner than NextPollAt. State holds the device code: keep a
// Pending as private as a token. A Pending is plain data (State is JSON), so
// it may be saved and polled later, even by another process.
type Pending struct {
	// State is the flow's opaque state, to pass back unchanged.
	State json.RawMessage
	// NextPollAt is when Poll may ask the server again; ExpiresAt is when
	// the device code expires.
	NextPollAt, ExpiresAt time.Time
	// Interval is the polling interval in force.
	Interval time.Duration
	// Verification is what to show the person: the code and the page.
	Verification *Verification
}

// Begin starts a device flow without waiting: it asks for a device code and
// answers at once with the Pending to show and poll. (OnVerification and
// OnEvent are called as for Token.)
func (c *Client) Begin(ctx context.Context, opts ...Option) (*Pending, error) {
	o := c.options(opts)
	out, err := c.call(ctx, "begin", c.input(o))
	if err != nil {
		return nil, err
	}
	p, _, err := decodeStep(out, nil)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, &Error{Code: ErrPlugin.Code, Message: "deviceflow: begin answered a complete flow"}
	}
	return p, nil
}

// Poll asks the server once, if p.NextPollAt has passed, and never sleeps.
// It answers the next Pending, or — once the person has approved — the
// Authentication, stored in the Store before it is returned. The engine
// applies slow_down, backoff and the deadline exactly as Token does.
func (c *Client) Poll(ctx context.Context, p *Pending) (*Pending, *Authentication, error) {
	if p == nil || len(p.State) == 0 {
		return nil, nil, &Error{Code: ErrInvalidInput.Code, Message: "invalid input: state: pass the Pending that Begin or Poll answered"}
	}
	in := c.input(c.options(nil))
	in.State = p.State
	out, err := c.call(ctx, "poll", in)
	if err != nil {
		return nil, nil, err
	}
	return decodeStep(out, p)
}

// decodeStep reads begin's or poll's answer: pending (keeping the previous
// verification when the answer has none) or complete.
func decodeStep(out []byte, prev *Pending) (*Pending, *Authentication, error) {
	var r struct {
		Status         string          `json:"status"`
		State          json.RawMessage `json:"state"`
		NextPollAt     int64           `json:"nextPollAt"`
		ExpiresAt      int64           `json:"expiresAt"`
		Interval       float64         `json:"interval"`
		Verification   json.RawMessage `json:"verification"`
		Authentication json.RawMessage `json:"authentication"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, nil, &Error{Code: ErrPlugin.Code, Message: "deviceflow: malformed step answer", Cause: err}
	}
	if r.Status == "complete" {
		a, err := decodeAuthentication(r.Authentication)
		return nil, a, err
	}
	p := &Pending{
		State:      r.State,
		NextPollAt: time.UnixMilli(r.NextPollAt),
		ExpiresAt:  time.UnixMilli(r.ExpiresAt),
		Interval:   seconds(r.Interval),
	}
	if len(r.Verification) > 0 {
		p.Verification = decodeEvent(host.Event{Type: "verification", JSON: r.Verification}).Verification
	} else if prev != nil {
		p.Verification = prev.Verification
	}
	return p, nil, nil
}
