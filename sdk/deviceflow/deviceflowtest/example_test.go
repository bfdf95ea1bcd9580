package deviceflowtest_test

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

// A device-flow client under test, here plain net/http, against the
// emulator: ask for a code, approve it as the person would, poll for the
// token.
func ExampleNewServer() {
	emu := deviceflowtest.NewServer(deviceflowtest.Config{Interval: 50 * time.Millisecond})
	defer emu.Close()

	post := func(path string, form url.Values, out any) {
		req, _ := http.NewRequest("POST", emu.URL()+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		defer res.Body.Close()
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			log.Fatal(err)
		}
	}

	var code struct {
		DeviceCode      string  `json:"device_code"`
		UserCode        string  `json:"user_code"`
		VerificationURI string  `json:"verification_uri"`
		Interval        float64 `json:"interval"`
	}
	post("/login/device/code", url.Values{"client_id": {"Ov23liExample"}, "scope": {"repo"}}, &code)
	fmt.Printf("the person opens %s and types the %d-character code\n", strings.TrimPrefix(code.VerificationURI, emu.URL()), len(code.UserCode))

	// The person enters the code and presses Authorize (or a test calls
	// Approve; the page at code.VerificationURI works too).
	if err := emu.Approve(code.UserCode); err != nil {
		log.Fatal(err)
	}

	// Wait the interval, as RFC 8628 asks, then poll.
	time.Sleep(time.Duration(code.Interval * float64(time.Second)))
	var tok struct {
		AccessToken string `json:"access_token"`
		Scope       string `json:"scope"`
		Error       string `json:"error"`
	}
	post("/login/oauth/access_token", url.Values{
		"client_id":   {"Ov23liExample"},
		"device_code": {code.DeviceCode},
		"grant_type":  {"urn:ietf:params:oauth:grant-type:device_code"},
	}, &tok)
	fmt.Println(tok.AccessToken[:4], tok.Scope, tok.Error == "")
	st := emu.Stats()
	fmt.Println("polls:", st.AccessToken, "slow_down:", st.SlowDowns, "tokens:", st.TokensIssued)
	// Output:
	// the person opens /login/device and types the 9-character code
	// gho_ repo true
	// polls: 1 slow_down: 0 tokens: 1
}
