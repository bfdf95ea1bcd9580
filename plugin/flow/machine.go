package flow

import (
	"encoding/json"
)

// Op names an export the engine runs.
type Op string

// The engine's operations; info needs no machine.
const (
	OpAuthenticate Op = "authenticate"
	OpBegin        Op = "begin"
	OpPoll         Op = "poll"
	OpRefresh      Op = "refresh"
	OpCheck        Op = "check"
	OpLogout       Op = "logout"
	OpAuthorize    Op = "authorize"
)

// phase is what the machine waits for.
type phase string

const (
	phCacheRead  phase = "cacheRead"  // authenticate/authorize: cached entry
	phRefreshing phase = "refreshing" // refresh-token grant response
	phDeviceCode phase = "deviceCode" // device authorization response
	phWaiting    phase = "waiting"    // the wait before a poll
	phPolling    phase = "polling"    // access token response
	phRechecking phase = "rechecking" // re-reading the entry after bad_refresh_token
	phDropping   phase = "dropping"   // deleting a dead cached entry
	phStoring    phase = "storing"    // writing the new authentication
	phRefreshGet phase = "refreshGet" // refresh: cached entry
	phCheckGet   phase = "checkGet"   // check: cached entry
	phChecking   phase = "checking"   // GET /user response
	phLogoutGet  phase = "logoutGet"  // logout: cached entry
	phLogoutDel  phase = "logoutDel"  // logout: removal
	phDone       phase = "done"
)

// stateVersion guards serialised states against a plugin that reads them
// differently.
const stateVersion = 1

// Machine is one run of an export. Its exported fields are its whole state:
// a Machine marshalled to JSON and unmarshalled again continues where it
// stopped. Machines are not safe for concurrent use.
type Machine struct {
	V      int    `json:"v"`
	Op     Op     `json:"op"`
	Phase  phase  `json:"phase"`
	Config Config `json:"config"`
	// Awaiting is the kind of the last effect handed out.
	Awaiting EffectKind `json:"awaiting"`
	// Queue holds effects decided but not yet handed out.
	Queue []Effect `json:"queue,omitempty"`

	// The device flow in progress.
	DeviceCode   string          `json:"deviceCode,omitempty"`
	Verification json.RawMessage `json:"verification,omitempty"`
	IntervalMs   int64           `json:"intervalMs,omitempty"`
	DeadlineMs   int64           `json:"deadline,omitempty"`
	WakeAtMs     int64           `json:"wakeAt,omitempty"`
	Failures     int             `json:"failures,omitempty"`
	Attempts     int             `json:"attempts,omitempty"`
	EarlyWakes   int             `json:"earlyWakes,omitempty"`

	// Result is the authentication being stored before it is returned.
	Result *Authentication `json:"-"`
	// pending is the error refresh returns once a dead entry is dropped.
	pending *Error
	// sentRefresh is the refresh token the last refresh grant spent.
	sentRefresh string
	// noFlow forbids starting a device flow (input interactive: false).
	noFlow bool
	// token is the token check asks about.
	token string
	// secrets are the tokens this run has handled (sent, read or about to
	// store): whatever their shape, they are masked in events and errors.
	secrets []string
}

// Start begins op with the export's raw JSON input at host time now. It
// returns the machine and its first effect. Bad input ends at once with an
// invalid_input failure and a nil machine.
func Start(op Op, raw []byte, now int64) (*Machine, Effect) {
	in, err := ParseInput(raw)
	if err != nil {
		return nil, fail(err)
	}
	if op == OpPoll {
		return resume(in, now)
	}
	cfg, err := in.Configure()
	if err != nil {
		return nil, fail(err)
	}
	m := &Machine{V: stateVersion, Op: op, Config: *cfg}
	m.noFlow = in.Interactive != nil && !*in.Interactive && op != OpBegin
	key := cfg.CacheKey()
	switch op {
	case OpAuthorize:
		skip, err := withoutCredentials(cfg, in.URL)
		if err != nil {
			return nil, fail(err)
		}
		if skip {
			return m, m.out(done([]byte(`{"headers":{}}`)))
		}
		fallthrough
	case OpAuthenticate:
		if in.Refresh {
			return m, m.startDeviceFlow()
		}
		return m, m.read(phCacheRead, key)
	case OpBegin:
		return m, m.startDeviceFlow()
	case OpRefresh:
		return m, m.read(phRefreshGet, key)
	case OpCheck:
		if in.Token != "" {
			m.token = in.Token
			return m, m.checkToken()
		}
		return m, m.read(phCheckGet, key)
	case OpLogout:
		return m, m.read(phLogoutGet, key)
	}
	return nil, fail(invalidInput("export", "unknown export %q", clip(string(op), 20)))
}

// Step delivers the answer to the last effect and returns the next one.
func (m *Machine) Step(ev Event) Effect {
	if m == nil || m.Phase == phDone {
		return fail(errorf(CodeInvalidInput, "the flow has already ended: start a new one"))
	}
	switch m.Awaiting {
	case EffectSleep, EffectEmit:
		if ev.Cancelled {
			return m.fail(errorf(CodeCancelled, "cancelled: the flow was stopped before it finished"))
		}
	case EffectRequest:
		if ev.Response == nil {
			return m.fail(errorf(CodeInvalidResponse, "the host answered a request with nothing"))
		}
	}
	if len(m.Queue) > 0 {
		next := m.Queue[0]
		m.Queue = m.Queue[1:]
		return m.out(next)
	}
	return m.dispatch(ev)
}

// dispatch handles the event that answers the last effect of a batch.
func (m *Machine) dispatch(ev Event) Effect {
	if ev.StoreError != "" {
		return m.fail(&Error{Code: CodeStore, Message: "the token store failed: " + redact(clip(ev.StoreError, 300)) + ". Fix the store or choose another one."})
	}
	switch m.Phase {
	case phCacheRead:
		return m.onCacheRead(ev)
	case phRefreshing:
		return m.onRefreshResponse(ev)
	case phDeviceCode:
		return m.onDeviceCode(ev)
	case phWaiting:
		return m.onWake(ev)
	case phPolling:
		return m.onTokenResponse(ev)
	case phRechecking:
		return m.onRecheck(ev)
	case phDropping:
		if m.Op == OpRefresh {
			return m.fail(m.pending)
		}
		return m.startDeviceFlow()
	case phStoring:
		return m.finish(m.Result)
	case phRefreshGet:
		return m.onRefreshGet(ev)
	case phCheckGet:
		return m.onCheckGet(ev)
	case phChecking:
		return m.onUser(ev)
	case phLogoutGet:
		if !ev.Found {
			return m.out(done([]byte(`{"removed":false}`)))
		}
		m.Phase = phLogoutDel
		return m.out(Effect{Kind: EffectStoreDelete, Key: m.Config.CacheKey()})
	case phLogoutDel:
		return m.out(done([]byte(`{"removed":true}`)))
	}
	return m.fail(errorf(CodeInvalidInput, "the flow state is corrupt (phase %q): start a new flow", clip(string(m.Phase), 20)))
}

// out hands an effect to the driver, remembering what it awaits.
func (m *Machine) out(e Effect) Effect {
	m.Awaiting = e.Kind
	if e.Terminal() {
		m.Phase = phDone
		m.Queue = nil
		m.Result = nil
		if e.Err != nil {
			// Rule 10: every text field of an error, as a server may echo a
			// token into any of them.
			e.Err.Message = m.redact(e.Err.Message)
			e.Err.OAuthError = m.redact(e.Err.OAuthError)
			e.Err.Description = m.redact(e.Err.Description)
			e.Err.URI = m.redact(e.Err.URI)
		}
	}
	if e.Kind == EffectEmit {
		e.Event = []byte(m.redact(string(e.Event)))
	}
	return e
}

// remember adds tokens to the secrets this run masks.
func (m *Machine) remember(tokens ...string) {
	m.secrets = append(m.secrets, tokens...)
}

// redact masks the run's own secrets, then anything shaped like a GitHub
// token.
func (m *Machine) redact(s string) string {
	return redact(redactSecrets(s, m.secrets))
}

// batch queues effects and hands out the first, setting the phase that
// handles the answer to the last.
func (m *Machine) batch(p phase, effects ...Effect) Effect {
	m.Phase = p
	m.Queue = append(m.Queue[:0], effects[1:]...)
	return m.out(effects[0])
}

func (m *Machine) fail(err *Error) Effect { return m.out(fail(err)) }

func (m *Machine) read(p phase, key string) Effect {
	return m.batch(p, Effect{Kind: EffectStoreGet, Key: key})
}

// finish ends a successful run, shaping the result for the export.
func (m *Machine) finish(a *Authentication) Effect {
	switch m.Op {
	case OpAuthorize:
		b, _ := json.Marshal(map[string]any{"headers": map[string]string{"authorization": "token " + a.Token}})
		return m.out(done(b))
	case OpBegin, OpPoll:
		b, _ := json.Marshal(map[string]any{"status": "complete", "authentication": a})
		return m.out(done(b))
	}
	return m.out(done(a.json()))
}

// store writes the new authentication before it is returned (rule 7).
func (m *Machine) store(a *Authentication, before ...Effect) Effect {
	m.Result = a
	m.remember(a.Token, a.RefreshToken)
	set := Effect{Kind: EffectStoreSet, Key: m.Config.CacheKey(), Value: string(a.json())}
	return m.batch(phStoring, append(before, set)...)
}
