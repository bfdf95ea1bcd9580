package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

func runEmulator(ctx context.Context, args []string, term *terminal, getenv func(string) string) int {
	fs := flag.NewFlagSet("deviceflow emulator", flag.ContinueOnError)
	fs.SetOutput(term.stderr)
	var (
		addr        = fs.String("addr", "127.0.0.1:0", "address to listen on; port 0 picks a free port")
		interval    = fs.Duration("interval", deviceflowtest.DefaultInterval, "polling interval given with each code (fractions of a second allowed)")
		expiresIn   = fs.Duration("expires-in", deviceflowtest.DefaultExpiresIn, "how long codes live")
		autoApprove = fs.Int("auto-approve", 0, "approve each code at its Nth poll (0: wait for the web page)")
		clientID    = fs.String("client-id", "", "register this client id (others are still accepted as OAuth Apps)")
		clientType  = fs.String("client-type", string(deviceflowtest.OAuthApp), "type of --client-id: oauth-app or github-app")
		expiring    = fs.Bool("expiring-tokens", true, "give a github-app client expiring tokens with refresh tokens")
		disabled    = fs.Bool("device-flow-disabled", false, "make --client-id answer device_flow_disabled")
		tokenLife   = fs.Duration("token-lifetime", deviceflowtest.DefaultAccessTokenLifetime, "lifetime of expiring access tokens")
		refreshLife = fs.Duration("refresh-token-lifetime", deviceflowtest.DefaultRefreshTokenLifetime, "lifetime of refresh tokens")
		tolerance   = fs.Duration("poll-tolerance", 0, "forgive polls this much early before answering slow_down")
		login       = fs.String("login", deviceflowtest.DefaultLogin, "the user who approves codes")
		complete    = fs.Bool("verification-uri-complete", false, "send verification_uri_complete (GitHub does not)")
		cors        = fs.Bool("cors", false, "answer with CORS headers, for browser tests")
		useTLS      = fs.Bool("tls", false, "serve HTTPS with a generated self-signed certificate")
		certOut     = fs.String("cert-out", "", "with --tls, write the certificate (PEM) to this file")
		verbose     = fs.Bool("verbose", false, "log each request on stderr (never tokens or device codes)")
		asJSON      = fs.Bool("json", false, `print {"url","apiUrl"} as JSON instead of the bare URL`)
	)
	fs.Usage = func() {
		fmt.Fprint(term.stderr, "Usage: deviceflow emulator [flags]\n\nRun a local stand-in for GitHub's device flow until Ctrl-C. The first line\non stdout is its base URL; pass it to the other commands as --base-url.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if code, ok := parse(fs, args); !ok {
		return code
	}
	cfg := deviceflowtest.Config{
		Interval: *interval, ExpiresIn: *expiresIn, AutoApprove: *autoApprove,
		AccessTokenLifetime: *tokenLife, RefreshTokenLifetime: *refreshLife,
		PollTolerance: *tolerance, Login: *login, VerificationURIComplete: *complete,
		CORS: *cors, TLS: *useTLS,
	}
	if *clientID != "" {
		cfg.AllowUnknownClients = true
		cfg.Clients = []deviceflowtest.Client{{
			ID: *clientID, Type: deviceflowtest.ClientType(*clientType),
			ExpiringTokens: *expiring, DeviceFlowDisabled: *disabled,
		}}
	} else if *clientType != string(deviceflowtest.OAuthApp) || *disabled {
		return usageError(term.stderr, "--client-type and --device-flow-disabled apply to --client-id: name the client")
	}
	if *verbose {
		cfg.Logger = slog.New(slog.NewTextHandler(term.stderr, nil))
	}
	ready := func(s *deviceflowtest.Server) {
		if *asJSON {
			printJSON(term, map[string]string{"url": s.URL(), "apiUrl": s.APIURL()})
		} else {
			fmt.Fprintln(term.stdout, s.URL())
		}
		if *certOut != "" && *useTLS {
			if err := os.WriteFile(*certOut, s.CertPEM(), 0o644); err != nil {
				fmt.Fprintf(term.stderr, "deviceflow: writing the certificate: %s\n", message(err))
			}
		}
		fmt.Fprintf(term.stderr, "GitHub device-flow emulator listening at %s\n", s.URL())
		fmt.Fprintf(term.stderr, "  Device page: %s\n", s.PageURL(""))
		fmt.Fprintf(term.stderr, "  Sign in:     deviceflow login --base-url %s --client-id %s --store memory\n", s.URL(), or(*clientID, "Ov23liEmulator"))
		fmt.Fprintf(term.stderr, "  Codes last %s; polling interval %s. Ctrl-C stops.\n", *expiresIn, *interval)
	}
	err := deviceflowtest.ListenAndServe(ctx, *addr, cfg, ready)
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(term.stderr, "deviceflow: emulator: %s\n", message(err))
		return exitFailure
	}
	return exitOK
}
