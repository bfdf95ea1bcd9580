package flow

import (
	"encoding/json"
	"net/url"
	"strings"
)

// Suspend answers for a stepwise driver (the begin and poll exports) that
// stops at a sleep instead of sleeping: the state to pass to the next poll
// and when that poll may run.
func (m *Machine) Suspend() []byte {
	state, _ := json.Marshal(m)
	return marshal(map[string]any{
		"status":       "pending",
		"state":        json.RawMessage(state),
		"nextPollAt":   m.WakeAtMs,
		"interval":     secondsNumber(m.IntervalMs),
		"expiresAt":    m.DeadlineMs,
		"verification": json.RawMessage(m.Verification),
	})
}

// resume restores a flow from poll's input and delivers the wake-up.
func resume(in *Input, now int64) (*Machine, Effect) {
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
	return &m, m.dispatch(Event{Now: now})
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
	in := Input{ClientID: m.Config.ClientID, ClientType: m.Config.ClientType, BaseURL: m.Config.Base, Encoding: m.Config.Encoding}
	scopes, _ := json.Marshal(m.Config.Scopes)
	in.Scopes = scopes
	c, err := in.Configure()
	if err != nil || c.Endpoints != m.Config.Endpoints || c.CacheKey() != m.Config.CacheKey() {
		return bad("its configuration does not validate")
	}
	return nil
}

// withoutCredentials reports whether authorize must answer no credentials
// for a request: the two OAuth endpoints (octokit's hook sends them without
// any), and any absolute URL outside the configured GitHub's own origins, so
// a token never travels to another host. A relative URL is a route against
// the API.
func withoutCredentials(c *Config, rawURL string) (bool, *Error) {
	if strings.TrimSpace(rawURL) == "" {
		return false, invalidInput("url", "missing: pass the URL of the request to authorize")
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return false, invalidInput("url", "not a URL")
	}
	path := strings.TrimRight(u.Path, "/")
	if path == "/login/device/code" || path == "/login/oauth/access_token" {
		return true, nil
	}
	if u.Host == "" {
		return false, nil
	}
	origin := strings.ToLower(u.Scheme + "://" + u.Host)
	return !strings.HasPrefix(c.API+"/", origin+"/") && origin != c.Base, nil
}

func marshal(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
