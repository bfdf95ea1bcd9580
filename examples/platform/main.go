// Command platform is a small multi-tenant sign-in service on
// host/scheduler: a tenant's user starts a GitHub sign-in, is shown the
// code, waits for the result (server-sent events or a long poll), and the
// service then calls GitHub's API as that user. Run several processes on
// one Redis or PostgreSQL: any of them answers for any sign-in, and when
// one dies the others finish its sign-ins.
//
//	platform -addr 127.0.0.1:8081 -node p1 -store redis://127.0.0.1:6379/0 \
//	    -github http://127.0.0.1:8080 -tenant acme=Ov23liAcme:repo -tenant globex=Ov23liGlobex
//
// Endpoints (JSON unless said):
//
//	GET  /                          a page per tenant: sign in, see the code, wait (SSE), whoami
//	POST /t/{tenant}/signin         start: {id, userCode, verificationUri, expiresIn}
//	GET  /signin/{id}               the sign-in's state
//	GET  /signin/{id}/events        server-sent events: "pending" (the code), then "complete" or "failed"
//	GET  /signin/{id}/wait?timeout= long poll: the state once it ends, or after timeout (default 25s)
//	GET  /signin/{id}/user          GitHub's GET /user as the signed-in user (login, scopes)
//	DELETE /signin/{id}             cancel
//
// The sign-in id is the user's handle on it (128 random bits): keep it in
// the user's session. The token never leaves the service.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/deviceflow/deviceflow/host"
	"github.com/deviceflow/deviceflow/host/scheduler"
	pgstore "github.com/deviceflow/deviceflow/host/store/postgres"
	redisstore "github.com/deviceflow/deviceflow/host/store/redis"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "platform:", err)
		os.Exit(1)
	}
}

// tenants maps a tenant to its GitHub app.
type tenants map[string]scheduler.ClientConfig

func (t tenants) String() string { return fmt.Sprint(map[string]scheduler.ClientConfig(t)) }

// Set parses NAME=CLIENT_ID[:scope,scope].
func (t tenants) Set(v string) error {
	name, app, ok := strings.Cut(v, "=")
	if !ok || name == "" || app == "" {
		return errors.New("want NAME=CLIENT_ID[:scope,scope]")
	}
	id, scopes, _ := strings.Cut(app, ":")
	c := scheduler.ClientConfig{ClientID: id}
	if scopes != "" {
		c.Scopes = strings.Split(scopes, ",")
	}
	t[name] = c
	return nil
}

// run serves until ctx ends. ready, when not nil, receives the address
// the service listens on.
func run(ctx context.Context, args []string, stderr io.Writer, ready func(addr string)) error {
	fs := flag.NewFlagSet("platform", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8081", "address to listen on")
	node := fs.String("node", "", "this process's name among the nodes (default: random)")
	storeURL := fs.String("store", "memory", "redis://…, postgres://…, file:DIR, or memory (one process only)")
	github := fs.String("github", "https://github.com", "GitHub (or GHES, or the emulator: deviceflow emulator) base URL")
	lease := fs.Duration("lease", 0, "how long a dead node's sign-ins wait before another node resumes them (default 20s)")
	ts := tenants{}
	fs.Var(ts, "tenant", "NAME=CLIENT_ID[:scope,scope], once per tenant")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(ts) == 0 {
		return errors.New("name at least one -tenant")
	}
	store, closeStore, err := openStore(ctx, *storeURL)
	if err != nil {
		return err
	}
	defer closeStore()
	log := slog.New(slog.NewTextHandler(stderr, nil))
	opts := host.Options{BaseURL: *github}
	var skew time.Duration
	if *lease > 0 {
		skew, opts.RequestTimeout = *lease/10, *lease/2
	}
	s, err := scheduler.New(scheduler.Config{
		Store: store, Host: opts, Node: *node, Logger: log, LeaseTTL: *lease, ClockSkew: skew,
		ResultTTL: time.Hour, // how long a finished sign-in can call the API here
		OnResult: func(r scheduler.Result) {
			log.Info("sign-in ended", "id", r.ID, "tenant", r.Tenant, "state", r.State)
		},
	})
	if err != nil {
		return err
	}
	defer s.Close()
	api, err := host.New(opts) // for the API calls: check answers GET /user for a token
	if err != nil {
		return err
	}
	defer api.Close(context.Background())

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: newService(s, api, ts, *github), ReadHeaderTimeout: 10 * time.Second}
	runCtx, stopRun := context.WithCancel(context.Background())
	defer stopRun()
	ran := make(chan error, 1)
	go func() { ran <- s.Run(runCtx) }()
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
		// Hand this node's sign-ins to the other nodes at once.
		_ = s.Shutdown(shut)
	}()
	log.Info("platform listening", "addr", ln.Addr().String(), "node", s.Node(), "store", storeKind(*storeURL))
	if ready != nil {
		ready(ln.Addr().String())
	}
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	<-ran
	return nil
}

func storeKind(u string) string {
	kind, _, _ := strings.Cut(u, ":")
	return kind
}

// openStore opens the shared store. Redis and PostgreSQL entries are
// sealed with $DEVICEFLOW_ENCRYPTION_KEY (the same on every node).
func openStore(ctx context.Context, u string) (host.Store, func(), error) {
	switch {
	case u == "memory":
		return host.NewMemoryStore(), func() {}, nil
	case strings.HasPrefix(u, "file:"):
		s, err := host.NewFileStore(strings.TrimPrefix(u, "file:"))
		return s, func() {}, err
	case strings.HasPrefix(u, "redis://"), strings.HasPrefix(u, "rediss://"):
		s, err := redisstore.Open(u, redisstore.Options{Tenant: "platform"})
		if err != nil {
			return nil, nil, err
		}
		return s, func() { s.Close() }, nil
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		s, err := pgstore.Open(ctx, u, pgstore.Options{Tenant: "platform"})
		if err != nil {
			return nil, nil, err
		}
		return s, func() { s.Close() }, nil
	}
	return nil, nil, fmt.Errorf("-store %q: want redis://…, postgres://…, file:DIR or memory", u)
}

// service is the HTTP API.
type service struct {
	s       *scheduler.Scheduler
	api     *host.Host
	tenants tenants
	github  string
}

func newService(s *scheduler.Scheduler, api *host.Host, ts tenants, github string) http.Handler {
	v := &service{s: s, api: api, tenants: ts, github: github}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", v.index)
	mux.HandleFunc("POST /t/{tenant}/signin", v.start)
	mux.HandleFunc("GET /signin/{id}", v.status)
	mux.HandleFunc("GET /signin/{id}/events", v.events)
	mux.HandleFunc("GET /signin/{id}/wait", v.wait)
	mux.HandleFunc("GET /signin/{id}/user", v.user)
	mux.HandleFunc("DELETE /signin/{id}", v.cancel)
	return mux
}

// view is a sign-in as the API shows it: never the token.
type view struct {
	ID              string `json:"id"`
	Tenant          string `json:"tenant"`
	State           string `json:"state"`
	UserCode        string `json:"userCode,omitempty"`
	VerificationURI string `json:"verificationUri,omitempty"`
	ExpiresIn       int    `json:"expiresIn,omitempty"`
	Node            string `json:"node"`
	Error           string `json:"error,omitempty"`
}

func (v *service) view(st *scheduler.Status) view {
	out := view{ID: st.ID, Tenant: st.Tenant, State: string(st.State), Node: v.s.Node()}
	if st.State == scheduler.Pending {
		out.UserCode, out.VerificationURI = st.Verification.UserCode, st.Verification.URL()
		out.ExpiresIn = int(time.Until(st.ExpiresAt).Seconds())
	}
	if st.Err != nil {
		out.Error = st.Err.Error()
	}
	return out
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, scheduler.ErrNotFound):
		code = http.StatusNotFound
	case errors.Is(err, scheduler.ErrFinished):
		code = http.StatusConflict
	case errors.Is(err, scheduler.ErrInvalid), errors.Is(err, host.ErrInvalidInput):
		code = http.StatusBadRequest
	}
	writeJSON(w, code, map[string]string{"error": err.Error()})
}

func (v *service) start(w http.ResponseWriter, r *http.Request) {
	tenant := r.PathValue("tenant")
	c, ok := v.tenants[tenant]
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such tenant"})
		return
	}
	id, ver, err := v.s.Start(r.Context(), tenant, c)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, view{ID: id, Tenant: tenant, State: string(scheduler.Pending),
		UserCode: ver.UserCode, VerificationURI: ver.URL(), ExpiresIn: int(ver.ExpiresIn.Seconds()), Node: v.s.Node()})
}

func (v *service) status(w http.ResponseWriter, r *http.Request) {
	st, err := v.s.Status(r.Context(), r.PathValue("id"))
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v.view(st))
}

// wait is the long poll.
func (v *service) wait(w http.ResponseWriter, r *http.Request) {
	timeout := 25 * time.Second
	if d, err := time.ParseDuration(r.URL.Query().Get("timeout")); err == nil && d > 0 && d < 5*time.Minute {
		timeout = d
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	id := r.PathValue("id")
	if _, err := v.s.Wait(ctx, id); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		fail(w, err)
		return
	}
	v.status(w, r)
}

// events streams the sign-in: its state now, then its end.
func (v *service) events(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	st, err := v.s.Status(r.Context(), id)
	if err != nil {
		fail(w, err)
		return
	}
	fl, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	send := func(st *scheduler.Status) {
		b, _ := json.Marshal(v.view(st))
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", st.State, b)
		if fl != nil {
			fl.Flush()
		}
	}
	send(st)
	if st.State != scheduler.Pending {
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = v.s.Wait(r.Context(), id)
	}()
	keep := time.NewTicker(15 * time.Second)
	defer keep.Stop()
	for {
		select {
		case <-done:
			if st, err := v.s.Status(context.WithoutCancel(r.Context()), id); err == nil && r.Context().Err() == nil {
				send(st)
			}
			return
		case <-keep.C:
			fmt.Fprint(w, ": keep-alive\n\n")
			if fl != nil {
				fl.Flush()
			}
		case <-r.Context().Done():
			return
		}
	}
}

// user calls GitHub's API as the signed-in user (the plugin's check
// export: GET /user with the token, through the host's sandbox).
func (v *service) user(w http.ResponseWriter, r *http.Request) {
	st, err := v.s.Status(r.Context(), r.PathValue("id"))
	if err != nil {
		fail(w, err)
		return
	}
	if st.State != scheduler.Complete || st.Authentication == nil {
		writeJSON(w, http.StatusConflict, map[string]string{"error": "the sign-in is " + string(st.State)})
		return
	}
	c := v.tenants[st.Tenant]
	var out struct {
		Valid  bool     `json:"valid"`
		Login  string   `json:"login"`
		Scopes []string `json:"scopes"`
	}
	base := c.BaseURL
	if base == "" {
		base = v.github
	}
	in := map[string]any{"clientId": c.ClientID, "baseUrl": base, "token": st.Authentication.Token}
	if err := v.api.CallJSON(r.Context(), "check", in, &out); err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"tenant": st.Tenant, "login": out.Login, "valid": out.Valid, "scopes": out.Scopes, "node": v.s.Node()})
}

func (v *service) cancel(w http.ResponseWriter, r *http.Request) {
	if err := v.s.Cancel(r.Context(), r.PathValue("id")); err != nil {
		fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<meta charset="utf-8"><title>Sign in with GitHub</title>
<style>body{font:16px system-ui;margin:2em}code{font-size:1.6em}</style>
<h1>Sign in with GitHub</h1>
{{range .}}<p><button onclick="signin('{{.}}')">Sign in to {{.}}</button>{{end}}
<div id="out"></div>
<script>
async function signin(tenant) {
  const out = document.getElementById('out');
  const f = await (await fetch('/t/' + tenant + '/signin', {method: 'POST'})).json();
  if (f.error) { out.textContent = f.error; return; }
  out.innerHTML = '<p>Open <a target="_blank"></a> and enter <code></code></p><p id="st">waiting…</p>';
  out.querySelector('a').href = out.querySelector('a').textContent = f.verificationUri;
  out.querySelector('code').textContent = f.userCode;
  const es = new EventSource('/signin/' + f.id + '/events');
  for (const end of ['complete', 'failed', 'cancelled']) es.addEventListener(end, async (e) => {
    es.close();
    const st = JSON.parse(e.data);
    if (end !== 'complete') { out.textContent = end + ': ' + (st.error || ''); return; }
    const u = await (await fetch('/signin/' + f.id + '/user')).json();
    out.textContent = 'Signed in to ' + tenant + ' as ' + u.login + ' (answered by ' + u.node + ')';
  });
}
</script>`))

func (v *service) index(w http.ResponseWriter, r *http.Request) {
	names := make([]string, 0, len(v.tenants))
	for n := range v.tenants {
		names = append(names, n)
	}
	slices.Sort(names)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = page.Execute(w, names)
}
