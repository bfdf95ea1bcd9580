package flow

import (
	"encoding/json"
)

// Suspend answers for a stepwise driver (the begin and poll exports) that
// stops at a sleep instead of sleeping: the state to pass to the next poll
// and when that poll may run.
//
// Inside a call the engine measures the wait and the deadline on the host's
// monotonic clock; a state outlives the call (and may move to another
// process or machine), so it carries them as wall-clock Unix milliseconds,
// converted at the last event's reading of both clocks.
func (m *Machine) Suspend() []byte {
	s := *m
	s.WakeAtMs += m.wallOffset
	s.DeadlineMs += m.wallOffset
	state, _ := json.Marshal(&s)
	return marshal(map[string]any{
		"status":       "pending",
		"state":        json.RawMessage(state),
		"nextPollAt":   s.WakeAtMs,
		"interval":     secondsNumber(m.IntervalMs),
		"expiresAt":    s.DeadlineMs,
		"verification": json.RawMessage(m.Verification),
	})
}

// resume restores a flow from poll's input and delivers the wake-up.
func resume(in *Input, now, mono int64) (*Machine, Effect) {
	if len(in.State) == 0 {
		return nil, fail(invalidInput("state", "missing: pass the state that begin or the last poll answered"))
	}
	var m Machine
	if err := json.Unmarshal(in.State, &m); err != nil {
		return nil, fail(invalidInput("state", "not a flow state: %s", jsonProblem(err)))
	}
	if err := m.validResumable(); err != nil {
		return nil, fail(err)
	}
	m.Op = OpPoll
	m.wallOffset = now - mono
	m.WakeAtMs -= m.wallOffset
	m.DeadlineMs -= m.wallOffset
	// A generic server's client secret never travels in the state: poll's
	// input names it again.
	m.Config.ClientSecret = in.ClientSecret
	m.remember(m.Config.secrets()...)
	if m.Config.Discovered {
		// This host may not have seen the discovery: name the origins
		// first, then wake.
		return &m, m.batch(phWaiting, m.endpointsEvent())
	}
	return &m, m.dispatch(Event{Now: now, Mono: mono})
}

// validResumable checks a state from outside before it drives requests.
func (m *Machine) validResumable() *Error {
	bad := func(what string) *Error {
		return invalidInput("state", "%s: pass the state begin or poll answered, unchanged", what)
	}
	if m.V != stateVersion {
		return bad("written by another plugin version")
	}
	if m.Phase != phWaiting || m.Awaiting != EffectSleep || len(m.Queue) != 0 {
		return bad("not waiting for a poll")
	}
	if m.DeviceCode == "" || m.IntervalMs <= 0 || m.DeadlineMs <= 0 {
		return bad("incomplete")
	}
	in := Input{ClientID: m.Config.ClientID, ClientType: m.Config.ClientType, BaseURL: m.Config.Base, OAuthURL: m.Config.OAuth, Encoding: m.Config.Encoding}
	if g := m.Config.GenericEndpoints; g.Profile == ProfileGeneric {
		in.BaseURL = ""
		in.Server = Server{Issuer: g.Issuer, DeviceEndpoint: g.Device, TokenEndpoint: g.Token, UserinfoEndpoint: g.Userinfo, RevocationEndpoint: g.Revocation}
	}
	scopes, _ := json.Marshal(m.Config.Scopes)
	in.Scopes = scopes
	c, err := in.Configure()
	if err == nil && c.generic() {
		c.Discovered, c.PostSecret = m.Config.Discovered, m.Config.PostSecret
	}
	if err != nil || c.Endpoints != m.Config.Endpoints || c.CacheKey() != m.Config.CacheKey() {
		return bad("its configuration does not validate")
	}
	return nil
}

func marshal(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
