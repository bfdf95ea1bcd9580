package flow

import (
	"strconv"

	"github.com/tidwall/gjson"
)

// onCacheRead decides what a cached entry is good for (rule 7): a fresh
// token is handed out at once; anything else (refresh it, or run a new
// device flow) happens under the cache key's lease.
func (m *Machine) onCacheRead(ev Event) Effect {
	if ev.Found {
		if a := decodeEntry(&m.Config, ev.Value); a != nil && a.freshness(ev.Now) == fresh {
			return m.finish(a)
		}
	}
	return m.lock()
}

// lock takes the lease on the cache key before a refresh token is spent or
// a device flow runs for it (rule 7), so that one credential is refreshed
// once across threads, processes and machines. The first attempt does not
// wait, so that a run that must wait says so first.
func (m *Machine) lock() Effect {
	return m.batch(phLockTry, Effect{Kind: EffectStoreLock, Key: m.Config.CacheKey(), TTLMs: leaseTTLMs})
}

// onLockTry reads the entry again once the lease is taken; when another
// holder has it, the run says it waits and waits.
func (m *Machine) onLockTry(ev Event) Effect {
	if !ev.Busy {
		return m.onLocked(ev)
	}
	wait := int64(leaseWaitMs)
	if m.noFlow || m.Op == OpRefresh || m.Op == OpLogout {
		wait = leaseWaitQuietMs
	}
	m.leaseGiveUp = ev.Mono + wait
	o := newObj(nil)
	o.str("reason", "lease")
	o.str("type", "waiting")
	o.int("waitMs", wait)
	waiting := emit(o)
	return m.batch(phLocking, waiting, m.lockWait(ev.Mono))
}

// lockWait asks for the lease again, waiting a short while at most: a run
// that waits re-reads the entry between attempts, so that when the holder
// has stored a fresh pair every waiter can use it at once instead of taking
// the lease in turn.
func (m *Machine) lockWait(mono int64) Effect {
	wait := max(min(leaseRecheckMs, m.leaseGiveUp-mono), 1)
	return Effect{Kind: EffectStoreLock, Key: m.Config.CacheKey(), WaitMs: wait, TTLMs: leaseTTLMs}
}

// onLocked re-reads the entry under the lease: whoever held it may have
// stored a new pair. While the lease stays busy, the entry is read without
// it until the run's wait is over.
func (m *Machine) onLocked(ev Event) Effect {
	if ev.Busy || ev.Lease == "" {
		m.lockTries++
		// A host whose lock answers busy at once while its clock stands
		// still would keep a run here forever: the tries are bounded too.
		if ev.Busy && ev.Mono < m.leaseGiveUp && m.lockTries <= maxLockTries {
			return m.read(phWaitRead, m.Config.CacheKey())
		}
		return m.fail(errorf(CodeStore, "another deviceflow run kept this sign-in busy too long (a device flow waiting for approval, or a stuck refresh): try again when it has finished"))
	}
	m.lease = ev.Lease
	return m.read(phLeasedRead, m.Config.CacheKey())
}

// onWaitRead hands out a fresh pair that the lease holder has stored (an
// authenticate or authorize run needs no lease for that), or waits on.
func (m *Machine) onWaitRead(ev Event) Effect {
	if ev.Found && (m.Op == OpAuthenticate || m.Op == OpAuthorize) && !m.fullFlow {
		if a := decodeEntry(&m.Config, ev.Value); a != nil && a.freshness(ev.Now) == fresh {
			return m.finish(a)
		}
	}
	return m.batch(phLocking, m.lockWait(ev.Mono))
}

// onLeasedRead acts on the entry read under the lease.
func (m *Machine) onLeasedRead(ev Event) Effect {
	m.held = found(ev)
	var a *Authentication
	if ev.Found {
		a = decodeEntry(&m.Config, ev.Value)
	}
	switch m.Op {
	case OpLogout:
		if !ev.Found {
			return m.out(done([]byte(`{"removed":false}`)))
		}
		m.revoke = a
		return m.batch(phLogoutDel, m.swap(m.held, nil))
	case OpRefresh:
		switch {
		case !ev.Found:
			return m.fail(errorf(CodeNotFound, "no cached token to refresh: sign in first"))
		case !gjson.Valid(ev.Value):
			return m.fail(damaged())
		case a == nil:
			return m.fail(errorf(CodeNotFound, "the cached entry is unreadable: sign in again"))
		case a.RefreshToken == "":
			return m.fail(errorf(CodeNotFound, "the cached token has no refresh token: only GitHub Apps with expiring tokens have one"))
		}
		return m.refreshWith(a)
	}
	if ev.Found && m.noFlow && !gjson.Valid(ev.Value) {
		// A call that may not sign in reports the damage; one that may
		// replaces the entry with a new sign-in (conditional on it).
		return m.fail(damaged())
	}
	if m.fullFlow || a == nil {
		return m.startDeviceFlow()
	}
	switch a.freshness(ev.Now) {
	case fresh:
		// Whoever held the lease refreshed it, or signed in.
		return m.finish(a)
	case refreshable:
		return m.refreshWith(a)
	}
	return m.startDeviceFlow()
}

// onLogoutDeleted ends logout, removing again whatever replaced the entry
// between the read and the removal.
func (m *Machine) onLogoutDeleted(ev Event) Effect {
	if !ev.Conflict || !ev.Found {
		// Removed, or removed meanwhile by someone else.
		return m.afterLogout()
	}
	m.swaps++
	if m.swaps >= maxSwapAttempts {
		return m.fail(errorf(CodeStore, "the token store kept changing under logout ("+strconv.Itoa(m.swaps)+" attempts): another program is rewriting the entry; try again"))
	}
	m.held = found(ev)
	return m.batch(phLogoutDel, m.swap(m.held, nil))
}

// refreshWith sends the refresh-token grant. Tokens from the device flow
// need no client secret.
func (m *Machine) refreshWith(a *Authentication) Effect {
	m.refreshes++
	m.remember(a.Token, a.RefreshToken)
	m.sentRefresh = a.RefreshToken
	req := oauthPost(&m.Config, m.Config.TokenURL(),
		param{"client_id", m.Config.ClientID},
		param{"grant_type", "refresh_token"},
		param{"refresh_token", a.RefreshToken})
	return m.batch(phRefreshing, Effect{Kind: EffectRequest, Request: req})
}

// onRecheck handles the entry re-read after bad_refresh_token: a pair
// stored by someone else since this run read it is used; the dead entry is
// removed, conditional on it still being the one whose refresh token died.
func (m *Machine) onRecheck(ev Event) Effect {
	cur := found(ev)
	if cur == nil {
		m.held = nil
		return m.afterDrop()
	}
	if m.held != nil && *cur == *m.held {
		return m.batch(phDropping, m.swap(m.held, nil))
	}
	return m.useReplacement(ev.Now, cur)
}

// useReplacement acts on a value another writer stored in place of the one
// this run spent: hand it out when fresh, refresh it once more when it can
// be, otherwise drop it and go on as for a dead entry.
func (m *Machine) useReplacement(now int64, cur *string) Effect {
	m.held = cur
	a := decodeEntry(&m.Config, *cur)
	if a != nil && a.RefreshToken != m.sentRefresh {
		m.remember(a.Token, a.RefreshToken)
		switch a.freshness(now) {
		case fresh:
			return m.finish(a)
		case refreshable:
			if m.refreshes < maxRefreshesPerCall {
				return m.refreshWith(a)
			}
		}
		if m.Op == OpRefresh {
			return m.finish(a)
		}
	}
	return m.batch(phDropping, m.swap(m.held, nil))
}

// onDropped goes on after the dead entry's conditional removal: refresh
// fails with bad_refresh_token, authenticate runs a new device flow. When
// the entry changed in between, the new value is considered instead.
func (m *Machine) onDropped(ev Event) Effect {
	if ev.Conflict && ev.Found {
		m.swaps++
		if m.swaps < maxSwapAttempts {
			return m.useReplacement(ev.Now, found(ev))
		}
	}
	m.held = nil
	return m.afterDrop()
}

func (m *Machine) afterDrop() Effect {
	if m.Op == OpRefresh {
		return m.fail(m.pending)
	}
	return m.startDeviceFlow()
}

// onRefreshResponse handles the refresh-token grant's answer. Refresh
// tokens are single use, so the new pair is stored before it is returned
// (rule 7); a dead refresh token drops the cached entry.
func (m *Machine) onRefreshResponse(ev Event) Effect {
	resp := ev.Response
	if e := transportError(resp); e != nil {
		return m.fail(e)
	}
	if e := serverTrouble(resp); e != nil {
		return m.fail(e)
	}
	f, ok := parseBody(resp)
	if !ok {
		return m.fail(badResponse(resp, "the refresh response is neither JSON nor form data"))
	}
	if f.has("error") {
		e := oauthError(f, resp.Status)
		if m.Config.generic() && e.OAuthError == "invalid_grant" {
			// RFC 6749 section 5.2: a refresh token that is invalid,
			// expired or revoked.
			e.Code = CodeBadRefreshToken
		}
		if e.Code != CodeBadRefreshToken {
			return m.fail(e)
		}
		// A writer that holds no lease may have spent this refresh token a
		// moment ago and stored the new pair: read the entry again before
		// dropping it, so its fresh pair survives.
		m.pending = e
		return m.read(phRechecking, m.Config.CacheKey())
	}
	if resp.Status != 200 {
		return m.fail(badResponse(resp, "the refresh request failed"))
	}
	a, err := tokenFromResponse(&m.Config, f, resp, ev.Now)
	if err != nil {
		return m.fail(err)
	}
	o := newObj(nil)
	o.strOmit("expiresAt", a.ExpiresAt)
	o.str("type", "refreshed")
	return m.store(a, emit(o))
}

// damaged is the store error for an entry under this run's key that is not
// JSON at all: a damaged store, reported as such rather than as "not signed
// in".
func damaged() *Error {
	return errorf(CodeStore, "the token store's entry for this app and these scopes is not valid JSON (the store is damaged): remove the entry (logout) or repair the store, then sign in again")
}

// onCheckGet starts check with the cached token.
func (m *Machine) onCheckGet(ev Event) Effect {
	if ev.Found && !gjson.Valid(ev.Value) {
		return m.fail(damaged())
	}
	a := (*Authentication)(nil)
	if ev.Found {
		a = decodeEntry(&m.Config, ev.Value)
	}
	if a == nil {
		return m.fail(errorf(CodeNotFound, "no cached token to check: sign in first"))
	}
	m.token = a.Token
	return m.checkToken()
}

// checkToken asks the API who the token belongs to.
func (m *Machine) checkToken() Effect {
	m.remember(m.token)
	if m.Config.generic() {
		return m.checkUserinfo()
	}
	req := &Request{
		Method: "GET",
		URL:    m.Config.UserURL(),
		Headers: map[string]string{
			"accept":        "application/vnd.github+json",
			"authorization": "token " + m.token,
			"user-agent":    UserAgent,
		},
		TimeoutMs: RequestTimeoutMs,
	}
	return m.batch(phChecking, Effect{Kind: EffectRequest, Request: req})
}

// onUser reads GET /user: 200 is a valid token with its login and the
// X-OAuth-Scopes it carries; 401 is an invalid one.
func (m *Machine) onUser(ev Event) Effect {
	resp := ev.Response
	if e := transportError(resp); e != nil {
		return m.fail(e)
	}
	if m.Config.generic() {
		return m.onUserinfo(resp)
	}
	switch resp.Status {
	case 401:
		return m.out(done([]byte(`{"valid":false}`)))
	case 200:
	default:
		if e := serverTrouble(resp); e != nil {
			return m.fail(e)
		}
		return m.fail(badResponse(resp, "GET /user failed"))
	}
	f, ok := parseJSONFields(resp.Body)
	if !ok || f.str("login") == "" {
		return m.fail(badResponse(resp, "GET /user answered no login"))
	}
	o := newObj(nil)
	o.str("login", f.str("login"))
	if h, ok := resp.headerOK("x-oauth-scopes"); ok {
		o.strs("scopes", SplitScopes(h))
	}
	o.bool("valid", true)
	return m.out(done(o.close()))
}
