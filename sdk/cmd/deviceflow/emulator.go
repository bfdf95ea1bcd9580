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
		profile     = fs.String("profile", "github", "github, or generic: an RFC 8628 / OpenID Connect server under an issuer path (discovery, RFC 6749 errors, id_token, expiring tokens)")
		issuerPath  = fs.String("issuer-path", deviceflowtest.DefaultIssuerPath, "with --profile generic, the issuer's path")
		secret      = fs.String("client-secret", "", "with --profile generic, the secret --client-id must present")
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
	generic := false
	switch *profile {
	case "github", "":
		if *secret != "" {
			return usageError(term.stderr, "--client-secret applies to --profile generic")
		}
	case deviceflowtest.ProfileGeneric:
		generic = true
		cfg.Profile, cfg.IssuerPath = deviceflowtest.ProfileGeneric, *issuerPath
		if !isSet(fs, "expiring-tokens") {
			// Generic tokens expire; refresh tokens only when asked for.
			*expiring = false
		}
	default:
		return usageError(term.stderr, "--profile must be github or generic, not %+q", *profile)
	}
	if *clientID != "" {
		cfg.AllowUnknownClients = true
		cfg.Clients = []deviceflowtest.Client{{
			ID: *clientID, Type: deviceflowtest.ClientType(*clientType),
			ExpiringTokens: *expiring, DeviceFlowDisabled: *disabled, Secret: *secret,
		}}
	} else if *secret != "" {
		return usageError(term.stderr, "--client-secret applies to --client-id: name the client")
	} else if *clientType != string(deviceflowtest.OAuthApp) || *disabled {
		return usageError(term.stderr, "--client-type and --device-flow-disabled apply to --client-id: name the client")
	}
	if *verbose {
		cfg.Logger = slog.New(slog.NewTextHandler(term.stderr, nil))
	}
	ready := func(s *deviceflowtest.Server) {
		switch {
		case *asJSON && generic:
			printJSON(term, map[string]string{"url": s.URL(), "issuer": s.IssuerURL()})
		case *asJSON:
			printJSON(term, map[string]string{"url": s.URL(), "apiUrl": s.APIURL()})
		case generic:
			fmt.Fprintln(term.stdout, s.IssuerURL())
		default:
			fmt.Fprintln(term.stdout, s.URL())
		}
		if *certOut != "" && *useTLS {
			if err := os.WriteFile(*certOut, s.CertPEM(), 0o644); err != nil {
				fmt.Fprintf(term.stderr, "deviceflow: writing the certificate: %s\n", message(err))
			}
		}
		if generic {
			fmt.Fprintf(term.stderr, "Generic RFC 8628 emulator listening at %s\n", s.URL())
			fmt.Fprintf(term.stderr, "  Issuer:      %s\n", s.IssuerURL())
			fmt.Fprintf(term.stderr, "  Device page: %s\n", s.PageURL(""))
			fmt.Fprintf(term.stderr, "  Sign in:     deviceflow login --issuer %s --client-id %s --store memory\n", s.IssuerURL(), or(*clientID, "emulator-client"))
		} else {
			fmt.Fprintf(term.stderr, "GitHub device-flow emulator listening at %s\n", s.URL())
			fmt.Fprintf(term.stderr, "  Device page: %s\n", s.PageURL(""))
			fmt.Fprintf(term.stderr, "  Sign in:     deviceflow login --base-url %s --client-id %s --store memory\n", s.URL(), or(*clientID, "Ov23liEmulator"))
		}
		fmt.Fprintf(term.stderr, "  Codes last %s; polling interval %s. Ctrl-C stops.\n", *expiresIn, *interval)
	}
	err := deviceflowtest.ListenAndServe(ctx, *addr, cfg, ready)
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(term.stderr, "deviceflow: emulator: %s\n", message(err))
		return exitFailure
	}
	return exitOK
}

// isSet reports whether a flag was given on the command line.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
