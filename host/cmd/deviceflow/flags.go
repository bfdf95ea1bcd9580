package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
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
	store      string
	storePath  string
	json       bool
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
	fs.StringVar(&c.store, "store", or(getenv("DEVICEFLOW_STORE"), defaultStore), "where tokens are kept: "+storeKindList()+" (env DEVICEFLOW_STORE)")
	fs.StringVar(&c.storePath, "store-path", getenv("DEVICEFLOW_STORE_PATH"), "the file of the file and encrypted stores, or the keyring service name (env DEVICEFLOW_STORE_PATH; default: files in the user config directory, service \"deviceflow\")")
	fs.BoolVar(&c.json, "json", false, "print JSON")
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

// base returns the base URL the flags name.
func (c *common) base() string {
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
// ghe.example.com or 127.0.0.1:8080.
func (c *common) host() string {
	if u, err := url.Parse(c.base()); err == nil && u.Host != "" {
		return u.Host
	}
	return c.base()
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

// client builds the SDK client the flags describe. The store is opened
// here; describe tells the person which one it is.
func (c *common) client(w io.Writer, cfg deviceflow.Config) (*deviceflow.Client, *openedStore, int) {
	if strings.TrimSpace(c.clientID) == "" {
		return nil, nil, usageError(w, "--client-id is required (or set DEVICEFLOW_CLIENT_ID): the client id of your OAuth App or GitHub App")
	}
	switch c.clientType {
	case deviceflow.OAuthApp, deviceflow.GitHubApp:
	default:
		return nil, nil, usageError(w, "--client-type must be oauth-app or github-app, not %q", c.clientType)
	}
	st, err := openStore(c.store, c.storePath)
	if err != nil {
		fmt.Fprintf(w, "deviceflow: %v\n", err)
		return nil, nil, exitFailure
	}
	cfg.ClientID = strings.TrimSpace(c.clientID)
	cfg.ClientType = c.clientType
	cfg.Scopes = c.scopeList()
	cfg.BaseURL = c.base()
	cfg.Store = st.store
	if cfg.OnVerification == nil {
		cfg.OnVerification = func(context.Context, deviceflow.Verification) error { return errWouldPrompt }
	}
	cl, err := deviceflow.New(cfg)
	if err != nil {
		fmt.Fprintf(w, "deviceflow: %v\n", err)
		return nil, nil, exitUsage
	}
	return cl, st, exitOK
}

// errWouldPrompt stops a command other than login that was about to show
// a code: only login signs in.
var errWouldPrompt = errors.New("this command does not sign in: run deviceflow login")
