package deviceflow_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/deviceflow/deviceflow/sdk/deviceflow"
	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

// approve plays the person at the browser: it opens the page and presses
// Authorize on the emulator's form.
func approve(v deviceflow.Verification) error {
	res, err := http.PostForm(v.VerificationURI, url.Values{"user_code": {v.UserCode}, "action": {"authorize"}})
	if err != nil {
		return err
	}
	defer res.Body.Close()
	_, err = io.Copy(io.Discard, res.Body)
	return err
}

func ExampleClient_Token() {
	// A local GitHub stand-in; leave BaseURL empty for github.com.
	gh := deviceflowtest.NewServer(deviceflowtest.Config{Interval: 50 * time.Millisecond})
	defer gh.Close()

	c, err := deviceflow.New(deviceflow.Config{
		ClientID: "Ov23liExample",
		Scopes:   []string{"repo", "read:org"},
		BaseURL:  gh.URL(),
		OnVerification: func(ctx context.Context, v deviceflow.Verification) error {
			fmt.Println("code shown:", len(v.UserCode) == 9)
			// A real program prints v.VerificationURI and v.UserCode for
			// the person; here the example approves it itself.
			go approve(v)
			return nil
		},
	})
	if err != nil {
		panic(err)
	}
	defer c.Close()

	auth, err := c.Token(context.Background())
	if err != nil {
		panic(err)
	}
	fmt.Println(auth.ClientType, auth.Scopes, deviceflow.Mask(auth.Token))

	// The second call answers from the cache: no new code.
	again, _ := c.Token(context.Background())
	fmt.Println("same token:", again.Token == auth.Token)
	// Output:
	// code shown: true
	// oauth-app [read:org repo] gho_********
	// same token: true
}

func ExampleClient_Client() {
	gh := deviceflowtest.NewServer(deviceflowtest.Config{Interval: 50 * time.Millisecond, Login: "octocat"})
	defer gh.Close()
	c, err := deviceflow.New(deviceflow.Config{
		ClientID: "Ov23liExample",
		BaseURL:  gh.URL(),
		OnVerification: func(ctx context.Context, v deviceflow.Verification) error {
			go approve(v)
			return nil
		},
	})
	if err != nil {
		panic(err)
	}
	defer c.Close()

	// The first request signs in; every request carries the token.
	res, err := c.Client(context.Background()).Get(gh.APIURL() + "/user")
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	var user struct{ Login string }
	json.NewDecoder(res.Body).Decode(&user)
	fmt.Println(res.StatusCode, user.Login)
	// Output: 200 octocat
}

func ExampleClient_TokenSource() {
	gh := deviceflowtest.NewServer(deviceflowtest.Config{
		Interval:    50 * time.Millisecond,
		AutoApprove: 1,
		Clients:     []deviceflowtest.Client{{ID: "Iv1.example", Type: deviceflowtest.GitHubApp, ExpiringTokens: true}},
	})
	defer gh.Close()
	c, err := deviceflow.New(deviceflow.Config{
		ClientID:       "Iv1.example",
		ClientType:     deviceflow.GitHubApp,
		BaseURL:        gh.URL(),
		OnVerification: func(context.Context, deviceflow.Verification) error { return nil },
	})
	if err != nil {
		panic(err)
	}
	defer c.Close()

	tok, err := c.TokenSource(context.Background()).Token()
	if err != nil {
		panic(err)
	}
	fmt.Println(tok.Type(), deviceflow.Mask(tok.AccessToken), time.Until(tok.Expiry).Round(time.Hour))
	// Output: Bearer ghu_******** 8h0m0s
}

func ExampleClient_Token_cancelled() {
	gh := deviceflowtest.NewServer(deviceflowtest.Config{Interval: 50 * time.Millisecond})
	defer gh.Close()
	c, _ := deviceflow.New(deviceflow.Config{
		ClientID: "Ov23liExample",
		BaseURL:  gh.URL(),
		OnVerification: func(ctx context.Context, v deviceflow.Verification) error {
			// The person presses Cancel on the page.
			go http.PostForm(v.VerificationURI, url.Values{"user_code": {v.UserCode}, "action": {"cancel"}})
			return nil
		},
	})
	defer c.Close()

	_, err := c.Token(context.Background())
	fmt.Println(errors.Is(err, deviceflow.ErrAccessDenied))
	// Output: true
}
