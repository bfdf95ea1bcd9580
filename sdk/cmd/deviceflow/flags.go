package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"

	"github.com/deviceflow/deviceflow/plugin/flow"
	"github.com/deviceflow/deviceflow/sdk/deviceflow"
)

// common are the flags every account command (login, token, status,
// logout) takes, with their environment variables.
type common struct {
	clientID   string
	clientType string
	scopes     string
	hostname   string
	baseURL    string
	// A generic RFC 8628 server: its issuer, or its endpoints; the client
	// secret comes from the environment only (never a flag, which other
	// users of the machine could read in the process list).
	issuer         string
	deviceEndpoint string
	tokenEndpoint  string
	clientSecret   string
	store          string
	storePath      string
	json           bool

	// Set by client: the store opened.
	opened *openedStore
}

// newFlagSet returns a flag set for a subcommand with the common flags.
func newFlagSet(name, summary string, c *common, getenv func(string) string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("deviceflow "+name, flag.ContinueOnError)
	fs.SetOutput(w)
	fs.StringVar(&c.clientID, "client-id", getenv("DEVICEFLOW_CLIENT_ID"), "OAuth App or GitHub App client id (env DEVICEFLOW_CLIENT_ID)")
	fs.StringVar(&c.clientType, "client-type", or(getenv("DEVICEFLOW_CLIENT_TYPE"), deviceflow.OAuthApp), "oauth-app or github-app (env DEVICEFLOW_CLIENT_TYPE)")
	fs.StringVar(&c.scopes, "scopes", getenv("DEVICEFLOW_SCOPES"), "OAuth App scopes, comma or space separated (env DEVICEFLOW_SCOPES)")
	fs.StringVar(&c.hostname, "hostname", or(getenv("DEVICEFLOW_HOSTNAME"), "github.com"), "GitHub host: github.com or a GitHub Enterprise Server host name (env DEVICEFLOW_HOSTNAME)")
	fs.StringVar(&c.baseURL, "base-url", getenv("DEVICEFLOW_BASE_URL"), "base URL instead of --hostname, such as http://127.0.0.1:8080 for an emulator (env DEVICEFLOW_BASE_URL)")
	fs.StringVar(&c.issuer, "issuer", getenv("DEVICEFLOW_ISSUER"), "issuer URL of another RFC 8628 server (OpenID Connect or RFC 8414 discovery), instead of GitHub (env DEVICEFLOW_ISSUER)")
	fs.StringVar(&c.deviceEndpoint, "device-endpoint", getenv("DEVICEFLOW_DEVICE_ENDPOINT"), "device authorization endpoint of another RFC 8628 server, with --token-endpoint (env DEVICEFLOW_DEVICE_ENDPOINT)")
	fs.StringVar(&c.tokenEndpoint, "token-endpoint", getenv("DEVICEFLOW_TOKEN_ENDPOINT"), "token endpoint of another RFC 8628 server (env DEVICEFLOW_TOKEN_ENDPOINT)")
	c.clientSecret = getenv("DEVICEFLOW_CLIENT_SECRET")
	fs.StringVar(&c.store, "store", or(getenv("DEVICEFLOW_STORE"), defaultStore), "where tokens are kept: "+storeKindList()+" (env DEVICEFLOW_STORE)")
	fs.StringVar(&c.storePath, "store-path", getenv("DEVICEFLOW_STORE_PATH"), "the file of the file and encrypted stores, or the keyring service name (env DEVICEFLOW_STORE_PATH; default: files in the user config directory, service \"deviceflow\")")
	fs.BoolVar(&c.json, "json", false, "print JSON on stdout (never a token, except from token --json)")
	fs.Usage = func() {
		fmt.Fprintf(w, "Usage: deviceflow %s [flags]\n\n%s.\n\nFlags:\n", name, summary)
		fs.PrintDefaults()
	}
	return fs
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// parse parses a subcommand's arguments. It returns false, having said why
// on stderr, when the command should stop with exitUsage.
func parse(fs *flag.FlagSet, args []string) (exit int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitUsage, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "deviceflow: unexpected argument %q\n", fs.Arg(0))
		return exitUsage, false
	}
	return 0, true
}

// generic reports whether the flags name a server other than GitHub.
func (c *common) generic() bool {
	return strings.TrimSpace(c.issuer+c.deviceEndpoint+c.tokenEndpoint) != ""
}

// server is the generic server the flags name.
func (c *common) server() flow.Server {
	return flow.Server{Issuer: c.issuer, DeviceEndpoint: c.deviceEndpoint, TokenEndpoint: c.tokenEndpoint}
}

// base returns the base URL the flags name (a generic server's issuer or
// token endpoint).
func (c *common) base() string {
	if c.generic() {
		return strings.TrimRight(or(c.issuer, c.tokenEndpoint), "/")
	}
	if c.baseURL != "" {
		return strings.TrimRight(c.baseURL, "/")
	}
	h := strings.TrimSpace(c.hostname)
	if h == "" || strings.EqualFold(h, "github.com") {
		return "https://github.com"
	}
	return "https://" + h
}

// host names the GitHub the flags point at, for messages: github.com,
// ghe.example.com or 127.0.0.1:8080; an internationalised name in ASCII.
func (c *common) host() string {
	if u, err := url.Parse(c.base()); err == nil && u.Host != "" {
		return asciiHostPort(u.Host)
	}
	return clean(c.base())
}

// displayBase is the base URL for messages: its host name in ASCII.
func (c *common) displayBase() string {
	u, err := url.Parse(c.base())
	if err != nil || u.Host == "" {
		return clean(c.base())
	}
	u.Host = asciiHostPort(u.Host)
	return u.String()
}

// scopeList splits --scopes on commas and white space, as the plugin does.
func (c *common) scopeList() []string {
	if c.clientType == deviceflow.GitHubApp {
		return nil
	}
	return flow.NormalizeScopes([]string{c.scopes})
}

// usageError reports a flag problem and returns exitUsage.
func usageError(w io.Writer, format string, args ...any) int {
	fmt.Fprintf(w, "deviceflow: "+format+"\n", args...)
	return exitUsage
}

// configure checks the flags with the engine's own rules (plugin/flow,
// the code the plugin is built from: the one place the rules live) before
// anything is opened or sent, so that a bad --base-url, --hostname or
// --client-id is a usage error whatever else is wrong.
func (c *common) configure() (*flow.Config, error) {
	scopes, err := json.Marshal(c.scopeList())
	if err != nil {
		return nil, err
	}
	in := flow.Input{ClientID: c.clientID, ClientType: c.clientType, Scopes: scopes, BaseURL: c.base()}
	if c.generic() {
		in.BaseURL, in.Server, in.ClientSecret = c.baseURL, c.server(), c.clientSecret
	}
	conf, ferr := in.Configure()
	if ferr != nil {
		return nil, &deviceflow.Error{Code: deviceflow.Code(ferr.Code), Message: ferr.Message}
	}
	return conf, nil
}

// usageText names the flag an invalid_input message is about: the engine
// says "invalid input: baseUrl: port ...", the command says
// `bad --base-url "https://h:99999": port ...`. Values are quoted with Go
// escapes, so a control character in one shows as \x1b, never raw.
func (c *common) usageText(msg string) string {
	rest, ok := strings.CutPrefix(msg, "invalid input: ")
	if !ok {
		return msg
	}
	field, why, ok := strings.Cut(rest, ": ")
	if !ok {
		return msg
	}
	flagName, value := "", ""
	switch field {
	case "baseUrl":
		flagName, value = "--base-url", c.baseURL
		if c.baseURL == "" {
			flagName, value = "--hostname", c.hostname
		}
	case "clientId":
		flagName, value = "--client-id", c.clientID
	case "clientType":
		flagName, value = "--client-type", c.clientType
	case "scopes":
		flagName, value = "--scopes", c.scopes
	case "issuer":
		flagName, value = "--issuer", c.issuer
	case "deviceEndpoint":
		flagName, value = "--device-endpoint", c.deviceEndpoint
	case "tokenEndpoint":
		flagName, value = "--token-endpoint", c.tokenEndpoint
	default:
		return msg
	}
	return fmt.Sprintf("bad %s %+q: %s", flagName, value, why)
}

// client builds the SDK client the flags describe. The store is opened
// here; describe tells the person which one it is.
func (c *common) client(w io.Writer, cfg deviceflow.Config) (*deviceflow.Client, *openedStore, int) {
	if strings.TrimSpace(c.clientID) == "" {
		return nil, nil, usageError(w, "--client-id is required (or set DEVICEFLOW_CLIENT_ID): the client id of your OAuth App or GitHub App")
	}
	if c.generic() && c.clientType == deviceflow.OAuthApp {
		// GitHub's client types mean nothing elsewhere: the default goes.
		c.clientType = ""
	}
	switch c.clientType {
	case deviceflow.OAuthApp, deviceflow.GitHubApp:
	case "":
		if !c.generic() {
			return nil, nil, usageError(w, "--client-type must be oauth-app or github-app, not %+q", c.clientType)
		}
	default:
		return nil, nil, usageError(w, "--client-type must be oauth-app or github-app, not %+q", c.clientType)
	}
	c.store = canonicalStore(c.store)
	if !slices.Contains(storeKinds, c.store) {
		return nil, nil, usageError(w, "unknown store %+q: --store must be one of %s", c.store, storeKindList())
	}
	_, err := c.configure()
	if err != nil {
		if errors.Is(err, deviceflow.ErrInvalidInput) {
			return nil, nil, usageError(w, "%s", c.usageText(message(err)))
		}
		return nil, nil, say(w, err, exitFailure)
	}
	st, err := openStore(c.store, c.storePath)
	if err != nil {
		return nil, nil, say(w, err, exitFailure)
	}
	c.opened = st
	// The client id goes to the plugin as it was given: it refuses what a
	// client id never holds, rather than the command quietly trimming it.
	cfg.ClientID = c.clientID
	cfg.ClientType = c.clientType
	cfg.Scopes = c.scopeList()
	cfg.BaseURL = c.base()
	if c.generic() {
		cfg.BaseURL = c.baseURL
		s := c.server()
		cfg.Issuer, cfg.DeviceEndpoint, cfg.TokenEndpoint = s.Issuer, s.DeviceEndpoint, s.TokenEndpoint
		cfg.ClientSecret = c.clientSecret
		cfg.Encoding = ""
	}
	cfg.Store = st.store
	if cfg.OnVerification == nil {
		cfg.OnVerification = func(context.Context, deviceflow.Verification) error { return errWouldPrompt }
	}
	cl, err := deviceflow.New(cfg)
	if err != nil {
		if errors.Is(err, deviceflow.ErrInvalidInput) {
			return nil, nil, usageError(w, "%s", c.usageText(message(err)))
		}
		return nil, nil, say(w, err, exitFailure)
	}
	return cl, st, exitOK
}

// errWouldPrompt stops a command other than login that was about to show
// a code: only login signs in.
var errWouldPrompt = errors.New("this command does not sign in: run deviceflow login")

// open parses a command's flags and opens its client: the opening that
// status, token and logout share. A nil client means the command ends with
// code (usage or store errors were printed).
func open(name, about string, args []string, term *terminal, getenv func(string) string) (*common, *deviceflow.Client, *openedStore, int) {
	c := &common{}
	fs := newFlagSet(name, about, c, getenv, term.stderr)
	if code, ok := parse(fs, args); !ok {
		return c, nil, nil, code
	}
	cl, st, code := c.client(term.stderr, deviceflow.Config{})
	return c, cl, st, code
}
