package flow

// onCacheRead decides what a cached entry is good for (rule 7): hand it
// out, refresh it, or run a new device flow.
func (m *Machine) onCacheRead(ev Event) Effect {
	if !ev.Found {
		return m.startDeviceFlow()
	}
	a := decodeCached(&m.Config, ev.Value)
	if a == nil {
		return m.startDeviceFlow()
	}
	switch a.freshness(ev.Now) {
	case fresh:
		return m.finish(a)
	case refreshable:
		return m.refreshWith(a)
	}
	return m.startDeviceFlow()
}

// refreshWith sends the refresh-token grant. Tokens from the device flow
// need no client secret.
func (m *Machine) refreshWith(a *Authentication) Effect {
	m.remember(a.Token, a.RefreshToken)
	m.sentRefresh = a.RefreshToken
	req := oauthPost(&m.Config, m.Config.TokenURL(),
		param{"client_id", m.Config.ClientID},
		param{"grant_type", "refresh_token"},
		param{"refresh_token", a.RefreshToken})
	return m.batch(phRefreshing, Effect{Kind: EffectRequest, Request: req})
}

// onRecheck handles the entry re-read after bad_refresh_token: a pair
// rotated by someone else is used; the dead entry is dropped.
func (m *Machine) onRecheck(ev Event) Effect {
	var a *Authentication
	if ev.Found {
		a = decodeCached(&m.Config, ev.Value)
	}
	if a != nil && a.RefreshToken != m.sentRefresh {
		m.remember(a.Token, a.RefreshToken)
		if m.Op == OpRefresh || a.freshness(ev.Now) == fresh {
			return m.finish(a)
		}
	}
	if a == nil && !ev.Found {
		if m.Op == OpRefresh {
			return m.fail(m.pending)
		}
		return m.startDeviceFlow()
	}
	return m.batch(phDropping, Effect{Kind: EffectStoreDelete, Key: m.Config.CacheKey()})
}

// onRefreshGet starts the refresh export.
func (m *Machine) onRefreshGet(ev Event) Effect {
	if !ev.Found {
		return m.fail(errorf(CodeNotFound, "no cached token to refresh: sign in first"))
	}
	a := decodeCached(&m.Config, ev.Value)
	if a == nil {
		return m.fail(errorf(CodeNotFound, "the cached entry is unreadable: sign in again"))
	}
	if a.RefreshToken == "" {
		return m.fail(errorf(CodeNotFound, "the cached token has no refresh token: only GitHub Apps with expiring tokens have one"))
	}
	return m.refreshWith(a)
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
		if e.Code != CodeBadRefreshToken {
			return m.fail(e)
		}
		// Another process sharing the store may have spent this refresh
		// token a moment ago and stored the new pair: read the entry again
		// before dropping it, so its fresh pair survives.
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
	refreshed := map[string]any{"type": "refreshed"}
	if a.ExpiresAt != "" {
		refreshed["expiresAt"] = a.ExpiresAt
	}
	return m.store(a, emit(refreshed))
}

// onCheckGet starts check with the cached token.
func (m *Machine) onCheckGet(ev Event) Effect {
	a := (*Authentication)(nil)
	if ev.Found {
		a = decodeCached(&m.Config, ev.Value)
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
	result := map[string]any{"valid": true, "login": f.str("login")}
	if h, ok := resp.lookup("x-oauth-scopes"); ok {
		result["scopes"] = NormalizeScopes([]string{h})
	}
	return m.out(done(marshal(result)))
}
