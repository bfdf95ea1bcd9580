// Command whoami signs in to GitHub with the device flow and says who you
// are: the smallest complete program on the deviceflow Go SDK.
//
//	go run ./examples/go -client-id Ov23li...            # github.com
//	go run ./examples/go -client-id x -base-url http://127.0.0.1:PORT   # an emulator
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/deviceflow/deviceflow/sdk/deviceflow"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("whoami", flag.ContinueOnError)
	fs.SetOutput(stderr)
	clientID := fs.String("client-id", os.Getenv("DEVICEFLOW_CLIENT_ID"), "your OAuth App's client id (device flow enabled)")
	baseURL := fs.String("base-url", "", "GitHub Enterprise Server or emulator URL (default github.com)")
	scopes := fs.String("scopes", "read:user", "scopes to ask for, comma separated")
	if err := fs.Parse(args); err != nil {
		return 2
	}

	client, err := deviceflow.New(deviceflow.Config{
		ClientID: *clientID,
		BaseURL:  *baseURL,
		Scopes:   strings.Split(*scopes, ","),
		// Show the code the way you like; this is the whole UI.
		OnVerification: func(ctx context.Context, v deviceflow.Verification) error {
			fmt.Fprintf(stderr, "Open %s and enter the code %s\n", v.VerificationURI, v.UserCode)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintln(stderr, "whoami:", err)
		return 1
	}
	defer client.Close()

	// Every request through this client carries the token; the first one
	// signs in.
	res, err := client.Client(ctx).Get(client.APIURL() + "/user")
	if err != nil {
		fmt.Fprintln(stderr, "whoami:", err)
		return 1
	}
	defer res.Body.Close()
	var user struct {
		Login string `json:"login"`
	}
	if err := json.NewDecoder(res.Body).Decode(&user); err != nil || res.StatusCode != 200 {
		fmt.Fprintf(stderr, "whoami: GET /user answered %s\n", res.Status)
		return 1
	}
	fmt.Fprintf(stdout, "Hello, %s! Your token has the scopes %q.\n", user.Login, res.Header.Get("X-OAuth-Scopes"))
	return 0
}
