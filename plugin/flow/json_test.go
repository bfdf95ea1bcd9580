package flow

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"mime"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/tidwall/gjson"
)

// The engine writes and reads JSON, form bodies, URLs and media types by
// hand so that the plugin links neither encoding/json nor net/url nor mime.
// These fuzzers hold each hand-written piece to the standard library's
// answer for the same input.

// FuzzAppendString: strings are escaped byte for byte as encoding/json
// escapes them (HTML characters, U+2028/U+2029 and invalid UTF-8 included).
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `q"b\s`, "\x00\x01\b\f\n\r\t\x1f\x7f", "<a href='x'>&amp;</a>", "\u2028\u2029", "\xff\xfe", "é€𝄞", "\xed\xa0\x80",
		"plain and long, then <quoted> \"text\" & more\\ after\x19 sixteen", "0123456789abcdef\x7f\u2028\xffend"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("appendString(%q) = %s, want %s", s, got, want)
		}
	})
}

// TestPlain8: the eight-byte tests agree with plainBytes (plain8, and the
// keys obj.key copies as they are) and with the bytes simpleEscapes and
// jsonString pass over (plainASCII8, plainASCII) for every byte value in
// every lane, among plain neighbours and among random ones.
func TestPlain8(t *testing.T) {
	check := func(w []byte) {
		t.Helper()
		plain, ascii := true, true
		for _, c := range w {
			plain = plain && plainBytes[c]
			ascii = ascii && c >= 0x20 && c < 0x80 && c != '\\'
		}
		x := le64(string(w))
		if plain8(x) != plain || plainASCII8(x) != ascii {
			t.Fatalf("%q: plain8 %v, plainASCII8 %v", w, plain8(x), plainASCII8(x))
		}
	}
	for lane := range 8 {
		for c := range 256 {
			w := []byte("abcdefgh")
			w[lane] = byte(c)
			check(w)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1_000_000 {
		var w [8]byte
		for i := range w {
			w[i] = byte(rng.Uint32())
			if rng.IntN(4) > 0 {
				w[i] = byte(0x20 + rng.IntN(0x60))
			}
		}
		check(w[:])
	}
	// plainASCII over whole strings, word by word and then byte by byte.
	for range 100_000 {
		w := make([]byte, rng.IntN(24))
		ascii := true
		for i := range w {
			w[i] = byte(0x20 + rng.IntN(0x60))
			if rng.IntN(40) == 0 {
				w[i] = byte(rng.Uint32())
			}
			ascii = ascii && w[i] >= 0x20 && w[i] < 0x80 && w[i] != '\\'
		}
		if plainASCII(string(w)) != ascii {
			t.Fatalf("plainASCII(%q) = %v", w, !ascii)
		}
		// A key is written as appendString writes it, plain or not.
		o := newObj(nil)
		o.key(string(w))
		if want := append(appendString([]byte("{"), string(w)), ':'); !bytes.Equal(o.b, want) {
			t.Fatalf("key %q written %s, want %s", w, o.b, want)
		}
	}
}

// FuzzSmallInt: what smallInt reads, strconv.ParseInt reads alike.
func FuzzSmallInt(f *testing.F) {
	for _, s := range []string{"0", "-0", "7", "-12", "123456789012345678", "-999999999999999999", "1234567890123456789", "", "-", "1.5", "1e3", "+1", "0x1", " 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := smallInt(s)
		if !ok {
			return
		}
		if want, err := strconv.ParseInt(s, 10, 64); err != nil || n != want {
			t.Fatalf("smallInt(%q) = %d, strconv.ParseInt: %d, %v", s, n, want, err)
		}
	})
}

// FuzzJSONValid: gjson's validation, which stands where json.Valid stood,
// accepts exactly what encoding/json accepts.
func FuzzJSONValid(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, `[1,2`, `01`, `-0.5e+3`, `"\u00zz"`, "\"\x01\"", `{"a":1,}`, ` true `, `nul`, `1.`, `"\ud800"`, "\"\xff\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if g, j := gjson.Valid(s), json.Valid([]byte(s)); g != j {
			t.Fatalf("%q: gjson.Valid %v, json.Valid %v", s, g, j)
		}
	})
}

// oldInput is Input as encoding/json decoded it.
type oldInput struct {
	ClientID    string          `json:"clientId"`
	ClientType  string          `json:"clientType,omitempty"`
	Scopes      json.RawMessage `json:"scopes,omitempty"`
	BaseURL     string          `json:"baseUrl,omitempty"`
	OAuthURL    string          `json:"oauthUrl,omitempty"`
	Refresh     bool            `json:"refresh,omitempty"`
	Interactive *bool           `json:"interactive,omitempty"`
	Encoding    string          `json:"encoding,omitempty"`
	Token       string          `json:"token,omitempty"`
	Method      string          `json:"method,omitempty"`
	URL         string          `json:"url,omitempty"`
	State       json.RawMessage `json:"state,omitempty"`
	Server
	ClientSecret string `json:"clientSecret,omitempty"`
}

// FuzzParseInputAsEncodingJSON: an export's input is read as encoding/json
// read it into Input, and refused when it was refused.
func FuzzParseInputAsEncodingJSON(f *testing.F) {
	for _, s := range []string{
		`{"clientId":"Iv1.x","scopes":"repo, gist"}`, `{"clientId":5}`, `[]`, `null`, `"x"`, `{"CLIENTID":"a","clientid":"b"}`,
		`{"clientId":"a","clientId":null}`, `{"interactive":false,"interactive":null}`, `{"refresh":"yes","clientId":"x"}`,
		`{"state":{"v":2},"scopes":null}`, `{"clientId":"c","issuer":"https://i","clientSecret":"s","ISSUER":"https://j"}`, `{"clientId":"\ud800\u00e9"}`, `{"ſcopes":"repo","clientıd":"x","K":1}`, "{\"clientId\":\"\xff\"}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var old oldInput
		oerr := json.Unmarshal([]byte(s), &old)
		in, err := ParseInput([]byte(s))
		if strings.TrimSpace(s) == "" {
			if err == nil {
				t.Fatal("empty input accepted")
			}
			return
		}
		if (oerr == nil) != (err == nil) {
			t.Fatalf("%q: encoding/json error %v, ParseInput error %v", s, oerr, err)
		}
		if err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(oerr, &te) && te.Field != "" && !strings.Contains(err.Message, "field "+te.Field+" must be ") {
				t.Fatalf("%q: %v, want it to name %s", s, err, te.Field)
			}
			return
		}
		got := oldInput{in.ClientID, in.ClientType, in.Scopes, in.BaseURL, in.OAuthURL, in.Refresh, in.Interactive, in.Encoding, in.Token, in.Method, in.URL, in.State, in.Server, in.ClientSecret}
		if !reflect.DeepEqual(normRaw(got), normRaw(old)) {
			t.Fatalf("%q:\n got %+v\nwant %+v", s, got, old)
		}
	})
}

func normRaw(in oldInput) oldInput {
	if len(in.Scopes) == 0 {
		in.Scopes = nil
	}
	if len(in.State) == 0 {
		in.State = nil
	}
	return in
}

// oldStored is the stored authentication as encoding/json read and wrote
// it.
type oldStored struct {
	Type                  string    `json:"type"`
	TokenType             string    `json:"tokenType"`
	ClientType            string    `json:"clientType,omitempty"`
	ClientID              string    `json:"clientId"`
	Token                 string    `json:"token"`
	Scopes                *[]string `json:"scopes,omitempty"`
	RefreshToken          string    `json:"refreshToken,omitempty"`
	ExpiresAt             string    `json:"expiresAt,omitempty"`
	RefreshTokenExpiresAt string    `json:"refreshTokenExpiresAt,omitempty"`
	IDToken               string    `json:"idToken,omitempty"`
	Local                 *struct {
		ExpiresAt             int64 `json:"expiresAt,omitempty"`
		RefreshTokenExpiresAt int64 `json:"refreshTokenExpiresAt,omitempty"`
	} `json:"local,omitempty"`
}

// FuzzCachedAsEncodingJSON: a store value is read as encoding/json read it,
// and an authentication is written (result and stored value) byte for byte
// as encoding/json wrote it.
func FuzzCachedAsEncodingJSON(f *testing.F) {
	for _, s := range []string{
		`{"type":"token","tokenType":"oauth","clientType":"oauth-app","clientId":"x","token":"gho_x","scopes":["repo"]}`,
		`{"clientType":"oauth-app","clientId":"x","token":"t","local":{"expiresAt":5},"local":{"refreshTokenExpiresAt":6}}`,
		`{"clientType":"oauth-app","clientId":"x","token":"t","scopes":null,"expiresAt":"2026-01-01T00:00:00.000Z","local":{"expiresAt":1.5}}`,
		`{"clientType":"oauth-app","clientId":"x","token":"t","scopes":[null,"a<b"],"local":null}`,
		`{"clientType":"oauth-app","clientId":"x","token":"t","scopes":[1]}`, `[]`, `null`,
		`{"clientType":"oauth-app","clientId":"x","token":"t","idToken":"eyJ.x.y","local":{"expiresAt":9}}`,
	} {
		f.Add(s)
	}
	c := &Config{ClientID: "x", ClientType: OAuthApp}
	f.Fuzz(func(t *testing.T, s string) {
		var old oldStored
		oerr := json.Unmarshal([]byte(s), &old)
		a := decodeCached(c, s)
		oldOK := oerr == nil && old.Token != "" && old.ClientID == c.ClientID && old.ClientType == c.ClientType
		if (a != nil) != oldOK {
			t.Fatalf("%q: decodeCached %v, encoding/json %v (%v)", s, a != nil, oldOK, oerr)
		}
		if a == nil {
			return
		}
		want, _ := json.Marshal(old)
		if got := a.stored(); !bytes.Equal(got, want) {
			t.Fatalf("%q: stored\n got %s\nwant %s", s, got, want)
		}
		old.Local = nil
		want, _ = json.Marshal(old)
		if got := a.json(); !bytes.Equal(got, want) {
			t.Fatalf("%q: json\n got %s\nwant %s", s, got, want)
		}
	})
}

// oldDeriveEndpoints is DeriveEndpoints as it was written over net/url.
func oldDeriveEndpoints(base string) (Endpoints, bool) {
	base = strings.TrimSpace(base)
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return Endpoints{}, false
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.Contains(u.Host, "@") {
		return Endpoints{}, false
	}
	if p := u.Port(); p != "" {
		n := 0
		for _, c := range p {
			n = n*10 + int(c-'0')
			if n > 65535 {
				return Endpoints{}, false
			}
		}
		if n < 1 {
			return Endpoints{}, false
		}
	}
	if strings.IndexFunc(base, unicode.IsControl) >= 0 {
		return Endpoints{}, false
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Host)
	switch scheme {
	case "https":
	case "http":
		if !IsLoopback(u.Hostname()) {
			return Endpoints{}, false
		}
	default:
		return Endpoints{}, false
	}
	path := strings.TrimSuffix(strings.TrimRight(u.Path, "/"), "/api/v3")
	if path != "" {
		return Endpoints{}, false
	}
	if host == "github.com" || host == "api.github.com" {
		return Endpoints{Base: "https://github.com", API: "https://api.github.com"}, true
	}
	if strings.HasSuffix(host, ".ghe.com") && scheme == "https" {
		web := strings.TrimPrefix(host, "api.")
		return Endpoints{Base: "https://" + web, API: "https://api." + web}, true
	}
	origin := scheme + "://" + host
	return Endpoints{Base: origin, API: origin + "/api/v3"}, true
}

// FuzzDeriveEndpointsAsNetURL: a base URL is accepted exactly when net/url
// accepted it, with the same endpoints.
func FuzzDeriveEndpointsAsNetURL(f *testing.F) {
	for _, s := range []string{
		"", "https://github.com/", "https://GHE.example.com/api/v3/", "http://[::1]:9", "http://[fe80::1%25en0]:80", "https://h:0",
		"https://h:", "https://a:b:c", "https://%C3%A9.example", "https://%41.example", "https://h/%61pi/v3", "https://h/%zz",
		"https://h#", "https://h#x", "https://h?", "https://h??", "https://u@h", "HTTPS://h", "https:h", "//h", "https:///h",
		"https://[1.2.3.4]", "https://h\u0085", "https://h\x7f", "https://h/api/v3#%", "https://a,b!.example", "https://h^",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, ok := oldDeriveEndpoints(s)
		got, err := DeriveEndpoints(s)
		if (err == nil) != ok || got != want {
			t.Fatalf("%q: got %+v, %v; net/url gave %+v, %v", s, got, err, want, ok)
		}
		if err != nil && (err.Code != CodeInvalidInput || !strings.Contains(err.Message, "baseUrl:")) {
			t.Fatalf("%q: %v, want invalid_input naming baseUrl", s, err)
		}
	})
}

// oldDeriveOAuth is deriveOAuth as it was written over net/url.
func oldDeriveOAuth(raw string) (string, bool) {
	raw = strings.TrimSpace(raw)
	if strings.IndexFunc(raw, unicode.IsControl) >= 0 {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", false
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.Contains(u.Host, "@") || u.ForceQuery {
		return "", false
	}
	if p := u.Port(); p != "" {
		n := 0
		for _, c := range p {
			n = n*10 + int(c-'0')
			if n > 65535 {
				return "", false
			}
		}
		if n < 1 {
			return "", false
		}
	}
	scheme := strings.ToLower(u.Scheme)
	switch scheme {
	case "https":
	case "http":
		if !IsLoopback(u.Hostname()) {
			return "", false
		}
	default:
		return "", false
	}
	if strings.ContainsAny(u.EscapedPath(), `%\`) {
		return "", false
	}
	return scheme + "://" + strings.ToLower(u.Host) + strings.TrimRight(u.EscapedPath(), "/"), true
}

// FuzzOAuthURLAsNetURL: a relay URL is accepted exactly when net/url
// accepted it, with the same root.
func FuzzOAuthURLAsNetURL(f *testing.F) {
	for _, s := range []string{"https://Relay.Example.com/gh/", "http://localhost:8787", "https://r/a b", "https://r/%61", "https://r/a\\b",
		"https://r/[x]@:;", "https://r?", "https://r#", "https://r/é", "https://r:99999", "ftp://r", "http://r"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, ok := oldDeriveOAuth(s)
		got, err := deriveOAuth(s)
		if (err == nil) != ok || got != want {
			t.Fatalf("%q: got %q, %v; net/url gave %q, %v", s, got, err, want, ok)
		}
		if err != nil && (err.Code != CodeInvalidInput || !strings.Contains(err.Message, "oauthUrl:")) {
			t.Fatalf("%q: %v, want invalid_input naming oauthUrl", s, err)
		}
	})
}

// FuzzFormAsNetURL: form bodies are read as url.ParseQuery read them (the
// first value of each name) and written as url.Values.Encode wrote them.
func FuzzFormAsNetURL(f *testing.F) {
	for _, s := range []string{"a=1&b=2", "a=1&a=2", "a%20b=c+d", "x=%zz&y=1", "a;b=1", "&&=&", "k", "é=ü&~-_.=*"} {
		f.Add(s, "v a/l+u&e=")
	}
	f.Fuzz(func(t *testing.T, body, value string) {
		v, err := url.ParseQuery(body)
		got, ok := parseForm(body)
		if (err == nil) != ok {
			t.Fatalf("%q: parseForm ok %v, ParseQuery error %v", body, ok, err)
		}
		if ok {
			want := map[string]string{}
			for k, vs := range v {
				want[k] = vs[0]
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%q: got %v, want %v", body, got, want)
			}
		}
		params := []param{{"client_id", value}, {"b", body}, {"a", "x"}}
		wantEnc := url.Values{"client_id": {value}, "b": {body}, "a": {"x"}}.Encode()
		if enc := formEncode(params); enc != wantEnc {
			t.Fatalf("formEncode: %q, want %q", enc, wantEnc)
		}
	})
}

// FuzzMediaTypeAsMime: the media type that decides how a body is parsed is
// the one mime.ParseMediaType answered.
func FuzzMediaTypeAsMime(f *testing.F) {
	for _, s := range []string{"application/json", "Application/JSON; charset=utf-8", "text/html;", "application", "application/", "/json",
		"application/vnd.github+json", "a b/c", `application/json; charset="x`, "application/json; a=1; a=2", " application/json ", "app/x\"+json"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _, _ := mime.ParseMediaType(s)
		if got := mediaType(s); got != want {
			t.Fatalf("%q: got %q, mime gave %q", s, got, want)
		}
	})
}

// oldStoreAnswer is the store answer as the guest read it with
// encoding/json.
type oldStoreAnswer struct {
	Value     *string `json:"value"`
	Conflict  bool    `json:"conflict"`
	Lease     string  `json:"lease"`
	Busy      bool    `json:"busy"`
	Cancelled bool    `json:"cancelled"`
	Error     *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// FuzzHostRecordsAsEncodingJSON: the guest reads the host functions'
// answers as encoding/json read them and writes its arguments byte for
// byte as encoding/json wrote them.
func FuzzHostRecordsAsEncodingJSON(f *testing.F) {
	for _, s := range []string{
		`{"status":200,"headers":{"content-type":"application/json","Date":"x"},"body":"{}"}`, `{"error":{"kind":"network","message":"m"}}`,
		`{"status":1.5}`, `{"status":200,"headers":{"a":1}}`, `{"status":0}`, `{"value":"v","conflict":true}`, `{"error":{}}`,
		`{"lease":"l","busy":false,"error":null}`, `{"value":null,"Value":"x"}`, `[]`, `null`,
	} {
		f.Add(s, "k<ey", "v&al\u2028")
	}
	f.Fuzz(func(t *testing.T, s, key, val string) {
		var oldResp Response
		oerr := json.Unmarshal([]byte(s), &oldResp)
		resp, ok := ParseResponse([]byte(s))
		wantOK := oerr == nil && (oldResp.Status != 0 || oldResp.Error != nil)
		if ok != wantOK {
			t.Fatalf("%q: ParseResponse ok %v, encoding/json %v (%v)", s, ok, wantOK, oerr)
		}
		if oldResp.Headers != nil {
			// ParseResponse keeps only the headers the engine reads.
			kept := map[string]string{}
			for k, v := range oldResp.Headers {
				if ReadsResponseHeader(k) {
					kept[k] = v
				}
			}
			oldResp.Headers = kept
		}
		if ok && !reflect.DeepEqual(*resp, oldResp) {
			t.Fatalf("%q: got %+v, want %+v", s, *resp, oldResp)
		}
		var oldA oldStoreAnswer
		oerr = json.Unmarshal([]byte(s), &oldA)
		a, ok := ParseStoreAnswer([]byte(s))
		if ok != (oerr == nil) {
			t.Fatalf("%q: ParseStoreAnswer ok %v, encoding/json error %v", s, ok, oerr)
		}
		if ok {
			var msg *string
			if oldA.Error != nil {
				msg = &oldA.Error.Message
			}
			want := StoreAnswer{oldA.Value, oldA.Conflict, oldA.Lease, oldA.Busy, oldA.Cancelled, msg}
			if !reflect.DeepEqual(a, want) {
				t.Fatalf("%q: got %+v, want %+v", s, a, want)
			}
		}

		req := &Request{Method: "POST", URL: key, Headers: map[string]string{"b": val, key: s, "a": ""}, Body: val, TimeoutMs: int64(len(s))}
		want, _ := json.Marshal(req)
		if got := AppendRequest(nil, req); !bytes.Equal(got, want) {
			t.Fatalf("request: got %s, want %s", got, want)
		}
		want, _ = json.Marshal(struct {
			Key string  `json:"key"`
			Old *string `json:"old,omitempty"`
			New *string `json:"new,omitempty"`
		}{key, &val, nil})
		if got := AppendStoreSwap(nil, key, &val, nil); !bytes.Equal(got, want) {
			t.Fatalf("store_swap: got %s, want %s", got, want)
		}
		want, _ = json.Marshal(struct {
			Key    string `json:"key"`
			WaitMs int64  `json:"waitMs"`
			TTLMs  int64  `json:"ttlMs"`
		}{key, int64(len(val)), -1})
		if got := AppendStoreLock(nil, key, int64(len(val)), -1); !bytes.Equal(got, want) {
			t.Fatalf("store_lock: got %s, want %s", got, want)
		}
		want, _ = json.Marshal(map[string]string{"key": key, "lease": val})
		if got := AppendStoreUnlock(nil, key, val); !bytes.Equal(got, want) {
			t.Fatalf("store_unlock: got %s, want %s", got, want)
		}
	})
}

// oldInfo is the info export as it was written with encoding/json (and
// with the response headers the engine reads, added since).
func oldInfo(raw []byte) []byte {
	out := map[string]any{
		"name": "deviceflow", "version": Version, "abi": ABIVersion,
		"exports": Exports, "imports": Imports, "errorCodes": Codes,
		"responseHeaders": ResponseHeaders(),
	}
	var in struct {
		BaseURL  string  `json:"baseUrl"`
		OAuthURL string  `json:"oauthUrl"`
		ClientID *string `json:"clientId"`
		Server
	}
	if len(raw) == 0 || json.Unmarshal(raw, &in) == nil {
		if ep, err := EndpointsFor(&Input{BaseURL: in.BaseURL, OAuthURL: in.OAuthURL, Server: in.Server}); err == nil {
			out["endpoints"] = ep
			if ep.Profile == ProfileGeneric {
				out["allow"] = ep.Origins()
			}
		} else {
			out["endpointsError"] = err
		}
	}
	if in.ClientID != nil {
		if full, err := ParseInput(raw); err != nil {
			out["inputError"] = err
		} else if _, err := full.Configure(); err != nil {
			out["inputError"] = err
		}
	}
	b, _ := json.Marshal(out)
	return b
}

// FuzzInfoAsEncodingJSON: info answers byte for byte what it answered.
func FuzzInfoAsEncodingJSON(f *testing.F) {
	for _, s := range []string{"", `{}`, `{"baseUrl":"https://ghe.example.com"}`, `{"baseUrl":"ftp://x"}`, `{"oauthUrl":"https://r/gh/","OAUTHURL":"http://x"}`, `{"issuer":"https://idp.example.com/realms/x"}`, `{"deviceEndpoint":"https://idp/d","tokenEndpoint":"https://idp/t?a=1","clientId":"c"}`, `{"clientId":"x","clientType":"app"}`,
		`{"clientId":5}`, `{"baseUrl":5,"clientId":"x"}`, `[1]`, `null`, `nope`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// encoding/json ended the decoding at the first syntax error
		// without reading a field; gjson does the same (Valid first).
		if got, want := Info([]byte(s)), oldInfo([]byte(s)); !bytes.Equal(got, want) {
			t.Fatalf("%q:\n got %s\nwant %s", s, got, want)
		}
	})
}

// TestStateRoundTrip: a suspended flow's state restores every field a poll
// uses, and is compact: no verification event inside it.
func TestStateRoundTrip(t *testing.T) {
	in, _ := ParseInput([]byte(`{"clientId":"Ov23li","scopes":"repo gist","baseUrl":"https://ghe.example.com/api/v3","encoding":"form"}`))
	cfg, err := in.Configure()
	if err != nil {
		t.Fatal(err)
	}
	m := &Machine{Op: OpBegin, Phase: phWaiting, Awaiting: EffectSleep, Config: *cfg,
		DeviceCode: "DC<1>", UserCode: "WDJB-MJHT", VerificationURI: "https://ghe.example.com/login/device",
		VerificationURIComplete: "https://ghe.example.com/login/device?user_code=WDJB-MJHT",
		ExpiresInMs:             900000, FirstIntervalMs: 5000, IntervalMs: 10000, DeadlineMs: 901000, WakeAtMs: 11000,
		WaitMs: 10500, Failures: 1, Garbage: 2, Attempts: 3, EarlyWakes: 4, wallOffset: 1767225600000}
	answer := m.Suspend()
	var a struct {
		State        json.RawMessage `json:"state"`
		Verification map[string]any  `json:"verification"`
		NextPollAt   int64           `json:"nextPollAt"`
		ExpiresAt    int64           `json:"expiresAt"`
		Interval     float64         `json:"interval"`
	}
	if err := json.Unmarshal(answer, &a); err != nil {
		t.Fatalf("%s: %v", answer, err)
	}
	if a.NextPollAt != 11000+m.wallOffset || a.ExpiresAt != 901000+m.wallOffset || a.Interval != 10 {
		t.Errorf("answer %s", answer)
	}
	wantV := map[string]any{"type": "verification", "device_code": "DC<1>", "user_code": "WDJB-MJHT",
		"verification_uri": m.VerificationURI, "verification_uri_complete": m.VerificationURIComplete, "expires_in": 900.0, "interval": 5.0}
	if !reflect.DeepEqual(a.Verification, wantV) {
		t.Errorf("verification %v", a.Verification)
	}
	if bytes.Contains(a.State, []byte("verification")) {
		t.Errorf("the state repeats the verification event: %s", a.State)
	}
	st, perr := ParseInput(append(append([]byte(`{"state":`), a.State...), '}'))
	if perr != nil {
		t.Fatal(perr)
	}
	back, err2 := parseState(st.state)
	if err2 != nil {
		t.Fatalf("%s: %v", a.State, err2)
	}
	back.WakeAtMs -= m.wallOffset
	back.DeadlineMs -= m.wallOffset
	// The configuration as the next suspension writes it, remembered.
	if got, want := string(back.configJSON), string(appendConfig(nil, &back.Config)); got != want {
		t.Errorf("config JSON %s, want %s", got, want)
	}
	back.configJSON = nil
	want := *m
	want.Op, want.wallOffset, want.Config.Requested = "", 0, nil
	if !reflect.DeepEqual(*back, want) {
		t.Errorf("restored\n%+v\nwant\n%+v", *back, want)
	}
	if !bytes.Equal(back.verification(), m.verification()) {
		t.Error("the verification event differs after a round trip")
	}
}

// oldServerURL is serverURL as it was written over net/url.
func oldServerURL(field, raw string, query bool) (string, bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", true
	}
	if strings.IndexFunc(raw, unicode.IsControl) >= 0 {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", false
	}
	if u.User != nil || u.Fragment != "" || strings.Contains(u.Host, "@") || (!query && u.RawQuery != "") {
		return "", false
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !IsLoopback(u.Hostname()) {
			return "", false
		}
	default:
		return "", false
	}
	if _, ok := originOf(strings.ToLower(u.Scheme), u.Host); !ok {
		return "", false
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	return u.String(), true
}

// FuzzServerURLAsNetURL: an issuer or endpoint URL is accepted exactly when
// net/url accepted it, and written as net/url's URL.String wrote it.
func FuzzServerURLAsNetURL(f *testing.F) {
	for _, s := range []string{"https://Auth.Example.com/realms/r", "https://login.example.com/tenant/v2.0/", "http://127.0.0.1:8080/o?x=1",
		"https://h/a b", "https://h/%61%2F", "https://h/a\\b", "https://h/é", "https://h/[x]!'()*", "https://h/a\"{|}^`", "https://h?", "https://h?a#",
		"https://h#", "https://h#f", "https://u@h", "https://h:99999", "https://h:443", "ftp://h", "http://h", "https:h", "//h", "https://[::1]:8443/x",
		"https://[fe80::1%25en0]/", "HTTPS://H/P?Q", "https://h/?a=%zz", "https://h/%zz", "https://a%41.example/", "https://h/*", " https://h/ "} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, query bool) {
		want, ok := oldServerURL("issuer", s, query)
		got, err := serverURL("issuer", s, query)
		if (err == nil) != ok || got != want {
			t.Fatalf("%q (query %v): got %q, %v; net/url gave %q, %v", s, query, got, err, want, ok)
		}
		if err != nil && (err.Code != CodeInvalidInput || !strings.Contains(err.Message, "issuer:")) {
			t.Fatalf("%q: %v, want invalid_input naming issuer", s, err)
		}
	})
}
