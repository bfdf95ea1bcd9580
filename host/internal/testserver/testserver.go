//go:build linux

// Package testserver starts real Redis and PostgreSQL servers for tests:
// the distribution's redis-server, and PostgreSQL's initdb and postgres
// (from /usr/lib/postgresql/*/bin or the PATH), each in a temporary
// directory, listening on a free loopback port, with durability off for
// speed. PostgreSQL refuses to run as root: as root, its files belong to,
// and the server runs as, the user postgres (the Debian package makes it)
// or else nobody.
//
// Each server is started once per test process, on first use, and
// stopped by StopAll (call it from TestMain) or, should the process die
// first, by the kernel (the servers get SIGKILL when their parent dies).
//
// When a server's programs are missing, Redis and Postgres return an
// error wrapping ErrMissing, and Require skips the test, or fails it when
// CI=true, saying how to install them.
package testserver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ErrMissing is the cause of the error a server's start fails with when
// its programs are not installed.
var ErrMissing = errors.New("not installed (apt-get install redis-server postgresql)")

// Server is a running server.
type Server struct {
	// URL is the address a client connects to: redis://127.0.0.1:PORT/0,
	// or postgres://deviceflow@127.0.0.1:PORT/postgres?sslmode=disable.
	URL string
	// Addr is 127.0.0.1:PORT.
	Addr string

	dir  string
	cmd  *exec.Cmd
	done chan struct{}
	logs *syncWriter
}

var (
	mu      sync.Mutex
	started = map[string]*Server{}
	errs    = map[string]error{}
)

// Redis returns this process's Redis server, starting it on first use.
func Redis() (*Server, error) { return once("redis", startRedis) }

// Postgres returns this process's PostgreSQL server, starting it on first
// use.
func Postgres() (*Server, error) { return once("postgres", startPostgres) }

func once(name string, start func() (*Server, error)) (*Server, error) {
	mu.Lock()
	defer mu.Unlock()
	if s, ok := started[name]; ok {
		return s, nil
	}
	if err, ok := errs[name]; ok {
		return nil, err
	}
	s, err := start()
	if err != nil {
		errs[name] = err
		return nil, err
	}
	started[name] = s
	return s, nil
}

// Require returns srv, or ends the test when err says the server could not
// start: a missing program skips it (fails it when CI=true), any other
// failure fails it.
func Require(t testing.TB, srv *Server, err error) *Server {
	t.Helper()
	switch {
	case err == nil:
		return srv
	case errors.Is(err, ErrMissing) && os.Getenv("CI") != "true":
		t.Skipf("%v; with CI=true this fails", err)
	}
	t.Fatal(err)
	return nil
}

// StopAll stops every server this process started and removes their
// directories.
func StopAll() {
	mu.Lock()
	defer mu.Unlock()
	for name, s := range started {
		s.stop()
		delete(started, name)
	}
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startRedis() (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("testserver: redis-server is %w", ErrMissing)
	}
	var last error
	for range 3 {
		s, err := tryRedis(bin)
		if err == nil {
			return s, nil
		}
		last = err
	}
	return nil, last
}

func tryRedis(bin string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "deviceflow-redis-")
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	s := &Server{URL: "redis://" + addr + "/0", Addr: addr, dir: dir}
	s.cmd = exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "no")
	if err := s.start(nil); err != nil {
		return nil, err
	}
	if err := s.await(func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(time.Second))
		if _, err := c.Write([]byte("PING\r\n")); err != nil {
			return err
		}
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "+PONG") {
			return fmt.Errorf("PING answered %q, %v", line, err)
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("testserver: redis-server did not start: %w", err)
	}
	return s, nil
}

// pgBin finds initdb and postgres: the newest /usr/lib/postgresql/*/bin,
// else the PATH.
func pgBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", fmt.Errorf("testserver: PostgreSQL (initdb, postgres) is %w", ErrMissing)
}

func pgVersion(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// pgCredential is the user PostgreSQL runs as: nil (this process's user)
// unless this process is root.
func pgCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("testserver: running as root, and neither the user postgres nor nobody exists to run PostgreSQL as")
}

func startPostgres() (*Server, error) {
	bin, err := pgBin()
	if err != nil {
		return nil, err
	}
	cred, err := pgCredential()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "deviceflow-postgres-")
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "deviceflow", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C")
	initdb.Dir = dir
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("testserver: initdb: %v\n%s", err, out)
	}
	var last error
	for range 3 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		addr := "127.0.0.1:" + strconv.Itoa(port)
		s := &Server{URL: "postgres://deviceflow@" + addr + "/postgres?sslmode=disable", Addr: addr, dir: dir}
		s.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(port),
			"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+dir,
			"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
			"-c", "max_connections=200", "-c", "shared_buffers=32MB")
		s.cmd.Dir = dir
		if err := s.start(cred); err != nil {
			last = err
			continue
		}
		if err := s.await(func() error {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				c.Close()
				if strings.Contains(s.logs.String(), "ready to accept connections") {
					return nil
				}
				return errors.New("not ready yet")
			}
			return err
		}); err != nil {
			last = fmt.Errorf("testserver: postgres did not start: %w", err)
			s.cmd.Process.Kill()
			<-s.done
			continue
		}
		return s, nil
	}
	os.RemoveAll(dir)
	return nil, last
}

// start runs s.cmd (as cred when not nil), its output kept for messages;
// the server gets SIGKILL should this process die.
func (s *Server) start(cred *syscall.Credential) error {
	s.logs = &syncWriter{}
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return err
	}
	s.done = make(chan struct{})
	go func() { s.cmd.Wait(); close(s.done) }()
	return nil
}

// await polls ready until it succeeds, the server exits, or 30 s pass.
func (s *Server) await(ready func() error) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := ready()
		if err == nil {
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("the server exited: %s", s.output())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%v: %s", err, s.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *Server) output() string {
	out := s.logs.String()
	if len(out) > 2000 {
		out = out[len(out)-2000:]
	}
	return out
}

func (s *Server) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		// SIGINT is PostgreSQL's fast shutdown; Redis exits on it too.
		s.cmd.Process.Signal(os.Interrupt)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-s.done
		}
	}
	os.RemoveAll(s.dir)
}

// Context returns a context for one test's calls: it ends with the test,
// or after a minute.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// syncWriter collects a server's output.
type syncWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
