package flow

import (
	"encoding/json"
	"math"
	"mime"
	"net/url"
	"sort"
	"strconv"
	"strings"

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

// Header returns a response header by case-insensitive name, "" when absent.
func (r *Response) Header(name string) string {
	v, _ := r.lookup(name)
	return v
}

// lookup returns a response header by case-insensitive name and whether it
// was present.
func (r *Response) lookup(name string) (string, bool) {
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
		v := url.Values{}
		for _, p := range params {
			v.Set(p.name, p.value)
		}
		req.Headers["content-type"] = "application/x-www-form-urlencoded"
		req.Body = v.Encode()
		return req
	}
	obj := make(map[string]string, len(params))
	for _, p := range params {
		obj[p.name] = p.value
	}
	b, _ := json.Marshal(obj)
	req.Headers["content-type"] = "application/json; charset=utf-8"
	req.Body = string(b)
	return req
}

// fields is a parsed OAuth response body: names to raw values. Numbers keep
// their textual form.
type fields map[string]string

func (f fields) str(name string) string { return f[name] }

func (f fields) has(name string) bool { _, ok := f[name]; return ok }

// seconds parses a field holding a (possibly fractional) number of seconds
// into milliseconds, rounding up. A missing field answers def.
func (f fields) seconds(name string, def int64) (int64, bool) {
	v, ok := f[name]
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
	v, ok := f[name]
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
	mt, _, _ := mime.ParseMediaType(resp.Header("content-type"))
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
	if !gjson.Valid(body) {
		return nil, false
	}
	root := gjson.Parse(body)
	if !root.IsObject() {
		return nil, false
	}
	f := fields{}
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
			f[k.String()] = v.String()
		case gjson.Number:
			f[k.String()] = v.Raw
		case gjson.True, gjson.False:
			f[k.String()] = v.Raw
		case gjson.Null:
		default:
			// Objects and arrays are kept raw; no field we read has one.
			f[k.String()] = v.Raw
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
	v, err := url.ParseQuery(body)
	if err != nil || len(v) == 0 {
		return nil, false
	}
	f := fields{}
	for k, vs := range v {
		if len(vs) > 0 {
			f[k] = vs[0]
		}
	}
	return f, true
}

// ParseFields exposes parseBody for fuzzing and tests: it returns the field
// names it found, sorted, and whether the body was understood.
func ParseFields(contentType, body string) ([]string, bool) {
	f, ok := parseBody(&Response{Status: 200, Headers: map[string]string{"content-type": contentType}, Body: body})
	names := make([]string, 0, len(f))
	for k := range f {
		names = append(names, k)
	}
	sort.Strings(names)
	return names, ok
}
