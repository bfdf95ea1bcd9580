package flow_test

import (
	"strings"
	"testing"

	"github.com/deviceflow/deviceflow/plugin/flow"
	"github.com/deviceflow/deviceflow/plugin/flow/driver"
)

// racingHost is a store shared with another process that refreshes the same
// entry while this run's refresh request is in flight.
type racingHost struct {
	scriptHost
	store    map[string]string
	requests []string
}

func (h *racingHost) HTTP(req *flow.Request) *flow.Response {
	h.requests = append(h.requests, req.URL)
	if strings.Contains(req.Body, "refresh_token") {
		// The other process spent the refresh token first and stored its pair.
		for k := range h.store {
			h.store[k] = entry("ghu_OtherProcessToken1", "ghr_OtherProcessRefresh1", "2026-01-01T08:00:00.000Z")
		}
		return jsonResp(200, `{"error":"bad_refresh_token","error_description":"The refresh token passed is incorrect or expired."}`)
	}
	return jsonResp(500, `{}`)
}
func (h *racingHost) StoreGet(k string) (string, bool, string) {
	v, ok := h.store[k]
	return v, ok, ""
}
func (h *racingHost) StoreSwap(k string, old, new *string) (bool, *string, string) {
	return mapSwap(h.store, k, old, new)
}

// mapSwap is a compare-and-swap over a map, as a store performs it.
func mapSwap(m map[string]string, k string, old, new *string) (conflict bool, current *string, failure string) {
	cur, ok := m[k]
	if ok != (old != nil) || (ok && cur != *old) {
		if ok {
			return true, &cur, ""
		}
		return true, nil, ""
	}
	if new == nil {
		delete(m, k)
	} else {
		m[k] = *new
	}
	return false, nil, ""
}

func entry(token, refresh, exp string) string {
	return `{"type":"token","tokenType":"oauth","clientType":"github-app","clientId":"Iv23.app","token":"` + token +
		`","refreshToken":"` + refresh + `","expiresAt":"` + exp + `","refreshTokenExpiresAt":"2026-06-01T00:00:00.000Z"}`
}

// Two processes sharing a store refresh the same expiring token at once:
// the loser's bad_refresh_token must not delete the winner's fresh pair.
func TestConcurrentRefreshKeepsTheWinnersPair(t *testing.T) {
	const key = "deviceflow:v1:https://github.com|github-app|Iv23.app|"
	for _, op := range []flow.Op{flow.OpAuthenticate, flow.OpRefresh} {
		h := &racingHost{store: map[string]string{key: entry("ghu_OldToken00001", "ghr_OldRefresh00001", "2026-01-01T00:01:00.000Z")}}
		out, err := driver.Run(op, []byte(`{"clientId":"Iv23.app","clientType":"github-app"}`), h)
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		if !strings.Contains(string(out), "ghu_OtherProcessToken1") {
			t.Errorf("%s: got %s, want the other process's token", op, out)
		}
		if !strings.Contains(h.store[key], "ghr_OtherProcessRefresh1") {
			t.Errorf("%s: store lost the fresh pair: %q", op, h.store[key])
		}
		if len(h.requests) != 1 {
			t.Errorf("%s: %d requests, want the one refresh: %v", op, len(h.requests), h.requests)
		}
	}
}
