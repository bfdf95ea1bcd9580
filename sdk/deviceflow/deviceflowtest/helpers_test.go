package deviceflowtest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

const deviceGrant = "urn:ietf:params:oauth:grant-type:device_code"

// start runs an emulator on a loopback port for the length of the test.
func start(t *testing.T, cfg deviceflowtest.Config) *deviceflowtest.Server {
	t.Helper()
	s, err := deviceflowtest.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// encoding is how a request carries its parameters.
type encoding string

const (
	asJSON  encoding = "json"
	asForm  encoding = "form"
	asQuery encoding = "query"
)

// answer is a decoded OAuth answer.
type answer struct {
	status int
	header http.Header
	body   string
	ctype  string
	// fields are the values as text; numbers keeps JSON numbers' raw text.
	fields  map[string]string
	numbers map[string]bool
}

func (a answer) get(k string) string { return a.fields[k] }

// call sends an OAuth request: params encoded as enc, Accept: application/json
// when jsonAnswer.
func call(t *testing.T, client *http.Client, base, path string, enc encoding, jsonAnswer bool, params map[string]string) answer {
	t.Helper()
	req := newRequest(t, base+path, enc, params)
	if jsonAnswer {
		req.Header.Set("Accept", "application/json")
	}
	return do(t, client, req)
}

func newRequest(t *testing.T, target string, enc encoding, params map[string]string) *http.Request {
	t.Helper()
	var body io.Reader
	v := url.Values{}
	for k, val := range params {
		v.Set(k, val)
	}
	switch enc {
	case asJSON:
		b, _ := json.Marshal(params)
		body = bytes.NewReader(b)
	case asForm:
		body = strings.NewReader(v.Encode())
	case asQuery:
		target += "?" + v.Encode()
	}
	req, err := http.NewRequest(http.MethodPost, target, body)
	if err != nil {
		t.Fatal(err)
	}
	switch enc {
	case asJSON:
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	case asForm:
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return req
}

// do sends req and decodes the answer as JSON or form by its content type.
func do(t *testing.T, client *http.Client, req *http.Request) answer {
	t.Helper()
	a, err := tryDo(client, req)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// tryDo is do for goroutines other than the test's: it returns errors.
func tryDo(client *http.Client, req *http.Request) (answer, error) {
	if client == nil {
		client = http.DefaultClient
	}
	res, err := client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return answer{}, err
	}
	a := answer{status: res.StatusCode, header: res.Header, body: string(raw), fields: map[string]string{}, numbers: map[string]bool{}}
	a.ctype, _, _ = mime.ParseMediaType(res.Header.Get("Content-Type"))
	switch a.ctype {
	case "application/json":
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			return a, fmt.Errorf("bad JSON %q: %v", raw, err)
		}
		for k, v := range m {
			switch x := v.(type) {
			case string:
				a.fields[k] = x
			case json.Number:
				a.fields[k] = x.String()
				a.numbers[k] = true
			default:
				b, _ := json.Marshal(x)
				a.fields[k] = string(b)
			}
		}
	case "application/x-www-form-urlencoded":
		v, err := url.ParseQuery(string(raw))
		if err != nil {
			return a, fmt.Errorf("bad form %q: %v", raw, err)
		}
		for k := range v {
			a.fields[k] = v.Get(k)
		}
	}
	return a, nil
}

// tryJSON posts a JSON request asking for a JSON answer, for goroutines
// other than the test's.
func tryJSON(target string, params map[string]string) (answer, error) {
	b, _ := json.Marshal(params)
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(b))
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	return tryDo(nil, req)
}

// deviceCode asks for a device code as a JSON client would.
func deviceCode(t *testing.T, s *deviceflowtest.Server, clientID, scope string) answer {
	t.Helper()
	p := map[string]string{"client_id": clientID}
	if scope != "" {
		p["scope"] = scope
	}
	a := call(t, nil, s.URL(), "/login/device/code", asJSON, true, p)
	if a.status != http.StatusOK || a.get("device_code") == "" {
		t.Fatalf("device code: %d %s", a.status, a.body)
	}
	return a
}

// poll polls the token endpoint once as a JSON client would.
func poll(t *testing.T, s *deviceflowtest.Server, clientID, code string) answer {
	t.Helper()
	return call(t, nil, s.URL(), "/login/oauth/access_token", asJSON, true, map[string]string{
		"client_id": clientID, "device_code": code, "grant_type": deviceGrant,
	})
}

// refresh uses a refresh token once as a JSON client would.
func refresh(t *testing.T, s *deviceflowtest.Server, clientID, rt string) answer {
	t.Helper()
	return call(t, nil, s.URL(), "/login/oauth/access_token", asJSON, true, map[string]string{
		"client_id": clientID, "refresh_token": rt, "grant_type": "refresh_token",
	})
}

// getUser calls the API's /user with a token through the GHES path.
func getUser(t *testing.T, s *deviceflowtest.Server, token string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.APIURL()+"/user", nil)
	if token != "" {
		req.Header.Set("Authorization", "token "+token)
	}
	return do(t, nil, req)
}

// wantError checks an OAuth error answer.
func wantError(t *testing.T, a answer, status int, code string) {
	t.Helper()
	if a.status != status || a.get("error") != code {
		t.Fatalf("got %d %s, want %d error=%s", a.status, a.body, status, code)
	}
	if a.get("error_description") == "" || !strings.HasPrefix(a.get("error_uri"), "https://docs.github.com/") {
		t.Errorf("error answer lacks description or docs uri: %s", a.body)
	}
	if a.get("access_token") != "" {
		t.Errorf("error answer carries a token: %s", a.body)
	}
}

// approvedFlow runs a device flow to its token with a fake clock.
func approvedFlow(t *testing.T, s *deviceflowtest.Server, clock *deviceflowtest.FakeClock, clientID, scope string) answer {
	t.Helper()
	dc := deviceCode(t, s, clientID, scope)
	if err := s.Approve(dc.get("user_code")); err != nil {
		t.Fatal(err)
	}
	clock.Advance(5 * time.Second)
	tok := poll(t, s, clientID, dc.get("device_code"))
	if tok.get("access_token") == "" {
		t.Fatalf("no token: %s", tok.body)
	}
	return tok
}
