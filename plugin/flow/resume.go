package flow

import (
	"strings"
	"sync/atomic"

	"github.com/tidwall/gjson"
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
	wake := m.WakeAtMs + m.wallOffset
	deadline := m.DeadlineMs + m.wallOffset
	o := newObj(make([]byte, 0, 1024))
	o.int("expiresAt", deadline)
	o.seconds("interval", m.IntervalMs)
	o.int("nextPollAt", wake)
	o.key("state")
	o.b = m.appendState(o.b, wake, deadline)
	o.str("status", "pending")
	o.key("verification")
	o.b = m.appendVerification(o.b)
	return o.close()
}

// stateFields are the members of a state, in the order appendState writes
// them; configFields those of its config.
var (
	stateFields  = []string{"v", "config", "deviceCode", "userCode", "uri", "uriComplete", "expiresInMs", "firstIntervalMs", "intervalMs", "deadline", "wakeAt", "failures", "garbage", "attempts", "earlyWakes", "waitMs"}
	configFields = []string{"clientId", "clientType", "scopes", "encoding", "base", "oauth",
		"profile", "issuer", "deviceEndpoint", "tokenEndpoint", "userinfoEndpoint", "revocationEndpoint", "discover", "discovered", "postSecret"}
)

// appendState writes the state of a flow waiting for its next poll: what
// the configuration is, the device code response's fields, the interval in
// force, the wall-clock deadline and wake-up, and the counters. A state is
// always waiting for a poll, so its phase, the effect it awaits and the
// export are not written; the API URL follows from the base URL.
func (m *Machine) appendState(b []byte, wake, deadline int64) []byte {
	o := newObj(b)
	o.int("v", stateVersion)
	o.key("config")
	if m.configJSON != nil {
		o.b = append(o.b, m.configJSON...)
	} else {
		o.b = appendConfig(o.b, &m.Config)
	}
	o.str("deviceCode", m.DeviceCode)
	o.str("userCode", m.UserCode)
	o.str("uri", m.VerificationURI)
	o.strOmit("uriComplete", m.VerificationURIComplete)
	o.int("expiresInMs", m.ExpiresInMs)
	o.int("firstIntervalMs", m.FirstIntervalMs)
	o.int("intervalMs", m.IntervalMs)
	o.int("deadline", deadline)
	o.int("wakeAt", wake)
	o.intOmit("failures", int64(m.Failures))
	o.intOmit("garbage", int64(m.Garbage))
	o.intOmit("attempts", int64(m.Attempts))
	o.intOmit("earlyWakes", int64(m.EarlyWakes))
	o.intOmit("waitMs", m.WaitMs)
	return o.close()
}

// appendConfig writes a state's configuration.
func appendConfig(b []byte, c *Config) []byte {
	cfg := newObj(b)
	cfg.str("clientId", c.ClientID)
	cfg.str("clientType", c.ClientType)
	cfg.strs("scopes", c.Scopes)
	cfg.str("encoding", c.Encoding)
	cfg.str("base", c.Base)
	cfg.strOmit("oauth", c.OAuth)
	// A generic server's endpoints (never its client secret: poll's input
	// names it again).
	c.GenericEndpoints.write(&cfg)
	return cfg.close()
}

// resume restores a flow from poll's input and delivers the wake-up.
func resume(in *Input, now, mono int64) (*Machine, Effect) {
	if len(in.State) == 0 {
		return nil, fail(invalidInput("state", "missing: pass the state that begin or the last poll answered"))
	}
	st := in.state
	if st.Raw == "" {
		if !gjson.ValidBytes(in.State) {
			return nil, fail(invalidInput("state", "not a flow state: malformed JSON"))
		}
		st = gjson.ParseBytes(in.State)
	}
	m, err := parseState(st)
	if err != nil {
		return nil, fail(err)
	}
	m.Op = OpPoll
	m.wallOffset = now - mono
	m.WakeAtMs -= m.wallOffset
	m.DeadlineMs -= m.wallOffset
	if m.WaitMs > 0 && m.WakeAtMs-mono > m.WaitMs {
		// The poll is further off than the wait that planned it: this
		// host's wall clock is behind the one that wrote the state (it
		// stepped back, or another node's runs ahead). Waiting for the
		// wall clock to catch up could outlast the device code (rule 3),
		// so the wait starts again from now: never earlier than the
		// interval after the last poll, which happened before now.
		m.WakeAtMs = mono + m.WaitMs
	}
	// A generic server's client secret never travels in the state: poll's
	// input names it again.
	m.Config.ClientSecret = in.ClientSecret
	m.remember(m.Config.secrets()...)
	if m.Config.Discovered {
		// This host may not have seen the discovery: name the origins
		// first, then wake.
		return m, m.batch(phWaiting, m.endpointsEvent())
	}
	return m, m.dispatch(Event{Now: now, Mono: mono})
}

// checkedConfig is a state's configuration that validated, by the JSON it
// was read from (config's raw value), with the JSON a state writes for it
// (appendConfig), which a flow suspended again copies.
type checkedConfig struct {
	raw    string
	config Config
	state  []byte
}

// lastConfig is the configuration the last state polled carried, once it
// validated. Many flows share one configuration (a host polls flows of the
// same app), and a state read again and again carries the same bytes each
// time: a state whose config is exactly these bytes has this Config, which
// parseState would derive and check from them again. Entries are never
// changed once stored, so goroutines running engines may share them.
var lastConfig atomic.Pointer[checkedConfig]

// parseState reads a state from outside and checks it before it drives
// requests.
func parseState(st gjson.Result) (*Machine, *Error) {
	if st.Type == gjson.Null {
		return nil, invalidInput("state", "missing: pass the state that begin or the last poll answered")
	}
	if !st.IsObject() {
		return nil, invalidInput("state", "not a flow state: it is a JSON "+jsonKind(st))
	}
	var (
		v, expires, first, interval, deadline, wake, failures, garbage, attempts, early, wait int64
		cin                                                                                   Input
		base                                                                                  string
		scopes                                                                                []string
		g                                                                                     GenericEndpoints
		m                                                                                     = &Machine{Phase: phWaiting, Awaiting: EffectSleep}
	)
	d := decoder{names: stateFields}
	ints := []*int64{6: &expires, 7: &first, 8: &interval, 9: &deadline, 10: &wake, 11: &failures, 12: &garbage, 13: &attempts, 14: &early, 15: &wait}
	// configs counts the config members and configVal is the last;
	// known is the checked configuration the first one's bytes name, if
	// any, used when no other follows.
	var (
		configs   int
		configVal gjson.Result
		known     *checkedConfig
	)
	decodeConfig := func(i int, val gjson.Result) {
		if val.Type == gjson.Null {
			return
		}
		if !val.IsObject() {
			d.mismatch(i, "object")
			return
		}
		cd := decoder{names: configFields}
		cd.each(val, func(j int, w gjson.Result) {
			switch j {
			case 0:
				cd.str(j, w, &cin.ClientID)
			case 1:
				cd.str(j, w, &cin.ClientType)
			case 2:
				cd.strList(j, w, &scopes)
			case 3:
				cd.str(j, w, &cin.Encoding)
			case 4:
				cd.str(j, w, &base)
			case 5:
				cd.str(j, w, &cin.OAuthURL)
			case 6:
				cd.str(j, w, &g.Profile)
			case 7:
				cd.str(j, w, &g.Issuer)
			case 8:
				cd.str(j, w, &g.Device)
			case 9:
				cd.str(j, w, &g.Token)
			case 10:
				cd.str(j, w, &g.Userinfo)
			case 11:
				cd.str(j, w, &g.Revocation)
			case 12:
				cd.boolean(j, w, &g.Discover)
			case 13:
				cd.boolean(j, w, &g.Discovered)
			case 14:
				cd.boolean(j, w, &g.PostSecret)
			}
		})
		if cd.bad != "" {
			d.mismatch(i, "object")
		}
	}
	d.each(st, func(i int, val gjson.Result) {
		switch i {
		case 0:
			d.integer(i, val, &v)
		case 1:
			configs++
			if configs == 1 {
				if p := lastConfig.Load(); p != nil && p.raw == val.Raw {
					// Decoded only if another config member follows.
					known, configVal = p, val
					return
				}
			} else if known != nil {
				// The members merge: decode the first, skipped, too.
				decodeConfig(i, configVal)
				known = nil
			}
			configVal = val
			decodeConfig(i, val)
		case 2:
			d.str(i, val, &m.DeviceCode)
		case 3:
			d.str(i, val, &m.UserCode)
		case 4:
			d.str(i, val, &m.VerificationURI)
		case 5:
			d.str(i, val, &m.VerificationURIComplete)
		default:
			d.integer(i, val, ints[i])
		}
	})
	if d.bad != "" {
		return nil, invalidInput("state", "not a flow state: field "+d.bad+" must be "+d.want)
	}
	bad := func(what string) *Error {
		return invalidInput("state", what+": pass the state begin or poll answered, unchanged")
	}
	if v != stateVersion {
		return nil, bad("written by another plugin version")
	}
	if m.DeviceCode == "" || m.UserCode == "" || m.VerificationURI == "" || expires <= 0 || first <= 0 || interval <= 0 || deadline <= 0 {
		return nil, bad("incomplete")
	}
	if configs == 1 && known != nil {
		m.Config, m.configJSON = known.config, known.state
	} else {
		c, err := checkConfig(cin, base, scopes, g)
		if err != nil {
			return nil, err
		}
		m.Config = *c
		if configs == 1 {
			m.configJSON = appendConfig(nil, c)
			lastConfig.Store(&checkedConfig{raw: strings.Clone(configVal.Raw), config: *c, state: m.configJSON})
		}
	}
	m.ExpiresInMs, m.FirstIntervalMs, m.IntervalMs = expires, first, interval
	m.DeadlineMs, m.WakeAtMs, m.WaitMs = deadline, wake, max(wait, 0)
	m.Failures, m.Garbage, m.Attempts, m.EarlyWakes = int(failures), int(garbage), int(attempts), int(early)
	return m, nil
}

// checkConfig validates a state's configuration as Configure validates an
// input: a state names the configuration it was begun with, which must
// come out of Configure unchanged.
func checkConfig(cin Input, base string, scopes []string, g GenericEndpoints) (*Config, *Error) {
	bad := func(what string) *Error {
		return invalidInput("state", what+": pass the state begin or poll answered, unchanged")
	}
	cin.BaseURL = base
	cin.Scopes = appendStrings(nil, scopes)
	if g.Profile == ProfileGeneric {
		cin.BaseURL = ""
		cin.Server = Server{Issuer: g.Issuer, DeviceEndpoint: g.Device, TokenEndpoint: g.Token, UserinfoEndpoint: g.Userinfo, RevocationEndpoint: g.Revocation}
	}
	c, err := cin.Configure()
	if err == nil && c.generic() {
		c.Discovered, c.PostSecret = g.Discovered, g.PostSecret
	}
	if err != nil || base != c.Base || c.GenericEndpoints != g || cin.OAuthURL != c.OAuth || cin.ClientID != c.ClientID || cin.Encoding != c.Encoding || cin.ClientType != c.ClientType ||
		strings.Join(scopes, ",") != strings.Join(c.Scopes, ",") {
		return nil, bad("its configuration does not validate")
	}
	c.Requested = nil // only a device code request uses it
	return c, nil
}
