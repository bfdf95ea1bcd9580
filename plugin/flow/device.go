package flow

import (
	"strconv"
	"strings"
)

// Defaults from RFC 8628 and GitHub's documentation.
const (
	// DefaultIntervalMs: RFC 8628 section 3.2: "If no value is provided,
	// clients MUST use 5 as the default."
	DefaultIntervalMs = 5000
	// DefaultExpiresInMs: GitHub's device codes live 900 seconds.
	DefaultExpiresInMs = 900000
	// SlowDownStepMs: RFC 8628 section 3.5: on slow_down "the interval MUST
	// be increased by 5 seconds for this and all subsequent requests".
	SlowDownStepMs = 5000
	// MaxBackoffMs caps the doubled wait after network faults (rule 4),
	// unless the interval itself is longer.
	MaxBackoffMs = 60000
	// maxEarlyWakes bounds the sleeps a host may cut short in a row before
	// the engine gives up on its clock instead of spinning.
	maxEarlyWakes = 100
)

// marginMs is the safety margin added to every wait (rule 2): a twentieth of
// the interval, so a host clock running up to 5% fast still waits the whole
// interval by the server's clock.
func marginMs(intervalMs int64) int64 { return (intervalMs + 19) / 20 }

// startDeviceFlow sends the device authorization request (RFC 8628 section
// 3.1). An OAuth App sends scope, space-joined and "" when empty; a GitHub
// App sends none (rule 1).
func (m *Machine) startDeviceFlow() Effect {
	if m.noFlow {
		return m.fail(errorf(CodeNotFound, "no usable cached token for this app and these scopes, and the call may not start a device flow: sign in first"))
	}
	c := &m.Config
	params := []param{{"client_id", c.ClientID}}
	if c.generic() && len(c.Requested) > 0 {
		// RFC 8628 section 3.1: scope is optional; sent when asked for.
		params = append(params, param{"scope", strings.Join(c.Requested, " ")})
	} else if c.ClientType == OAuthApp {
		// In the caller's order, as octokit sends it; the cache key sorts.
		scopes := c.Requested
		if scopes == nil {
			scopes = c.Scopes
		}
		params = append(params, param{"scope", strings.Join(scopes, " ")})
	}
	return m.batch(phDeviceCode, Effect{Kind: EffectRequest, Request: oauthPost(c, c.DeviceCodeURL(), params...)})
}

// onDeviceCode handles the device authorization response (RFC 8628 section
// 3.2).
func (m *Machine) onDeviceCode(ev Event) Effect {
	resp := ev.Response
	if e := transportError(resp); e != nil {
		return m.fail(e)
	}
	switch status := resp.Status; {
	case m.Config.generic():
		// RFC 8628 servers answer errors as HTTP 400 bodies, read below.
	case status == 401, status == 403, status == 404, status == 422:
		// Rule 5: GitHub answers these when the app cannot use the device flow.
		return m.fail(&Error{Code: CodeUnsupported, Status: resp.Status,
			Message: "GitHub refused the device code request (HTTP " + strconv.Itoa(resp.Status) + "). " + enableAdvice})
	}
	if e := serverTrouble(resp); e != nil {
		return m.fail(e)
	}
	f, ok := parseBody(resp)
	if !ok {
		return m.fail(badResponse(resp, "the device code response is neither JSON nor form data"))
	}
	if f.str("error") == "unauthorized_client" {
		// RFC 8628 section 3.1 answers with RFC 6749's errors: this client
		// may not use the device grant. GitHub CLI reads it as GitHub's
		// device_flow_disabled.
		e := oauthError(f, resp.Status)
		e.Code = CodeUnsupported
		e.Message += ". " + enableAdvice
		return m.fail(e)
	}
	if f.has("error") {
		return m.fail(oauthError(f, resp.Status))
	}
	if resp.Status < 200 || resp.Status > 299 {
		return m.fail(badResponse(resp, "the device code request failed"))
	}
	uri := f.str("verification_uri")
	if uri == "" {
		// Rule 8: some servers spell it verification_url.
		uri = f.str("verification_url")
	}
	if f.str("device_code") == "" || f.str("user_code") == "" || uri == "" {
		return m.fail(badResponse(resp, "the device code response lacks device_code, user_code or verification_uri"))
	}
	interval, ok1 := f.seconds("interval", DefaultIntervalMs)
	expires, ok2 := f.seconds("expires_in", DefaultExpiresInMs)
	if !ok1 || !ok2 {
		return m.fail(badResponse(resp, "the device code response has a malformed interval or expires_in"))
	}
	if interval <= 0 {
		interval = DefaultIntervalMs
	}
	if expires <= 0 {
		expires = DefaultExpiresInMs
	}
	m.DeviceCode = f.str("device_code")
	m.IntervalMs = interval
	// Rule 3: the deadline counts from the device code response, on the
	// monotonic clock (rule 4: waits never follow the wall clock's steps).
	m.DeadlineMs = ev.Mono + expires
	m.UserCode = f.str("user_code")
	m.VerificationURI = uri
	m.VerificationURIComplete = f.str("verification_uri_complete")
	m.ExpiresInMs = expires
	m.FirstIntervalMs = interval
	return m.schedule(ev.Mono, interval+marginMs(interval), Effect{Kind: EffectEmit, Event: m.verification()})
}

// verification is the verification event: the server's own fields, as
// octokit hands them to onVerification.
func (m *Machine) verification() []byte {
	return m.appendVerification(make([]byte, 0, 256))
}

// appendVerification writes the verification event to b.
func (m *Machine) appendVerification(b []byte) []byte {
	o := newObj(b)
	o.str("device_code", m.DeviceCode)
	o.seconds("expires_in", m.ExpiresInMs)
	o.seconds("interval", m.FirstIntervalMs)
	o.str("type", "verification")
	o.str("user_code", m.UserCode)
	o.str("verification_uri", m.VerificationURI)
	o.strOmit("verification_uri_complete", m.VerificationURIComplete)
	return o.close()
}

// appendSeconds writes milliseconds as a JSON number of seconds: 5, 0.05.
// A whole number of seconds is written as an integer, which is what
// strconv.AppendFloat(b, float64(ms)/1000, 'f', -1, 64) writes for it
// (exactly, below 2^53 ms), without its float formatting.
func appendSeconds(b []byte, ms int64) []byte {
	if ms%1000 == 0 && ms > -1<<53 && ms < 1<<53 {
		return strconv.AppendInt(b, ms/1000, 10)
	}
	return strconv.AppendFloat(b, float64(ms)/1000, 'f', -1, 64)
}

// schedule plans the next poll waitMs after now, a monotonic reading
// (rule 2), or ends the flow when that poll would fall on or after the
// deadline (rule 3).
func (m *Machine) schedule(now, waitMs int64, before ...Effect) Effect {
	wake := now + waitMs
	if wake >= m.DeadlineMs {
		expired := m.expired()
		if len(before) == 0 {
			return m.fail(expired)
		}
		// Hand out what was decided first (the verification event), then fail.
		return m.batch(phWaiting, append(before, fail(expired))...)
	}
	m.WakeAtMs, m.WaitMs = wake, waitMs
	return m.batch(phWaiting, append(before, Effect{Kind: EffectSleep, SleepMs: waitMs})...)
}

func (m *Machine) expired() *Error {
	return errorf(CodeExpiredToken, "the device code expired before it was authorized: run the flow again for a new code")
}

// onWake starts a poll once the wait is over, by the monotonic clock.
func (m *Machine) onWake(ev Event) Effect {
	if ev.Mono < m.WakeAtMs {
		// The host slept short (or poll was called early): wait the rest.
		m.EarlyWakes++
		if m.EarlyWakes > maxEarlyWakes && m.Op != OpPoll {
			return m.fail(errorf(CodeInvalidInput, "the host's sleep keeps returning before its clock reaches the wake time: fix the host's sleep or monotonic clock"))
		}
		return m.batch(phWaiting, Effect{Kind: EffectSleep, SleepMs: m.WakeAtMs - ev.Mono})
	}
	m.EarlyWakes = 0
	left := m.DeadlineMs - ev.Mono
	if left <= 0 {
		return m.fail(m.expired())
	}
	m.Attempts++
	o := newObj(make([]byte, 0, 96))
	o.int("attempt", int64(m.Attempts))
	o.seconds("interval", m.IntervalMs)
	o.int("remainingMs", left)
	o.str("type", "polling")
	polling := emit(o)
	// RFC 8628 section 3.4: the device access token request.
	req := oauthPost(&m.Config, m.Config.TokenURL(),
		param{"client_id", m.Config.ClientID},
		param{"device_code", m.DeviceCode},
		param{"grant_type", "urn:ietf:params:oauth:grant-type:device_code"})
	// Rule 4: no request outlives the deadline. The polling event may
	// block in the host for a while, so Step clamps it again to the time
	// left when it hands the request out.
	req.TimeoutMs = min(req.TimeoutMs, left)
	return m.batch(phPolling, polling, Effect{Kind: EffectRequest, Request: req})
}

// onTokenResponse handles one poll's answer (RFC 8628 section 3.5).
func (m *Machine) onTokenResponse(ev Event) Effect {
	resp := ev.Response
	if resp.Error != nil {
		if resp.Error.Kind == "denied" {
			return m.fail(transportError(resp))
		}
		return m.backoff(ev.Mono, resp.Error.Kind, 0, 0)
	}
	if resp.Status == 429 || resp.Status >= 500 {
		// Rule 4: back off and keep polling until the deadline.
		return m.backoff(ev.Mono, "http", resp.Status, retryAfterMs(resp))
	}
	f, ok := parseBody(resp)
	if !ok || (resp.Status >= 300 && resp.Status < 400) {
		// Rule 4: a proxy's error page, an empty or malformed body or a
		// redirect is transient, like a 5xx.
		return m.garbage(ev.Mono, resp, "the token response is neither JSON nor form data")
	}
	errCode := f.str("error")
	if errCode == "" && (resp.Status != 200 || f.str("access_token") == "") {
		return m.garbage(ev.Mono, resp, "the token response has neither an access_token nor an error")
	}
	m.Failures = 0
	m.Garbage = 0
	switch errCode {
	case "":
	case "authorization_pending":
		// "the authorization request is still pending as the end user hasn't
		// yet completed the user-interaction steps"
		return m.schedule(ev.Mono, m.IntervalMs+marginMs(m.IntervalMs))
	case "slow_down":
		// Rule 2: max(current + 5 s, the server's interval), for good.
		next := m.IntervalMs + SlowDownStepMs
		if s, ok := f.seconds("interval", 0); ok && s > next {
			next = s
		}
		m.IntervalMs = next
		o := newObj(nil)
		o.seconds("interval", next)
		o.str("type", "slow_down")
		slow := emit(o)
		return m.schedule(ev.Mono, next+marginMs(next), slow)
	default:
		return m.fail(oauthError(f, resp.Status))
	}
	a, err := tokenFromResponse(&m.Config, f, resp, ev.Now)
	if err != nil {
		return m.fail(err)
	}
	return m.store(a)
}

// maxGarbage is how many unusable answers in a row end polling with
// invalid_response (rule 4).
const maxGarbage = 3

// garbage backs off after an answer no client could use (rule 4): the third
// in a row ends the flow with invalid_response.
func (m *Machine) garbage(now int64, resp *Response, what string) Effect {
	m.Garbage++
	if m.Garbage >= maxGarbage {
		e := badResponse(resp, what)
		e.Message = strconv.Itoa(m.Garbage) + " unusable answers in a row while polling; the last: " + e.Message
		return m.fail(e)
	}
	return m.backoff(now, "invalid_response", resp.Status, 0)
}

// backoff doubles the wait after a network fault, timeout, 429, 5xx or an
// unusable answer (rule 4), honouring Retry-After when it asks for longer.
func (m *Machine) backoff(now int64, reason string, status int, retryMs int64) Effect {
	m.Failures++
	shift := m.Failures
	if shift > 4 {
		shift = 4
	}
	wait := m.IntervalMs << shift
	limit := int64(MaxBackoffMs)
	if m.IntervalMs > limit {
		limit = m.IntervalMs
	}
	if wait > limit {
		wait = limit
	}
	if retryMs > wait {
		wait = retryMs
	}
	wait += marginMs(m.IntervalMs)
	o := newObj(nil)
	o.str("reason", reason)
	o.intOmit("status", int64(status))
	o.str("type", "backoff")
	o.int("waitMs", wait)
	return m.schedule(now, wait, emit(o))
}

// retryAfterMs reads a Retry-After header given in seconds.
func retryAfterMs(resp *Response) int64 {
	s, err := strconv.ParseInt(resp.Header("retry-after"), 10, 64)
	if err != nil || s <= 0 || s > 3600 {
		return 0
	}
	return s * 1000
}

// transportError maps a response that never arrived.
func transportError(resp *Response) *Error {
	if resp.Error == nil {
		return nil
	}
	if resp.Error.Kind == "denied" {
		return &Error{Code: CodeHTTPDenied, Message: "the host refused the request: " + clip(resp.Error.Message, 200) + ". Allow the host or use its configured base URL."}
	}
	what := "could not reach the server"
	if resp.Error.Kind == "timeout" {
		what = "the request timed out"
	}
	return &Error{Code: CodeNetwork, Message: what + ": " + clip(resp.Error.Message, 200) + ". Check the network and try again."}
}

// serverTrouble maps 429 and 5xx outside polling, where retrying is the
// caller's choice.
func serverTrouble(resp *Response) *Error {
	if resp.Status == 429 || resp.Status >= 500 {
		return &Error{Code: CodeNetwork, Status: resp.Status,
			Message: "the server is unavailable (HTTP " + strconv.Itoa(resp.Status) + "): try again later"}
	}
	return nil
}

// badResponse is an invalid_response naming what was wrong, never quoting
// the body.
func badResponse(resp *Response, what string) *Error {
	msg := what
	if resp.Status != 0 && resp.Status != 200 {
		msg += " (HTTP " + strconv.Itoa(resp.Status) + ")"
	}
	return &Error{Code: CodeInvalidResponse, Status: resp.Status, Message: msg + ": the server did not answer as GitHub does"}
}
