package flow

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/tidwall/gjson"
)

// Version is the plugin's version, sent in User-Agent and reported by info.
const Version = "0.1.0"

// UserAgent identifies the plugin to GitHub, whose API requires one.
const UserAgent = "deviceflow/" + Version

// RequestTimeoutMs is the time the plugin allows one HTTP request; hosts may
// cap it lower.
const RequestTimeoutMs = 30000

// Request is one HTTP request the engine asks the host to perform. Header
// names are lower case.
type Request struct {
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	Body      string            `json:"body"`
	TimeoutMs int64             `json:"timeoutMs"`
}

// Response is the host's answer: Status, Headers and Body, or Error when no
// HTTP response arrived.
type Response struct {
	Status  int               `json:"status,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
	Error   *HTTPError        `json:"error,omitempty"`
}

// HTTPError says why a request produced no response.
type HTTPError struct {
	// Kind is "network", "timeout" or "denied".
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

// responseHeaders are the response headers the engine reads, in lower
// case and sorted:
//   - cache-control: the max-age of a discovery document (RFC 8414's
//     metadata is cached no longer than the server allows);
//   - content-type: whether an OAuth answer is JSON or form-encoded (GitHub
//     answers form-encoded to a client that does not ask for JSON);
//   - date: the server's clock, which dates a token's expiry (RFC 9110
//     section 6.6.1: "the date and time at which the message originated");
//   - retry-after: how long to wait after a 429 or 503 (RFC 9110 section
//     10.2.3);
//   - x-oauth-scopes: the scopes GitHub's GET /user reports for a token.
//
// No other header of a response reaches the engine: ParseResponse drops
// them, and hosts, which learn the list from info, need not pass them at
// all (GitHub sends fifteen or more, among them a long
// Content-Security-Policy and Set-Cookie).
var responseHeaders = []string{"cache-control", "content-type", "date", "retry-after", "x-oauth-scopes"}

// ResponseHeaders returns the names of the response headers the engine
// reads, in lower case and sorted: the only ones a host needs to pass to
// the plugin.
func ResponseHeaders() []string { return slices.Clone(responseHeaders) }

// ReadsResponseHeader reports whether the engine reads the response header
// name, in any case.
func ReadsResponseHeader(name string) bool {
	if len(name) < len("date") || len(name) > len("x-oauth-scopes") {
		return false
	}
	for _, h := range responseHeaders {
		if strings.EqualFold(name, h) {
			return true
		}
	}
	return false
}

// Header returns a response header by case-insensitive name, "" when absent.
func (r *Response) Header(name string) string {
	v, _ := r.headerOK(name)
	return v
}

// headerOK returns a response header by case-insensitive name and whether it
// was present.
func (r *Response) headerOK(name string) (string, bool) {
	if v, ok := r.Headers[name]; ok {
		return v, true
	}
	for k, v := range r.Headers {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// param is one name-value pair of an OAuth request body.
type param struct{ name, value string }

// oauthPost builds a POST to an OAuth endpoint. The body encoding lives here
// and nowhere else (rule 1): GitHub takes JSON with
// `content-type: application/json; charset=utf-8` and
// `accept: application/json`, as octokit and the GitHub docs send it; other
// RFC 8628 servers take application/x-www-form-urlencoded (RFC 8628 section
// 3.1: "the client makes an HTTP POST request ... using the
// application/x-www-form-urlencoded format").
func oauthPost(c *Config, endpoint string, params ...param) *Request {
	req := &Request{
		Method: "POST",
		URL:    endpoint,
		Headers: map[string]string{
			"accept":     "application/json",
			"user-agent": UserAgent,
		},
		TimeoutMs: RequestTimeoutMs,
	}
	params = c.clientAuth(req, params)
	if c.Encoding == "form" {
		req.Headers["content-type"] = "application/x-www-form-urlencoded"
		req.Body = formEncode(params)
		return req
	}
	// A JSON object with its names sorted, as encoding/json writes a map.
	sorted := sortedParams(params)
	n := 2
	for _, p := range sorted {
		n += len(p.name) + len(p.value) + 6
	}
	o := newObj(make([]byte, 0, n))
	for _, p := range sorted {
		o.str(p.name, p.value)
	}
	req.Headers["content-type"] = githubContentType
	req.Body = string(o.close())
	return req
}

// fields is a parsed OAuth response body: names and raw values, in the
// order the body gives them. Numbers keep their textual form. A name given
// twice has the value given last (lookup reads from the end), as a map
// filled in order would. A body has a handful of fields: a list read
// through is cheaper than a map to fill, above all in the plugin, whose
// string hashing has no hardware help.
type fields []field

// field is one of fields.
type field struct{ name, value string }

// lookup returns a field's value and whether it is present. It is called
// from some forty places: inlined into each, its loop made the plugin 9 KB
// larger.
//
//go:noinline
func (f fields) lookup(name string) (string, bool) {
	for i := len(f) - 1; i >= 0; i-- {
		if f[i].name == name {
			return f[i].value, true
		}
	}
	return "", false
}

func (f fields) str(name string) string { v, _ := f.lookup(name); return v }

func (f fields) has(name string) bool { _, ok := f.lookup(name); return ok }

// seconds parses a field holding a (possibly fractional) number of seconds
// into milliseconds, rounding up. A missing field answers def.
func (f fields) seconds(name string, def int64) (int64, bool) {
	v, ok := f.lookup(name)
	if !ok || v == "" {
		return def, true
	}
	x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) || x < 0 || x > 1e9 {
		return 0, false
	}
	return int64(math.Ceil(x * 1000)), true
}

// lifetime parses a token lifetime field (expires_in,
// refresh_token_expires_in) into milliseconds: like seconds, except that a
// lifetime beyond 2^31-1 seconds, however large, is clamped there: such a
// token practically never expires, and refusing it would lose it.
func (f fields) lifetime(name string) (int64, bool) {
	v, ok := f.lookup(name)
	if !ok || v == "" {
		return -1, true
	}
	x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if math.IsInf(x, 1) || (err == nil && x > maxExpiresInMs/1000) {
		return maxExpiresInMs, true
	}
	if err != nil || math.IsNaN(x) || x < 0 {
		return 0, false
	}
	return int64(math.Ceil(x * 1000)), true
}

// parseBody decodes an OAuth response body as JSON or form by its content
// type (rule 1), sniffing when the type is missing or generic.
func parseBody(resp *Response) (fields, bool) {
	mt := mediaType(resp.Header("content-type"))
	body := strings.TrimSpace(resp.Body)
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return parseJSONFields(body)
	case mt == "application/x-www-form-urlencoded":
		return parseFormFields(body)
	case strings.HasPrefix(body, "{"):
		return parseJSONFields(body)
	default:
		return parseFormFields(body)
	}
}

func parseJSONFields(body string) (fields, bool) {
	if p := lastErrorBody.Load(); p != nil && p.body == body {
		return p.fields, true
	}
	f, ok := readJSONFields(body)
	if ok && f.has("error") && !f.has("access_token") && !f.has("refresh_token") && !f.has("id_token") && !f.has("device_code") {
		lastErrorBody.Store(&errorBody{body: strings.Clone(body), fields: f})
	}
	return f, ok
}

func readJSONFields(body string) (fields, bool) {
	if !gjson.Valid(body) {
		return nil, false
	}
	root := gjson.Parse(body)
	if !root.IsObject() {
		return nil, false
	}
	f := make(fields, 0, 8)
	typed := true
	root.ForEach(func(k, v gjson.Result) bool {
		if v.Type != gjson.String && v.Type != gjson.Null && stringFields[k.String()] {
			// A field that must be a string holds something else: no
			// client could use this answer.
			typed = false
			return false
		}
		switch v.Type {
		case gjson.String:
			f = append(f, field{k.String(), v.String()})
		case gjson.Null:
		default:
			// Numbers and literals keep their text; objects and arrays
			// are kept raw (no field we read has one).
			f = append(f, field{k.String(), v.Raw})
		}
		return true
	})
	return f, typed
}

// stringFields are the OAuth answer fields that are strings or absent.
var stringFields = map[string]bool{
	"error": true, "error_description": true, "error_uri": true,
	"access_token": true, "refresh_token": true, "token_type": true, "scope": true,
	"device_code": true, "user_code": true, "verification_uri": true,
	"verification_url": true, "verification_uri_complete": true, "id_token": true,
}

func parseFormFields(body string) (fields, bool) {
	if body == "" || strings.ContainsAny(body, "<>{}") {
		return nil, false
	}
	m, ok := parseForm(body)
	if !ok || len(m) == 0 {
		return nil, false
	}
	f := make(fields, 0, len(m))
	for k, v := range m {
		f = append(f, field{k, v})
	}
	return f, true
}

// githubContentType is the content type of GitHub's OAuth answers (and of
// the engine's JSON requests).
const githubContentType = "application/json; charset=utf-8"

// mediaType is a content type's media type, lower-cased, as
// mime.ParseMediaType answers it: "" when the type is not a token,
// optionally followed by "/" and a token, or when a parameter is repeated
// with another value; the type otherwise, whatever else its parameters
// hold.
func mediaType(v string) string {
	if v == githubContentType {
		// What GitHub sends with every answer: no need to parse it.
		return "application/json"
	}
	base, _, _ := strings.Cut(v, ";")
	mt := strings.TrimSpace(strings.ToLower(base))
	typ, sub, slash := strings.Cut(mt, "/")
	if !isMIMEToken(typ) || slash && !isMIMEToken(sub) {
		return ""
	}
	seen := map[string]string{}
	for rest := v[len(base):]; ; {
		rest = strings.TrimLeftFunc(rest, unicode.IsSpace)
		if rest == "" {
			return mt
		}
		key, value, next := mediaParam(rest)
		if key == "" {
			return mt
		}
		if old, ok := seen[key]; ok && old != value {
			return ""
		}
		seen[key] = value
		rest = next
	}
}

// mediaParam reads one "; name=value" parameter, as mime does; name is ""
// when there is none.
func mediaParam(v string) (name, value, rest string) {
	rest, ok := strings.CutPrefix(strings.TrimLeftFunc(v, unicode.IsSpace), ";")
	if !ok {
		return "", "", v
	}
	rest = strings.TrimLeftFunc(rest, unicode.IsSpace)
	name, rest = mimeToken(rest)
	name = strings.ToLower(name)
	if name == "" {
		return "", "", v
	}
	rest, ok = strings.CutPrefix(strings.TrimLeftFunc(rest, unicode.IsSpace), "=")
	if !ok {
		return "", "", v
	}
	rest = strings.TrimLeftFunc(rest, unicode.IsSpace)
	value, after := mimeValue(rest)
	if value == "" && after == rest {
		return "", "", v
	}
	return name, value, after
}

// mimeToken splits a leading token off v.
func mimeToken(v string) (token, rest string) {
	for i := 0; i < len(v); i++ {
		if !isMIMEToken(v[i : i+1]) {
			return v[:i], v[i:]
		}
	}
	return v, ""
}

// mimeValue splits a leading token or quoted string off v.
func mimeValue(v string) (value, rest string) {
	if v == "" || v[0] != '"' {
		return mimeToken(v)
	}
	var b []byte
	for i := 1; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '"':
			return string(b), v[i+1:]
		case c == '\\' && i+1 < len(v) && strings.IndexByte(tspecials, v[i+1]) >= 0:
			b = append(b, v[i+1])
			i++
		case c == '\r' || c == '\n':
			return "", v
		default:
			b = append(b, c)
		}
	}
	return "", v
}

// tspecials are RFC 1521's special characters, which a token cannot hold.
const tspecials = `()<>@,;:\\"/[]?=`

// isMIMEToken reports whether s is a non-empty RFC 1521 token: printable
// ASCII other than space and the tspecials ()<>@,;:\"/[]?=.
func isMIMEToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(tspecials, c) >= 0 {
			return false
		}
	}
	return true
}

// ParseFields exposes parseBody for fuzzing and tests: it returns the field
// names it found, sorted, and whether the body was understood.
func ParseFields(contentType, body string) ([]string, bool) {
	f, ok := parseBody(&Response{Status: 200, Headers: map[string]string{"content-type": contentType}, Body: body})
	names := make([]string, 0, len(f))
	for _, x := range f {
		names = append(names, x.name)
	}
	slices.Sort(names)
	return slices.Compact(names), ok
}
