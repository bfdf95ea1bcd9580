package deviceflowtest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Server is a running or ready-to-run emulator. It is an http.Handler, so
// it can also be mounted in an httptest.Server or any mux. All its methods
// are safe for concurrent use.
type Server struct {
	cfg Config

	// mu guards the flow state below.
	mu        sync.Mutex
	grants    []*grant
	byDevice  map[string]*grant
	byUser    map[string]*grant
	tokens    []*token
	byAccess  map[string]*token
	byRefresh map[string]*token
	stats     Stats

	// TLS material, set by New when Config.TLS is on.
	cert    tls.Certificate
	leaf    *x509.Certificate
	certPEM []byte

	// serving state, guarded by srvMu.
	srvMu sync.Mutex
	srv   *http.Server
	ln    net.Listener
	url   string
}

// Stats counts requests per endpoint and what they led to.
type Stats struct {
	// DeviceCode, AccessToken, DevicePage and User count requests to
	// /login/device/code, /login/oauth/access_token, /login/device (GET and
	// POST) and the /user API (either path). NotFound counts the rest.
	DeviceCode  int
	AccessToken int
	DevicePage  int
	User        int
	NotFound    int
	// Preflight counts CORS preflight requests.
	Preflight int
	// SlowDowns counts slow_down answers, TokensIssued access tokens issued
	// (refreshes included) and Refreshes successful refresh-token grants.
	SlowDowns    int
	TokensIssued int
	Refreshes    int
}

// New returns an emulator that is not listening yet: call Start, or use it
// as an http.Handler.
func New(cfg Config) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:       cfg.withDefaults(),
		byDevice:  map[string]*grant{},
		byUser:    map[string]*grant{},
		byAccess:  map[string]*token{},
		byRefresh: map[string]*token{},
	}
	if s.cfg.TLS {
		if err := s.generateCertificate(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// NewServer starts an emulator on 127.0.0.1 with a free port, in the manner
// of httptest.NewServer. It panics if the Config is invalid or no port can
// be had; call Close when done.
func NewServer(cfg Config) *Server {
	s, err := New(cfg)
	if err != nil {
		panic(err)
	}
	if _, err := s.Start("127.0.0.1:0"); err != nil {
		panic(err)
	}
	return s
}

// Start listens on addr (host:port; "" means 127.0.0.1:0, a free loopback
// port) and serves in the background. It returns the base URL, such as
// http://127.0.0.1:41234, which URL also reports.
func (s *Server) Start(addr string) (string, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	if s.srv != nil {
		return "", errors.New("emulator: already started")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	errLog := log.New(io.Discard, "", 0)
	if s.cfg.Logger != nil {
		errLog = slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn)
	}
	srv := &http.Server{Handler: s, ErrorLog: errLog, ReadHeaderTimeout: 10 * time.Second}
	scheme := "http"
	if s.cfg.TLS {
		scheme = "https"
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{s.cert}, MinVersion: tls.VersionTLS12}
		go func() { _ = srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { _ = srv.Serve(ln) }()
	}
	s.srv, s.ln = srv, ln
	s.url = scheme + "://" + dialableHostPort(ln.Addr())
	s.log("emulator listening", "url", s.url)
	return s.url, nil
}

// dialableHostPort names a listener's address so a client can reach it: an
// unspecified address (0.0.0.0 or ::) becomes 127.0.0.1.
func dialableHostPort(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	ip := tcp.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(tcp.Port))
}

// URL returns the base URL after Start, and "" before.
func (s *Server) URL() string {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	return s.url
}

// APIURL returns the base URL of the API in GitHub Enterprise Server style,
// URL()+"/api/v3", which reaches the same emulator.
func (s *Server) APIURL() string { return s.URL() + "/api/v3" }

// Addr returns the address the emulator listens on, or "" before Start.
func (s *Server) Addr() string {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Close stops serving and closes every connection. It is safe to call more
// than once, and on an emulator that was never started.
func (s *Server) Close() error {
	s.srvMu.Lock()
	srv := s.srv
	s.srvMu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Close()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// ListenAndServe runs an emulator on addr until ctx is done, for a command
// line. ready, when not nil, is called once the emulator listens, with the
// Server (whose URL, CertPEM and helpers it may use).
func ListenAndServe(ctx context.Context, addr string, cfg Config, ready func(*Server)) error {
	s, err := New(cfg)
	if err != nil {
		return err
	}
	if _, err := s.Start(addr); err != nil {
		return err
	}
	if ready != nil {
		ready(s)
	}
	<-ctx.Done()
	s.srvMu.Lock()
	srv := s.srv
	s.srvMu.Unlock()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
	}
	return nil
}

// Stats returns the request counters so far.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// ServeHTTP routes a request to its endpoint. Every answer carries a Date
// header from the emulator's clock, and CORS headers when Config.CORS is on.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	rec.Header().Set("Date", s.cfg.Now().UTC().Format(http.TimeFormat))
	defer func() {
		// Only the path: a query string may carry a device code or token.
		s.log("request", "method", r.Method, "host", r.Host, "path", r.URL.Path, "status", rec.status)
	}()
	if s.cfg.CORS {
		h := rec.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Expose-Headers", "Date, X-OAuth-Scopes, X-Accepted-OAuth-Scopes")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			s.count(func(st *Stats) { st.Preflight++ })
			s.preflight(rec, r)
			return
		}
	}
	s.route(rec, r)
}

// route dispatches on the host and path, the way github.com (API on the
// api. host) and GitHub Enterprise Server (API under /api/v3) are laid out.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	if s.cfg.Profile == ProfileGeneric && s.routeGeneric(w, r, path) {
		return
	}
	if isAPIHost(r.Host) {
		if path == "/user" {
			s.count(func(st *Stats) { st.User++ })
			s.handleUser(w, r)
			return
		}
		if path == "/user/repos" {
			s.handleRepos(w, r)
			return
		}
		s.count(func(st *Stats) { st.NotFound++ })
		writeJSON(w, http.StatusNotFound, apiError{Message: "Not Found", DocumentationURL: uriRESTDocs, Status: "404"})
		return
	}
	switch path {
	case "/login/device/code":
		s.count(func(st *Stats) { st.DeviceCode++ })
		if allow(w, r, http.MethodPost) {
			s.handleDeviceCode(w, r)
		}
	case "/login/oauth/access_token":
		s.count(func(st *Stats) { st.AccessToken++ })
		if allow(w, r, http.MethodPost) {
			s.handleAccessToken(w, r)
		}
	case "/login/device":
		s.count(func(st *Stats) { st.DevicePage++ })
		if allow(w, r, http.MethodGet, http.MethodPost) {
			s.handlePage(w, r)
		}
	case "/api/v3/user":
		s.count(func(st *Stats) { st.User++ })
		s.handleUser(w, r)
	case "/api/v3/user/repos":
		s.handleRepos(w, r)
	default:
		s.count(func(st *Stats) { st.NotFound++ })
		if strings.HasPrefix(path, "/api/v3/") {
			writeJSON(w, http.StatusNotFound, apiError{Message: "Not Found", DocumentationURL: uriRESTDocs, Status: "404"})
			return
		}
		http.NotFound(w, r)
	}
}

// allow answers 405 and reports false when the method is not one of methods.
func allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m || (m == http.MethodGet && r.Method == http.MethodHead) {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

// preflight answers a CORS preflight request.
func (s *Server) preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		h.Set("Access-Control-Allow-Headers", req)
	} else {
		h.Set("Access-Control-Allow-Headers", "Accept, Authorization, Content-Type")
	}
	h.Set("Access-Control-Max-Age", "600")
	h.Add("Vary", "Access-Control-Request-Headers")
	w.WriteHeader(http.StatusNoContent)
}

// isAPIHost says whether a Host header names an API host such as
// api.github.com.
func isAPIHost(host string) bool {
	return strings.HasPrefix(strings.ToLower(host), "api.")
}

// baseURL is the emulator's base URL as the request reached it, or
// Config.BaseURL.
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.BaseURL != "" {
		return s.cfg.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// count updates the counters under the lock.
func (s *Server) count(f func(*Stats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

// log writes one line to Config.Logger. Callers never pass a token or a
// device code.
func (s *Server) log(msg string, args ...any) {
	if s.cfg.Logger != nil {
		s.cfg.Logger.Info(msg, args...)
	}
}

// statusRecorder remembers the status written, for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}
