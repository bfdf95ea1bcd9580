package host

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/deviceflow/deviceflow/plugin/flow"
)

// Options configure a Host. Every field is optional.
type Options struct {
	// BaseURL is the GitHub the host may talk to: https://github.com (the
	// default) or a GitHub Enterprise Server URL. The sandbox allows only
	// the hosts derived from it.
	BaseURL string
	// Server names an RFC 8628 server other than GitHub, by its issuer or
	// its endpoints (the generic profile; BaseURL is then empty). The
	// sandbox allows the origins the plugin derives from it; with an
	// issuer, also those its discovery document names (the plugin's
	// endpoints event).
	Server flow.Server
	// AllowedHosts replaces the hosts derived from BaseURL ("host" or
	// "host:port").
	AllowedHosts []string
	// HTTPClient performs the plugin's requests; http.DefaultClient's
	// transport when nil. Its redirects are not followed.
	HTTPClient *http.Client
	// RequestTimeout caps each request; 30 s when zero.
	RequestTimeout time.Duration
	// UserAgent, when set, is the User-Agent of every request the plugin
	// makes, in place of the plugin's own ("deviceflow/VERSION"): the
	// application's name governs, as a user's octokit request instance does.
	UserAgent string
	// MaxResponseBytes caps each response body; 1 MiB when zero.
	MaxResponseBytes int64
	// Clock is the wall-clock time the plugin sees (for expiry stamps);
	// time.Now when nil.
	Clock func() time.Time
	// Monotonic is the clock the plugin measures waits and deadlines on: it
	// must never step. When nil it is Go's monotonic clock, except that a
	// host with a Clock and no Monotonic uses the Clock for both, so a fake
	// clock that a test advances moves both.
	Monotonic func() time.Duration
	// Sleep waits d and reports whether it was cut short; when nil the host
	// sleeps on a timer that ends early when the context ends.
	Sleep func(ctx context.Context, d time.Duration) (cancelled bool)
	// Store keeps cached authentications; a MemoryStore when nil.
	Store Store
	// OnEvent receives the plugin's events. It may block (to wait for the
	// user); a non-nil error cancels the call, which then fails with
	// ErrCancelled.
	OnEvent func(ctx context.Context, e Event) error
}

// MaxInputBytes caps an export's input. Real inputs are a few hundred
// bytes; the cap keeps a runaway input from reaching the plugin's memory,
// where Extism would silently drop what does not fit.
const MaxInputBytes = 1 << 20

// Host runs the plugin. It is safe for concurrent use: each call gets its
// own plugin instance.
type Host struct {
	opts    Options
	allowed map[string]bool
	// discover: the plugin's endpoints event may add origins (an issuer's
	// discovered endpoints); allowMu guards allowed then.
	discover bool
	allowMu  sync.RWMutex
	client   *http.Client
	store    Store
	swapper  Swapper
	locker   Locker
	pool     pool
	// onRequest sees every request the plugin asks for (tests only).
	onRequest func(*httpRequest)
}

// monoOrigin is the instant the host's monotonic readings count from.
var monoOrigin = time.Now()

// New returns a Host. The plugin is compiled on first use, once per process.
func New(opts Options) (*Host, error) {
	h := &Host{opts: opts, store: opts.Store}
	if h.store == nil {
		h.store = NewMemoryStore()
	}
	h.swapper = SwapperFor(h.store)
	h.locker = LockerFor(h.store)
	allowed, discover, err := allowedHosts(opts)
	if err != nil {
		return nil, err
	}
	h.allowed, h.discover = allowed, discover
	h.client = sandboxClient(opts.HTTPClient)
	if h.opts.RequestTimeout <= 0 {
		h.opts.RequestTimeout = 30 * time.Second
	}
	if h.opts.MaxResponseBytes <= 0 {
		h.opts.MaxResponseBytes = 1 << 20
	}
	return h, nil
}

// Preload compiles the plugin and warms one instance, so the first call
// pays no start-up cost.
func (h *Host) Preload(ctx context.Context) error {
	in, err := h.pool.get(ctx)
	if err != nil {
		return pluginFailure("load", err)
	}
	h.pool.put(in)
	return nil
}

// Close releases idle plugin instances.
func (h *Host) Close(ctx context.Context) error {
	h.pool.close(ctx)
	return nil
}

// Call runs one export with a JSON input and returns its JSON output. An
// export the contract does not name, or an input over MaxInputBytes, is
// ErrInvalidInput, and nothing runs. A failure reported by the plugin is
// an *Error with the plugin's code; a trap, a cancelled context or a memory
// limit is an *Error with code "plugin" or "cancelled", and the instance is
// discarded.
func (h *Host) Call(ctx context.Context, export string, input []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, &Error{Code: ErrCancelled.Code, Message: "cancelled before the call started", Cause: err}
	}
	if !slices.Contains(flow.Exports, export) {
		name := export
		if len(name) > 40 {
			name = name[:40]
		}
		return nil, &Error{Code: ErrInvalidInput.Code, Message: "invalid input: export: unknown export " + strconv.Quote(name)}
	}
	if len(input) > MaxInputBytes {
		return nil, &Error{Code: ErrInvalidInput.Code, Message: "invalid input: larger than 1 MiB"}
	}
	in, err := h.pool.get(ctx)
	if err != nil {
		return nil, pluginFailure("load", err)
	}
	state := &callState{h: h}
	rc, out, err := in.Call(context.WithValue(ctx, callKey{}, state), export, input)
	// The contract: every lease the call still holds ends with it.
	state.releaseAll()
	if cerr := ctx.Err(); cerr != nil && (err != nil || rc != 0) {
		// Cancellation is seen at host-function boundaries (every sleep,
		// emit, request and lease wait answers "cancelled" once the context
		// has ended), so the plugin stops within one host call. Whatever it
		// answered then, the caller asked it to stop: ErrCancelled. The
		// instance is discarded, not reused.
		in.Close(context.Background())
		h.pool.drop()
		cause := state.eventErr
		if cause == nil {
			cause = cerr
		}
		return nil, &Error{Code: ErrCancelled.Code, Message: "cancelled: " + cerr.Error(), Cause: cause}
	}
	if err == nil && rc == 0 {
		h.pool.put(in)
		return out, nil
	}
	if err != nil && rc == 1 {
		if pe, ok := parsePluginError(err.Error()); ok {
			h.pool.put(in)
			switch pe.Code {
			case ErrStore.Code:
				pe.Cause = state.storeErr
			case ErrCancelled.Code:
				pe.Cause = state.eventErr
				if pe.Cause == nil {
					pe.Cause = ctx.Err()
				}
			}
			return nil, pe
		}
	}
	// A trap or a kill leaves the instance unusable: drop it.
	in.Close(context.Background())
	h.pool.drop()
	if cerr := ctx.Err(); cerr != nil {
		return nil, &Error{Code: ErrCancelled.Code, Message: "cancelled: " + cerr.Error(), Cause: cerr}
	}
	return nil, pluginFailure("call "+export, err)
}

// CallJSON marshals input, runs the export and unmarshals its output into
// out (when out is not nil).
func (h *Host) CallJSON(ctx context.Context, export string, input, out any) error {
	b, err := json.Marshal(input)
	if err != nil {
		return &Error{Code: ErrInvalidInput.Code, Message: "invalid input: " + err.Error(), Cause: err}
	}
	res, err := h.Call(ctx, export, b)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(res, out); err != nil {
		return pluginFailure("malformed output from "+export, err)
	}
	return nil
}

func (h *Host) now() int64 {
	if h.opts.Clock != nil {
		return h.opts.Clock().UnixMilli()
	}
	return time.Now().UnixMilli()
}

// monotonic reads the clock waits and deadlines are measured on, in ms.
func (h *Host) monotonic() int64 {
	switch {
	case h.opts.Monotonic != nil:
		return h.opts.Monotonic().Milliseconds()
	case h.opts.Clock != nil:
		return h.opts.Clock().UnixMilli()
	}
	// An origin far from zero, so that a reading is never mistaken for a
	// duration or a wall time.
	return int64(time.Since(monoOrigin)/time.Millisecond) + 1_000_000_000
}

// sleep waits ms milliseconds; it reports true when the context ended first
// (or ends during a custom Sleep that ignores it).
func (h *Host) sleep(ctx context.Context, ms int64) bool {
	if ctx.Err() != nil {
		return true
	}
	d := time.Duration(ms) * time.Millisecond
	if h.opts.Sleep != nil {
		return h.opts.Sleep(ctx, d) || ctx.Err() != nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return false
	case <-ctx.Done():
		return true
	}
}

// emit hands an event to OnEvent; it reports true when the call should stop.
func (h *Host) emit(ctx context.Context, raw []byte) bool {
	if ctx.Err() != nil {
		return true
	}
	typ := flow.EventType(raw)
	if typ == "endpoints" {
		h.allowDiscovered(raw)
	}
	if h.opts.OnEvent == nil {
		return false
	}
	err := h.opts.OnEvent(ctx, Event{Type: typ, JSON: append(json.RawMessage(nil), raw...)})
	if err != nil {
		if c := callOf(ctx); c != nil && c.eventErr == nil {
			c.eventErr = err
		}
		return true
	}
	return errors.Is(ctx.Err(), context.Canceled)
}
