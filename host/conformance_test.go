package host

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// vector is one conformance scenario (wit/conformance/README.md).
type vector struct {
	Name          string            `json:"name"`
	Description   string            `json:"description"`
	Rules         []int             `json:"rules"`
	Export        string            `json:"export"`
	Input         json.RawMessage   `json:"input"`
	Clock         int64             `json:"clock"`
	MonoClock     int64             `json:"monoClock"`
	WallSteps     []wallStep        `json:"wallSteps"`
	Store         map[string]string `json:"store"`
	OtherLease    *otherLease       `json:"otherLease"`
	Exchanges     []exchange        `json:"exchanges"`
	Sleeps        []int64           `json:"sleeps"`
	CancelAtSleep int               `json:"cancelAtSleep"`
	CancelAtEvent string            `json:"cancelAtEvent"`
	Events        []json.RawMessage `json:"events"`
	StoreAfter    map[string]string `json:"storeAfter"`
	Result        json.RawMessage   `json:"result"`
	Error         *expectedError    `json:"error"`
	Calls         []call            `json:"calls"`
}

// wallStep moves the wall clock alone when a sleep finishes.
type wallStep struct {
	AtSleep int   `json:"atSleep"`
	Ms      int64 `json:"ms"`
}

// otherLease is a lease another holder has when the call starts.
type otherLease struct {
	Key    string             `json:"key"`
	Writes map[string]*string `json:"writes"`
}

type call struct {
	Export    string          `json:"export"`
	Input     json.RawMessage `json:"input"`
	Result    json.RawMessage `json:"result"`
	Error     *expectedError  `json:"error"`
	AdvanceMs int64           `json:"advanceMs"`
}

type exchange struct {
	Request struct {
		Method        string            `json:"method"`
		URL           string            `json:"url"`
		Headers       map[string]string `json:"headers"`
		AbsentHeaders []string          `json:"absentHeaders"`
		JSON          json.RawMessage   `json:"json"`
		Form          map[string]string `json:"form"`
		Body          *string           `json:"body"`
		TimeoutMs     *int64            `json:"timeoutMs"`
	} `json:"request"`
	Response *struct {
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"`
		JSON    json.RawMessage   `json:"json"`
		Body    *string           `json:"body"`
	} `json:"response"`
	Fault       string             `json:"fault"`
	AdvanceMs   int64              `json:"advanceMs"`
	StoreWrites map[string]*string `json:"storeWrites"`
}

type expectedError struct {
	Code            string  `json:"code"`
	Message         *string `json:"message"`
	MessageContains string  `json:"messageContains"`
	Error           *string `json:"error"`
	Description     *string `json:"description"`
	URI             *string `json:"uri"`
	Status          *int    `json:"status"`
}

const (
	defaultClock     = 1767225600000
	defaultMonoClock = 1000000000
)

// TestConformance plays every vector in wit/conformance/vectors through the
// real wasm in this host.
func TestConformance(t *testing.T) {
	files, err := filepath.Glob("../wit/conformance/vectors/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no vectors found: %v", err)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			playVector(t, name, raw)
		})
	}
}

// scripted is the vector's HTTP server.
type scripted struct {
	t         *testing.T
	mu        sync.Mutex
	exchanges []exchange
	next      int
	failures  []string
	advance   func(ms int64)
	origin    string
	store     *MemoryStore
	// timeouts are the timeoutMs the plugin asked for, request by request.
	timeouts []int64
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	if s.next >= len(s.exchanges) {
		s.failures = append(s.failures, fmt.Sprintf("unexpected request %d: %s %s", s.next+1, r.Method, r.URL))
		s.mu.Unlock()
		w.WriteHeader(500)
		return
	}
	ex := s.exchanges[s.next]
	s.next++
	n := s.next
	problem := matchRequest(&ex, r, s.origin, body)
	if want := ex.Request.TimeoutMs; problem == "" && want != nil {
		if len(s.timeouts) < n || s.timeouts[n-1] != *want {
			problem = fmt.Sprintf("timeoutMs %v, want %d", s.timeouts, *want)
		}
	}
	if problem != "" {
		s.failures = append(s.failures, fmt.Sprintf("request %d: %s", n, problem))
		s.mu.Unlock()
		w.WriteHeader(500)
		io.WriteString(w, "conformance: "+problem)
		return
	}
	s.mu.Unlock()
	if ex.AdvanceMs > 0 {
		s.advance(ex.AdvanceMs)
	}
	// Another process writes while the request is in flight.
	applyWrites(s.store, ex.StoreWrites)
	switch ex.Fault {
	case "reset":
		hj, ok := w.(http.Hijacker)
		if !ok {
			s.t.Error("cannot hijack")
			return
		}
		conn, _, _ := hj.Hijack()
		conn.Close()
		return
	case "timeout":
		select {
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
		}
		return
	}
	resp := ex.Response
	// Send exactly the vector's headers: no automatic Date, and no sniffed
	// Content-Type when the vector lists none.
	w.Header()["Date"] = nil
	w.Header()["Content-Type"] = nil
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	status := resp.Status
	if status == 0 {
		status = 200
	}
	w.WriteHeader(status)
	switch {
	case resp.Body != nil:
		io.WriteString(w, *resp.Body)
	case resp.JSON != nil:
		var buf bytes.Buffer
		json.Compact(&buf, resp.JSON)
		w.Write(buf.Bytes())
	}
}

func matchRequest(ex *exchange, r *http.Request, origin string, body []byte) string {
	want := ex.Request
	if r.Method != want.Method {
		return fmt.Sprintf("method %s, want %s", r.Method, want.Method)
	}
	if got := origin + r.URL.RequestURI(); got != want.URL {
		return fmt.Sprintf("url %s, want %s", got, want.URL)
	}
	for k, v := range want.Headers {
		if got := r.Header.Get(k); got != v {
			return fmt.Sprintf("header %s = %q, want %q", k, got, v)
		}
	}
	for _, k := range want.AbsentHeaders {
		if r.Header.Get(k) != "" {
			return fmt.Sprintf("header %s present, want absent", k)
		}
	}
	switch {
	case want.JSON != nil:
		var got, exp any
		if err := json.Unmarshal(body, &got); err != nil {
			return "body is not JSON"
		}
		json.Unmarshal(want.JSON, &exp)
		if !reflect.DeepEqual(got, exp) {
			return fmt.Sprintf("json body %s, want %s", body, want.JSON)
		}
	case want.Form != nil:
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return "body is not form data"
		}
		got := map[string]string{}
		for k := range v {
			got[k] = v.Get(k)
		}
		if !reflect.DeepEqual(got, want.Form) {
			return fmt.Sprintf("form body %v, want %v", got, want.Form)
		}
	case want.Body != nil:
		if string(body) != *want.Body {
			return fmt.Sprintf("body %q, want %q", body, *want.Body)
		}
	}
	return ""
}

func playVector(t *testing.T, name string, raw []byte) {
	s := &scripted{t: t}
	srv := httptest.NewServer(s)
	defer srv.Close()
	s.origin = srv.URL
	raw = bytes.ReplaceAll(raw, []byte("{server}"), []byte(srv.URL))
	var v vector
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("bad vector: %v", err)
	}
	if v.Name != name {
		t.Errorf("vector name %q does not match its file %q", v.Name, name)
	}
	s.exchanges = v.Exchanges

	var mu sync.Mutex
	wall, mono := v.Clock, v.MonoClock
	if wall == 0 {
		wall = defaultClock
	}
	if mono == 0 {
		mono = defaultMonoClock
	}
	s.advance = func(ms int64) { mu.Lock(); wall += ms; mono += ms; mu.Unlock() }
	var sleeps []int64
	var events []json.RawMessage
	eventCancelled := false
	store := &vectorStore{MemoryStore: NewMemoryStore(), other: v.OtherLease}
	for k, val := range v.Store {
		store.Set(context.Background(), k, val)
	}
	s.store = store.MemoryStore
	h, err := New(Options{
		BaseURL:        srv.URL,
		RequestTimeout: time.Second,
		Clock:          func() time.Time { mu.Lock(); defer mu.Unlock(); return time.UnixMilli(wall) },
		Monotonic:      func() time.Duration { mu.Lock(); defer mu.Unlock(); return time.Duration(mono) * time.Millisecond },
		Sleep: func(ctx context.Context, d time.Duration) bool {
			mu.Lock()
			defer mu.Unlock()
			sleeps = append(sleeps, d.Milliseconds())
			if len(sleeps) == v.CancelAtSleep {
				return true
			}
			wall += d.Milliseconds()
			mono += d.Milliseconds()
			for _, st := range v.WallSteps {
				if st.AtSleep == len(sleeps) {
					wall += st.Ms
				}
			}
			return false
		},
		Store: store,
		OnEvent: func(ctx context.Context, e Event) error {
			mu.Lock()
			defer mu.Unlock()
			events = append(events, e.JSON)
			if v.CancelAtEvent != "" && e.Type == v.CancelAtEvent && !eventCancelled {
				eventCancelled = true
				return fmt.Errorf("cancelled by the vector")
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.onRequest = func(r *httpRequest) {
		s.mu.Lock()
		s.timeouts = append(s.timeouts, r.TimeoutMs)
		s.mu.Unlock()
	}
	calls := v.Calls
	if len(calls) == 0 {
		calls = []call{{Export: v.Export, Input: v.Input, Result: v.Result, Error: v.Error}}
	}
	var prevState json.RawMessage
	for i, c := range calls {
		s.advance(c.AdvanceMs)
		input := c.Input
		if prevState != nil {
			input = bytes.ReplaceAll(input, []byte(`"{state}"`), prevState)
		}
		out, err := h.Call(context.Background(), c.Export, input)
		label := fmt.Sprintf("call %d (%s)", i+1, c.Export)
		if n := store.held.Load(); n != 0 {
			t.Errorf("%s: the call left %d leases held", label, n)
		}
		checkOutcome(t, label, out, err, c.Result, c.Error)
		var st struct {
			State json.RawMessage `json:"state"`
		}
		if json.Unmarshal(out, &st) == nil && st.State != nil {
			prevState = st.State
		}
	}
	s.mu.Lock()
	for _, f := range s.failures {
		t.Error(f)
	}
	if s.next != len(s.exchanges) {
		t.Errorf("%d of %d exchanges used", s.next, len(s.exchanges))
	}
	s.mu.Unlock()
	if !reflect.DeepEqual(nonNil(sleeps), nonNil(v.Sleeps)) {
		t.Errorf("sleeps %v, want %v", sleeps, v.Sleeps)
	}
	if len(events) != len(v.Events) {
		t.Errorf("%d events, want %d:\n got: %s", len(events), len(v.Events), joinRaw(events))
	} else {
		for i := range events {
			if !jsonEqual(events[i], v.Events[i]) {
				t.Errorf("event %d = %s, want %s", i+1, events[i], v.Events[i])
			}
		}
	}
	want := v.StoreAfter
	if want == nil {
		want = v.Store
	}
	checkStore(t, store.Snapshot(), want)
}

// vectorStore is the runner's in-memory store: it counts the leases held,
// and plays the vector's other lease holder.
type vectorStore struct {
	*MemoryStore
	held  atomic.Int64
	mu    sync.Mutex
	other *otherLease
}

// Lock answers busy for the other holder's key while it holds it; a
// waiting attempt lets the holder finish (its writes) first.
func (s *vectorStore) Lock(ctx context.Context, key string, wait time.Duration) (func(), error) {
	s.mu.Lock()
	other := s.other
	if other != nil && other.Key == key {
		if wait == 0 {
			s.mu.Unlock()
			return nil, ErrBusy
		}
		applyWrites(s.MemoryStore, other.Writes)
		s.other = nil
	}
	s.mu.Unlock()
	unlock, err := s.MemoryStore.Lock(ctx, key, wait)
	if err != nil {
		return nil, err
	}
	s.held.Add(1)
	var once sync.Once
	return func() { once.Do(func() { s.held.Add(-1); unlock() }) }, nil
}

// applyWrites writes (or, for nil, removes) values, as another process.
func applyWrites(s *MemoryStore, writes map[string]*string) {
	for k, v := range writes {
		if v == nil {
			s.Delete(context.Background(), k)
		} else {
			s.Set(context.Background(), k, *v)
		}
	}
}

func checkOutcome(t *testing.T, label string, out []byte, err error, result json.RawMessage, wantErr *expectedError) {
	t.Helper()
	if wantErr != nil {
		e, ok := err.(*Error)
		if !ok {
			t.Errorf("%s: got %s, %v; want error %s", label, out, err, wantErr.Code)
			return
		}
		if string(e.Code) != wantErr.Code {
			t.Errorf("%s: error code %s (%s), want %s", label, e.Code, e.Message, wantErr.Code)
		}
		check := func(field string, got string, want *string) {
			if want != nil && got != *want {
				t.Errorf("%s: error %s = %q, want %q", label, field, got, *want)
			}
		}
		check("message", e.Message, wantErr.Message)
		check("error", e.OAuthError, wantErr.Error)
		check("description", e.Description, wantErr.Description)
		check("uri", e.URI, wantErr.URI)
		if wantErr.Status != nil && e.Status != *wantErr.Status {
			t.Errorf("%s: error status %d, want %d", label, e.Status, *wantErr.Status)
		}
		if wantErr.MessageContains != "" && !strings.Contains(e.Message, wantErr.MessageContains) {
			t.Errorf("%s: error message %q lacks %q", label, e.Message, wantErr.MessageContains)
		}
		return
	}
	if err != nil {
		t.Errorf("%s: unexpected error: %v", label, err)
		return
	}
	if result != nil && !jsonMatch(out, result) {
		t.Errorf("%s: result %s, want %s", label, out, result)
	}
}

func checkStore(t *testing.T, got, want map[string]string) {
	t.Helper()
	keys := map[string]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		g, gok := got[k]
		w, wok := want[k]
		switch {
		case !gok:
			t.Errorf("store: missing %s", k)
		case !wok:
			t.Errorf("store: unexpected %s = %s", k, g)
		case g != w && !jsonEqual([]byte(g), []byte(w)):
			t.Errorf("store: %s = %s, want %s", k, g, w)
		}
	}
}

func nonNil(s []int64) []int64 {
	if s == nil {
		return []int64{}
	}
	return s
}

func joinRaw(rs []json.RawMessage) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = string(r)
	}
	return strings.Join(parts, "\n      ")
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// jsonMatch compares JSON where the pattern's "{any}" matches any value.
func jsonMatch(got, pattern []byte) bool {
	var g, p any
	if json.Unmarshal(got, &g) != nil || json.Unmarshal(pattern, &p) != nil {
		return false
	}
	return matchValue(g, p)
}

func matchValue(g, p any) bool {
	if s, ok := p.(string); ok && s == "{any}" {
		return g != nil
	}
	switch pv := p.(type) {
	case map[string]any:
		gv, ok := g.(map[string]any)
		if !ok || len(gv) != len(pv) {
			return false
		}
		for k, x := range pv {
			y, ok := gv[k]
			if !ok || !matchValue(y, x) {
				return false
			}
		}
		return true
	case []any:
		gv, ok := g.([]any)
		if !ok || len(gv) != len(pv) {
			return false
		}
		for i := range pv {
			if !matchValue(gv[i], pv[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(g, p)
}
