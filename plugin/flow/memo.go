package flow

import (
	"strings"
	"sync/atomic"
)

// A long-running program calls authenticate again and again with the same
// input and finds the same entry in its store, and a pending flow's polls
// get the same authorization_pending body again and again: the engine's
// work is then the same each time, and most of it is reading JSON (the
// input and the configuration it names, the stored authentication, the
// answer's body). The memos here keep the last result of each, by the
// exact bytes read: bytes equal to the last ones give the same result,
// which parsing them again would derive and check again. Entries are never
// changed once stored, so goroutines running engines may share them; a
// memo holds one entry at a time.
//
// None holds a secret the program did not hand the engine to keep: an
// input naming a token, a client secret or a flow state is not memoized,
// nor a body carrying a token or a device code; the stored authentication
// is the one the program keeps in its store (in a wasm guest, the
// instance's memory holds it until the next different entry replaces it).

// configuredInput is an input, by its bytes, with what Start takes from it.
type configuredInput struct {
	raw         string
	config      Config
	interactive *bool
	refresh     bool
	url         string
}

// lastInput is the last secret-free input that configured.
var lastInput atomic.Pointer[configuredInput]

// configureInput parses raw and validates its configuration, or answers the
// last input's when raw is the same bytes.
func configureInput(raw []byte) (*Input, *Config, *Error) {
	if p := lastInput.Load(); p != nil && p.raw == string(raw) {
		c := p.config
		return &Input{Interactive: cloneBool(p.interactive), Refresh: p.refresh, URL: p.url}, &c, nil
	}
	in, err := ParseInput(raw)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := in.Configure()
	if err != nil {
		return nil, nil, err
	}
	if in.Token == "" && in.ClientSecret == "" && len(in.State) == 0 {
		lastInput.Store(&configuredInput{raw: string(raw), config: *cfg, interactive: cloneBool(in.Interactive), refresh: in.Refresh, url: strings.Clone(in.URL)})
	}
	return in, cfg, nil
}

// cloneBool is a pointer to a copy of *b (nil for nil): the memo's and each
// caller's stay apart.
func cloneBool(b *bool) *bool {
	if b == nil {
		return nil
	}
	v := *b
	return &v
}

// decodedEntry is a stored value, by its bytes, as decodeCached read it
// for a client.
type decodedEntry struct {
	value, clientID, clientType string
	auth                        *Authentication // nil: not this client's authentication
}

// lastEntry is the last store value decoded.
var lastEntry atomic.Pointer[decodedEntry]

// decodeEntry is decodeCached, answering the last value's result when
// value and the client are the same. The Authentication is the caller's to
// change (its lists and stamps are shared, and never changed in place).
func decodeEntry(c *Config, value string) *Authentication {
	if p := lastEntry.Load(); p != nil && p.value == value && p.clientID == c.ClientID && p.clientType == c.ClientType {
		if p.auth == nil {
			return nil
		}
		a := *p.auth
		return &a
	}
	a := decodeCached(c, value)
	e := &decodedEntry{value: strings.Clone(value), clientID: c.ClientID, clientType: c.ClientType}
	if a != nil {
		kept := *a
		e.auth = &kept
	}
	lastEntry.Store(e)
	return a
}

// errorBody is an error answer's body, by its bytes, with its fields.
type errorBody struct {
	body   string
	fields fields // read, never changed
}

// lastErrorBody is the last error answer read that carries no credential:
// a flow polls until the person approves, and every answer until then is
// the same authorization_pending body.
var lastErrorBody atomic.Pointer[errorBody]
