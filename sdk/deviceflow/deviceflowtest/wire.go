package deviceflowtest

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// maxBody caps the size of a request body the emulator reads.
const maxBody = 1 << 20

// Documentation links GitHub sends as error_uri.
const (
	uriDeviceFlow   = "https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes-for-the-device-flow"
	uriClientCreds  = "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#incorrect-client-credentials"
	uriBadRefresh   = "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code"
	uriRESTDocs     = "https://docs.github.com/rest"
	grantDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"
	grantRefresh    = "refresh_token"
)

// oauthError is one of GitHub's OAuth error answers.
type oauthError struct {
	code, description, uri string
}

// The error answers of GitHub's device flow, with GitHub's wording.
var (
	errPending            = oauthError{"authorization_pending", "The authorization request is still pending.", uriDeviceFlow}
	errSlowDown           = oauthError{"slow_down", "Too many requests have been made in the same timeframe.", uriDeviceFlow}
	errExpiredToken       = oauthError{"expired_token", "The device_code has expired.", uriDeviceFlow}
	errAccessDenied       = oauthError{"access_denied", "The authorization request was denied.", uriDeviceFlow}
	errIncorrectDevice    = oauthError{"incorrect_device_code", "The device_code provided is not valid.", uriDeviceFlow}
	errUnsupportedGrant   = oauthError{"unsupported_grant_type", "The grant type is not supported.", uriDeviceFlow}
	errIncorrectClient    = oauthError{"incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.", uriClientCreds}
	errDeviceFlowDisabled = oauthError{"device_flow_disabled", "Device Flow must be explicitly enabled for this App", uriDeviceFlow}
	errBadRefreshToken    = oauthError{"bad_refresh_token", "The refresh token passed is incorrect or expired.", uriBadRefresh}
)

// field is one key and value of an OAuth answer. Values are strings,
// int64 or float64.
type field struct {
	key   string
	value any
}

// fields returns the error as answer fields, followed by extra.
func (e oauthError) fields(extra ...field) []field {
	return append([]field{
		{"error", e.code},
		{"error_description", e.description},
		{"error_uri", e.uri},
	}, extra...)
}

// params reads the parameters of an OAuth request the way GitHub accepts
// them: the query string, then a JSON or form body on top. Client
// credentials sent with HTTP Basic authentication fill client_id and
// client_secret when the body has none; consistent is false when Basic
// authentication names another client than client_id does.
func params(r *http.Request) (v url.Values, consistent bool) {
	v = url.Values{}
	consistent = true
	for k, vs := range r.URL.Query() {
		v[k] = vs
	}
	body, _ := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if dec.Decode(&m) == nil {
			for k, val := range m {
				switch x := val.(type) {
				case string:
					v.Set(k, x)
				case json.Number:
					v.Set(k, x.String())
				case bool:
					v.Set(k, strconv.FormatBool(x))
				}
			}
		}
	case mt == "application/x-www-form-urlencoded" || mt == "":
		if form, err := url.ParseQuery(string(body)); err == nil {
			for k, vs := range form {
				v[k] = vs
			}
		}
	}
	if id, secret, ok := r.BasicAuth(); ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
		if v.Get("client_id") == "" {
			v.Set("client_id", id)
		} else if v.Get("client_id") != id {
			consistent = false
		}
		if v.Get("client_secret") == "" && secret != "" {
			v.Set("client_secret", secret)
		}
	}
	return v, consistent
}

// answerFormat is how an OAuth answer is encoded.
type answerFormat int

const (
	formatForm answerFormat = iota
	formatJSON
	formatXML
)

// negotiate picks the answer format from the Accept header: JSON or XML
// when asked for, form-encoded otherwise, as GitHub does.
func negotiate(r *http.Request) answerFormat {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch {
		case mt == "application/json" || strings.HasSuffix(mt, "+json"):
			return formatJSON
		case mt == "application/xml" || mt == "text/xml":
			return formatXML
		}
	}
	return formatForm
}

// writeOAuth sends an OAuth answer in the format the request asked for.
func writeOAuth(w http.ResponseWriter, r *http.Request, status int, fs []field) {
	var body []byte
	var ctype string
	switch negotiate(r) {
	case formatJSON:
		ctype = "application/json; charset=utf-8"
		body = encodeJSON(fs)
	case formatXML:
		ctype = "application/xml; charset=utf-8"
		body = encodeXML(fs)
	default:
		ctype = "application/x-www-form-urlencoded; charset=utf-8"
		body = encodeForm(fs)
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// encodeJSON writes the fields as a JSON object, in their order.
func encodeJSON(fs []field) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range fs {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.key)
		v, _ := json.Marshal(f.value)
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// encodeForm writes the fields form-encoded, keys in alphabetical order as
// GitHub sends them.
func encodeForm(fs []field) []byte {
	v := url.Values{}
	for _, f := range fs {
		v.Set(f.key, text(f.value))
	}
	return []byte(v.Encode())
}

// encodeXML writes the fields the way GitHub answers Accept: application/xml.
func encodeXML(fs []field) []byte {
	var b bytes.Buffer
	b.WriteString("<OAuth>")
	for _, f := range fs {
		b.WriteString("<" + f.key + ">")
		_ = xml.EscapeText(&b, []byte(text(f.value)))
		b.WriteString("</" + f.key + ">")
	}
	b.WriteString("</OAuth>")
	return b.Bytes()
}

// text renders a field value as text.
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return ""
}

// writeJSON sends a REST API answer.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, _ := json.Marshal(v)
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
