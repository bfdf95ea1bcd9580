package flow

import "strconv"

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
	phCacheRead  phase = "cacheRead"  // authenticate/authorize: cached entry, no lease
	phLockTry    phase = "lockTry"    // the first, non-waiting lease attempt
	phLocking    phase = "locking"    // a waiting lease attempt
	phWaitRead   phase = "waitRead"   // the entry, read while another holder has the lease
	phLeasedRead phase = "leasedRead" // the entry, read again under the lease
	phRefreshing phase = "refreshing" // refresh-token grant response
	phDeviceCode phase = "deviceCode" // device authorization response
	phWaiting    phase = "waiting"    // the wait before a poll
	phPolling    phase = "polling"    // access token response
	phRechecking phase = "rechecking" // re-reading the entry after bad_refresh_token
	phDropping   phase = "dropping"   // removing a dead cached entry
	phStoreRead  phase = "storeRead"  // poll: the value the new token replaces
	phStoring    phase = "storing"    // writing the new authentication
	phCheckGet   phase = "checkGet"   // check: cached entry
	phChecking   phase = "checking"   // GET /user response
	phLogoutDel  phase = "logoutDel"  // logout: removal
	phDone       phase = "done"
)

// Lease timings (rule 7). A run that finds its cache key leased waits for
// the holder: long enough for a person to approve a device code when the
// run may start a flow itself, a minute (several refreshes) when it may not.
const (
	leaseWaitMs      = 16 * 60 * 1000
	leaseWaitQuietMs = 60 * 1000
	leaseTTLMs       = 16 * 60 * 1000
	// leaseRecheckMs is how long one lease attempt waits before the entry
	// is read again without the lease.
	leaseRecheckMs = 200
	// maxLockTries bounds the attempts of one wait (16 minutes of 200 ms
	// attempts, and some).
	maxLockTries        = leaseWaitMs/leaseRecheckMs + 100
	maxSwapAttempts     = 3
	maxRefreshesPerCall = 2
)

// stateVersion guards serialised states against a plugin that reads them
// differently. Version 2 is the compact state: the device code response's
// fields instead of the whole verification event, and nothing a waiting
// poll implies (its operation, phase and awaited effect, the API URL).
const stateVersion = 2

// Machine is one run of an export. Its exported fields are what a stepwise
// flow (begin, poll) needs to continue: a Machine suspended at a poll's wait,
// written as a state (Suspend) and restored by poll, continues where it
// stopped. The unexported fields live for one call only. Machines are not
// safe for concurrent use.
type Machine struct {
	Op     Op
	Phase  phase
	Config Config
	// Awaiting is the kind of the last effect handed out.
	Awaiting EffectKind
	// Queue holds effects decided but not yet handed out.
	Queue []Effect

	// The device flow in progress: the device code response's fields (the
	// verification event is made from them), the interval in force, and the
	// deadline and next wake-up on the monotonic clock.
	DeviceCode              string
	UserCode                string
	VerificationURI         string
	VerificationURIComplete string
	ExpiresInMs             int64
	FirstIntervalMs         int64
	IntervalMs              int64
	DeadlineMs              int64
	WakeAtMs                int64
	// WaitMs is the wait that set WakeAtMs, counted from the answer that
	// planned it: a resumed state's wake-up is never further off than it.
	WaitMs     int64
	Failures   int
	Garbage    int
	Attempts   int
	EarlyWakes int

	// Result is the authentication being stored before it is returned.
	Result *Authentication
	// pending is the error refresh returns once a dead entry is dropped.
	pending *Error
	// lease is the lease this run holds on its cache key, "" when none.
	lease string
	// leaseGiveUp is when (monotonic) a run waiting for the lease stops;
	// lockTries counts its attempts.
	leaseGiveUp int64
	lockTries   int
	// held is the stored value this run read under its lease (nil: none):
	// every replace or delete it makes is conditional on it.
	held *string
	// fullFlow makes the leased read go straight to a device flow
	// (authenticate with refresh: true).
	fullFlow bool
	// swaps and refreshes bound the retries of one call.
	swaps, refreshes int
	// wallOffset is wall time minus monotonic time at the last event: it
	// converts the monotonic deadlines to the wall times begin and poll
	// answer.
	wallOffset int64
	// configJSON is Config as a state writes it (appendConfig), when the
	// state it was read from named a configuration already checked; nil
	// when Config is to be written anew. Config never changes while a
	// poll runs (only discovery, before a device flow begins, changes it:
	// useDiscovered clears this).
	configJSON []byte
	// sentRefresh is the refresh token the last refresh grant spent.
	sentRefresh string
	// noFlow forbids starting a device flow (input interactive: false).
	noFlow bool
	// token is the token check asks about.
	token string
	// url is authorize's request URL.
	url string
	// discoveryOld is the discovery cache entry read (nil: none), which the
	// fetched document replaces; discoveryTry the place being fetched.
	discoveryOld *string
	discoveryTry int
	// revoke is the authentication logout removed, revoked next when the
	// server offers revocation.
	revoke *Authentication
	// secrets are the tokens this run has handled (sent, read or about to
	// store): whatever their shape, they are masked in events and errors.
	secrets []string
}

// Start begins op with the export's raw JSON input at host wall time now
// and monotonic time mono. It returns the machine and its first effect. Bad
// input ends at once with an invalid_input failure and a nil machine.
func Start(op Op, raw []byte, now, mono int64) (*Machine, Effect) {
	if op == OpPoll {
		in, err := ParseInput(raw)
		if err != nil {
			return nil, fail(err)
		}
		return resume(in, now, mono)
	}
	in, cfg, err := configureInput(raw)
	if err != nil {
		return nil, fail(err)
	}
	m := &Machine{Op: op, Config: *cfg, wallOffset: now - mono}
	m.noFlow = in.Interactive != nil && !*in.Interactive && op != OpBegin
	// octokit's refresh: true: a new device flow, under the lease.
	m.fullFlow = in.Refresh && (op == OpAuthenticate || op == OpAuthorize)
	m.token, m.url = in.Token, in.URL
	m.remember(cfg.secrets()...)
	switch op {
	case OpAuthenticate, OpAuthorize, OpBegin, OpRefresh, OpLogout, OpCheck:
	default:
		return nil, fail(invalidInput("export", "unknown export "+quote(clip(string(op), 20))))
	}
	if op == OpAuthorize && m.url == "" {
		return nil, fail(invalidInput("url", "missing: pass the URL of the request to authorize"))
	}
	if cfg.Discover {
		// A generic server's endpoints come from its issuer first.
		return m, m.discover()
	}
	return m, m.proceed()
}

// proceed runs the export once the endpoints are known.
func (m *Machine) proceed() Effect {
	key := m.Config.CacheKey()
	switch m.Op {
	case OpAuthorize:
		skip, err := withoutCredentials(&m.Config, m.url)
		if err != nil {
			return m.fail(err)
		}
		if skip {
			return m.out(done([]byte(`{"headers":{}}`)))
		}
		fallthrough
	case OpAuthenticate:
		if m.fullFlow {
			return m.lock()
		}
		return m.read(phCacheRead, key)
	case OpBegin:
		return m.startDeviceFlow()
	case OpRefresh, OpLogout:
		return m.lock()
	}
	// OpCheck
	if m.token != "" {
		return m.checkToken()
	}
	return m.read(phCheckGet, key)
}

// Step delivers the answer to the last effect and returns the next one.
func (m *Machine) Step(ev Event) Effect {
	if m == nil || m.Phase == phDone {
		return fail(errorf(CodeInvalidInput, "the flow has already ended: start a new one"))
	}
	m.wallOffset = ev.Now - ev.Mono
	switch m.Awaiting {
	case EffectSleep, EffectEmit, EffectStoreLock:
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
		if next.Kind == EffectRequest && m.Phase == phPolling {
			// Rule 4: the poll's timeout is the time left now.
			left := m.DeadlineMs - ev.Mono
			if left <= 0 {
				return m.fail(m.expired())
			}
			// The request is the one onWake queued: the machine's own.
			next.Request.TimeoutMs = min(next.Request.TimeoutMs, left)
		}
		return m.out(next)
	}
	if m.Awaiting == EffectStoreUnlock {
		// Only a terminal effect follows an unlock, and it was queued.
		return m.fail(errorf(CodeInvalidInput, "the flow state is corrupt (nothing after unlock): start a new flow"))
	}
	return m.dispatch(ev)
}

// dispatch handles the event that answers the last effect of a batch.
func (m *Machine) dispatch(ev Event) Effect {
	if ev.StoreError != "" {
		return m.fail(&Error{Code: CodeStore, Message: "the token store failed: " + redact(clip(ev.StoreError, 300)) + ". Fix the store or choose another one."})
	}
	switch m.Phase {
	case phDiscoveryRead:
		return m.onDiscoveryRead(ev)
	case phDiscovering:
		return m.onDiscoveryResponse(ev)
	case phDiscovered:
		return m.proceed()
	case phRevoking:
		return m.onRevoked(ev)
	case phCacheRead:
		return m.onCacheRead(ev)
	case phLockTry:
		return m.onLockTry(ev)
	case phLocking:
		return m.onLocked(ev)
	case phWaitRead:
		return m.onWaitRead(ev)
	case phLeasedRead:
		return m.onLeasedRead(ev)
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
		return m.onDropped(ev)
	case phStoreRead:
		return m.onStoreRead(ev)
	case phStoring:
		return m.onStored(ev)
	case phCheckGet:
		return m.onCheckGet(ev)
	case phChecking:
		return m.onUser(ev)
	case phLogoutDel:
		return m.onLogoutDeleted(ev)
	}
	return m.fail(errorf(CodeInvalidInput, "the flow state is corrupt (phase "+quote(clip(string(m.Phase), 20))+"): start a new flow"))
}

// out hands an effect to the driver, remembering what it awaits. A run
// that ends while it holds its lease releases it first.
func (m *Machine) out(e Effect) Effect {
	if e.Terminal() && m.lease != "" {
		unlock := Effect{Kind: EffectStoreUnlock, Key: m.Config.CacheKey(), Lease: m.lease}
		m.lease = ""
		m.Queue = []Effect{e}
		m.Awaiting = unlock.Kind
		return unlock
	}
	m.Awaiting = e.Kind
	if e.Terminal() {
		m.Phase = phDone
		m.Queue = nil
		m.Result = nil
		if e.Err != nil {
			e.Err = m.Config.genericError(e.Err)
			// Rule 10: every text field of an error, as a server may echo a
			// token into any of them.
			e.Err.Message = m.redact(e.Err.Message)
			e.Err.OAuthError = m.redact(e.Err.OAuthError)
			e.Err.Description = m.redact(e.Err.Description)
			e.Err.URI = m.redact(e.Err.URI)
		}
	}
	if e.Kind == EffectEmit {
		// An event is copied only when something in it is masked.
		s := string(e.Event)
		if r := m.redact(s); r != s {
			e.Event = []byte(r)
		}
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
		h := newObj(nil)
		h.str("authorization", m.Config.authScheme()+a.Token)
		o := newObj(nil)
		o.raw("headers", h.close())
		return m.out(done(o.close()))
	case OpBegin, OpPoll:
		o := newObj(nil)
		o.raw("authentication", a.json())
		o.str("status", "complete")
		return m.out(done(o.close()))
	}
	return m.out(done(a.json()))
}

// store writes the new authentication before it is returned (rule 7),
// conditional on the value it replaces: the one read under the lease, or
// (poll, which holds none) the one read just before.
func (m *Machine) store(a *Authentication, before ...Effect) Effect {
	m.Result = a
	m.remember(a.Token, a.RefreshToken, a.IDToken)
	if m.lease == "" {
		return m.batch(phStoreRead, append(before, Effect{Kind: EffectStoreGet, Key: m.Config.CacheKey()})...)
	}
	return m.batch(phStoring, append(before, m.swap(m.held, a))...)
}

// swap is the compare-and-swap of the cache entry from old to a's value
// (a nil: remove it).
func (m *Machine) swap(old *string, a *Authentication) Effect {
	e := Effect{Kind: EffectStoreSwap, Key: m.Config.CacheKey(), Old: old}
	if a != nil {
		v := string(a.stored())
		e.New = &v
	}
	return e
}

// onStoreRead writes poll's new authentication over the value just read.
func (m *Machine) onStoreRead(ev Event) Effect {
	return m.batch(phStoring, m.swap(found(ev), m.Result))
}

// onStored returns the authentication once it is stored. A conflict means
// another writer replaced the entry after it was read: the newly granted
// pair is the newest, so it is written over that value, a bounded number of
// times.
func (m *Machine) onStored(ev Event) Effect {
	if !ev.Conflict {
		return m.finish(m.Result)
	}
	m.swaps++
	if m.swaps >= maxSwapAttempts {
		return m.fail(errorf(CodeStore, "the token store kept changing under this write ("+strconv.Itoa(m.swaps)+" attempts): another program is rewriting the entry; try again"))
	}
	m.held = found(ev)
	return m.batch(phStoring, m.swap(m.held, m.Result))
}

// found is the value an answer carries, nil when none.
func found(ev Event) *string {
	if !ev.Found {
		return nil
	}
	v := ev.Value
	return &v
}
