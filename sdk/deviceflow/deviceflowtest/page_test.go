package deviceflowtest_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

// getPage fetches a page and returns its status and HTML.
func getPage(t *testing.T, target string) (int, string) {
	t.Helper()
	res, err := http.Get(target)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("content type %q", ct)
	}
	return res.StatusCode, string(b)
}

// submit posts the device form as a browser would.
func submit(t *testing.T, s *deviceflowtest.Server, code, action string) string {
	t.Helper()
	form := url.Values{deviceflowtest.FieldUserCode: {code}}
	if action != "" {
		form.Set(deviceflowtest.FieldAction, action)
	}
	res, err := http.PostForm(s.URL()+deviceflowtest.FormPath, form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("form status %d: %s", res.StatusCode, b)
	}
	return string(b)
}

func result(html string) string {
	const marker = `id="result" data-result="`
	i := strings.Index(html, marker)
	if i < 0 {
		return ""
	}
	rest := html[i+len(marker):]
	return rest[:strings.IndexByte(rest, '"')]
}

func TestPageForm(t *testing.T) {
	s := start(t, deviceflowtest.Config{})
	status, html := getPage(t, s.URL()+"/login/device")
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	for _, want := range []string{
		`<form id="device-form" method="post" action="/login/device">`,
		`id="user_code" name="user_code" value=""`,
		`id="authorize" name="action" value="authorize"`,
		`id="cancel" name="action" value="cancel"`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	// The code in the URL fills the field, normalised.
	_, html = getPage(t, s.URL()+"/login/device?user_code=wdjb+mjht")
	if !strings.Contains(html, `value="WDJB-MJHT"`) {
		t.Errorf("code not filled in")
	}
	// Whatever is in the URL is escaped.
	_, html = getPage(t, s.URL()+"/login/device?user_code="+url.QueryEscape(`"><script>`))
	if strings.Contains(html, "<script>") {
		t.Errorf("user_code not escaped")
	}
}

func TestPageDecisions(t *testing.T) {
	clock := deviceflowtest.NewFakeClock(time.Time{})
	s := start(t, deviceflowtest.Config{Now: clock.Now, Login: "hubot"})

	tests := []struct {
		name   string
		typed  func(userCode string) string
		action string
		want   string // data-result
		poll   string // the next poll's error, or "" for a token
	}{
		{"authorize as typed", func(c string) string { return c }, deviceflowtest.ActionAuthorize, deviceflowtest.ResultAuthorized, ""},
		{"lower case without dash", func(c string) string { return strings.ToLower(strings.ReplaceAll(c, "-", "")) }, deviceflowtest.ActionAuthorize, deviceflowtest.ResultAuthorized, ""},
		{"spaces around", func(c string) string { return "  " + c + " " }, deviceflowtest.ActionAuthorize, deviceflowtest.ResultAuthorized, ""},
		{"enter key, no action", func(c string) string { return c }, "", deviceflowtest.ResultAuthorized, ""},
		{"cancel", func(c string) string { return c }, deviceflowtest.ActionCancel, deviceflowtest.ResultCancelled, "access_denied"},
		{"wrong code", func(c string) string { return "BBBB-BBBB" }, deviceflowtest.ActionAuthorize, deviceflowtest.ResultInvalid, "authorization_pending"},
		{"garbage", func(c string) string { return "not a code!" }, deviceflowtest.ActionAuthorize, deviceflowtest.ResultInvalid, "authorization_pending"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dc := deviceCode(t, s, "Ov23.a", "repo")
			html := submit(t, s, tc.typed(dc.get("user_code")), tc.action)
			if got := result(html); got != tc.want {
				t.Fatalf("result %q, want %q", got, tc.want)
			}
			if tc.want == deviceflowtest.ResultAuthorized && !strings.Contains(html, "hubot") {
				t.Errorf("success page does not name the user")
			}
			if tc.want == deviceflowtest.ResultInvalid && !strings.Contains(html, `id="device-form"`) {
				t.Errorf("an invalid code should show the form again")
			}
			clock.Advance(5 * time.Second)
			a := poll(t, s, "Ov23.a", dc.get("device_code"))
			if tc.poll == "" {
				if a.get("access_token") == "" {
					t.Errorf("no token after %s: %s", tc.name, a.body)
				}
			} else if a.get("error") != tc.poll {
				t.Errorf("poll after %s: %s, want %s", tc.name, a.body, tc.poll)
			}
		})
	}

	t.Run("code used twice", func(t *testing.T) {
		dc := deviceCode(t, s, "Ov23.a", "")
		if got := result(submit(t, s, dc.get("user_code"), deviceflowtest.ActionAuthorize)); got != deviceflowtest.ResultAuthorized {
			t.Fatalf("first: %q", got)
		}
		if got := result(submit(t, s, dc.get("user_code"), deviceflowtest.ActionCancel)); got != deviceflowtest.ResultInvalid {
			t.Errorf("second: %q", got)
		}
	})
	t.Run("expired code", func(t *testing.T) {
		dc := deviceCode(t, s, "Ov23.a", "")
		clock.Advance(15 * time.Minute)
		if got := result(submit(t, s, dc.get("user_code"), deviceflowtest.ActionAuthorize)); got != deviceflowtest.ResultInvalid {
			t.Errorf("expired: %q", got)
		}
	})
}
