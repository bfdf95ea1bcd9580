package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/deviceflow/deviceflow/host/relay"
)

// listFlag is a flag that may be given more than once.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// runRelay serves the CORS relay (host/relay) until Ctrl-C: the server a
// web page needs for GitHub's OAuth endpoints, which send no CORS headers.
func runRelay(ctx context.Context, args []string, term *terminal, getenv func(string) string) int {
	fs := flag.NewFlagSet("deviceflow relay", flag.ContinueOnError)
	fs.SetOutput(term.stderr)
	var origins, clientIDs, proxies listFlag
	var (
		listen      = fs.String("listen", "127.0.0.1:8787", "address to listen on (host:port; port 0 picks a free port)")
		github      = fs.String("github", "https://github.com", "the GitHub to relay to: https://github.com, https://HOST (GitHub Enterprise Server), https://SUBDOMAIN.ghe.com, or a host name")
		rate        = fs.Float64("rate", relay.DefaultRate, "requests per second each client address may make on average; 0 turns the limit off")
		burst       = fs.Int("burst", relay.DefaultBurst, "requests a client address may make at once")
		timeout     = fs.Duration("timeout", relay.DefaultUpstreamTimeout, "time cap on each request to GitHub")
		maxBody     = fs.Int64("max-body", relay.DefaultMaxRequestBytes, "largest request body relayed, in bytes")
		maxResponse = fs.Int64("max-response", relay.DefaultMaxResponseBytes, "largest answer from GitHub passed on, in bytes")
		certFile    = fs.String("tls-cert", "", "serve HTTPS with this certificate (PEM; with --tls-key)")
		keyFile     = fs.String("tls-key", "", "the private key of --tls-cert (PEM)")
		quiet       = fs.Bool("quiet", false, "log nothing (by default one line per request on stderr, never a body, code or token)")
		asJSON      = fs.Bool("json", false, `print {"url","github"} as JSON instead of the bare URL`)
	)
	fs.Var(&origins, "allow-origin", "a web origin whose pages may use the relay, such as https://app.example.com (repeat for more; required)")
	fs.Var(&clientIDs, "client-id", "relay only this client id (repeat for more; default: any)")
	fs.Var(&proxies, "trusted-proxy", "address or CIDR of a reverse proxy in front of the relay whose X-Forwarded-For is believed (repeat for more)")
	fs.Usage = func() {
		fmt.Fprint(term.stderr, "Usage: deviceflow relay --allow-origin ORIGIN [flags]\n\nRelay a web page's device flow to GitHub until Ctrl-C. GitHub's OAuth\nendpoints send no CORS headers, so a page cannot call them; the relay\nforwards only POST /login/device/code and POST /login/oauth/access_token\n(device-code and refresh-token grants), answers CORS for the --allow-origin\npages only, and rate-limits each client address. The first line on stdout\nis its URL: give it to the browser SDK as the OAuth base.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if len(origins) == 0 {
		return usageError(term.stderr, "--allow-origin is required: the origin of the page that signs in, such as https://app.example.com")
	}
	for _, o := range origins {
		if _, err := relay.CanonicalOrigin(o); err != nil {
			return usageError(term.stderr, "bad --allow-origin: %s", err)
		}
	}
	var trusted []netip.Prefix
	for _, p := range proxies {
		prefix, err := parsePrefix(p)
		if err != nil {
			return usageError(term.stderr, "bad --trusted-proxy %+q: an IP address or CIDR such as 10.0.0.0/8", p)
		}
		trusted = append(trusted, prefix)
	}
	if (*certFile == "") != (*keyFile == "") {
		return usageError(term.stderr, "--tls-cert and --tls-key go together")
	}
	if *rate < 0 || *burst < 1 || *timeout <= 0 || *maxBody < 1 || *maxResponse < 1 {
		return usageError(term.stderr, "--rate must not be negative; --burst, --timeout, --max-body and --max-response must be positive")
	}
	base := strings.TrimRight(strings.TrimSpace(*github), "/")
	if base != "" && !strings.Contains(base, "://") {
		base = "https://" + base
	}
	cfg := relay.Config{
		GitHub: base, AllowedOrigins: origins, ClientIDs: clientIDs,
		Rate: *rate, Burst: *burst, TrustedProxies: trusted,
		UpstreamTimeout: *timeout, MaxRequestBytes: *maxBody, MaxResponseBytes: *maxResponse,
	}
	if *rate == 0 {
		cfg.Rate = -1
	}
	if !*quiet {
		cfg.Logger = slog.New(slog.NewTextHandler(term.stderr, nil))
	}
	rl, err := relay.New(cfg)
	if err != nil {
		if why, ok := strings.CutPrefix(err.Error(), "relay: GitHub: "); ok {
			return usageError(term.stderr, "bad --github %+q: %s", *github, why)
		}
		return usageError(term.stderr, "%s", strings.TrimPrefix(err.Error(), "relay: "))
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(term.stderr, "deviceflow: relay: %s\n", message(err))
		return exitFailure
	}
	srv := &http.Server{
		Handler:           rl,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       *timeout + 5*time.Second,
		WriteTimeout:      *timeout + 10*time.Second,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	scheme := "http"
	if *certFile != "" {
		cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			ln.Close()
			fmt.Fprintf(term.stderr, "deviceflow: relay: the TLS certificate: %s\n", message(err))
			return exitFailure
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, srv.TLSConfig)
		scheme = "https"
	}
	url := scheme + "://" + dialable(ln.Addr())
	if *asJSON {
		printJSON(term, map[string]string{"url": url, "github": rl.Endpoints().Base})
	} else {
		fmt.Fprintln(term.stdout, url)
	}
	fmt.Fprintf(term.stderr, "deviceflow relay listening at %s\n", url)
	fmt.Fprintf(term.stderr, "  Relaying to:  %s%s and %s\n", rl.Endpoints().Base, relay.DeviceCodePath, relay.TokenPath)
	fmt.Fprintf(term.stderr, "  For pages at: %s\n", strings.Join(origins, ", "))
	fmt.Fprintf(term.stderr, "  Ctrl-C stops.\n")

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		fmt.Fprintf(term.stderr, "deviceflow: relay: %s\n", message(err))
		return exitFailure
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		fmt.Fprintf(term.stderr, "deviceflow: relay: %s\n", message(err))
		return exitFailure
	}
	return exitOK
}

// parsePrefix reads an address (one host) or a CIDR prefix.
func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// dialable names a listener's address so a client can reach it: an
// unspecified address (0.0.0.0 or ::) becomes 127.0.0.1.
func dialable(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	ip := tcp.IP
	if ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(tcp.Port))
}
