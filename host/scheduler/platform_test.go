//go:build linux

package scheduler_test

// The scheduler on the shared stores, against real servers (make
// test-platform; make test-go skips these tests): three nodes sharing Redis
// or PostgreSQL with one killed, in one process and as three processes
// with kill -9.

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/host"
	"github.com/deviceflow/deviceflow/host/internal/testserver"
	"github.com/deviceflow/deviceflow/host/scheduler"
	pgstore "github.com/deviceflow/deviceflow/host/store/postgres"
	redisstore "github.com/deviceflow/deviceflow/host/store/redis"
	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testserver.StopAll()
	os.Exit(code)
}

// platformKey seals every entry, as a platform would (the tests share it
// with their child processes).
var platformKey = host.GenerateKey()

// openShared opens a client of the shared store kind ("redis", "postgres"
// or "file") at addr, under its own prefix or tenant so that tests do not
// meet.
func openShared(kind, addr, tenant string) (host.Store, func(), error) {
	k, err := host.ParseEncryptionKey(platformKey)
	if err != nil {
		return nil, nil, err
	}
	switch kind {
	case "redis":
		s, err := redisstore.Open(addr, redisstore.Options{Tenant: tenant, Key: &k})
		if err != nil {
			return nil, nil, err
		}
		return s, func() { s.Close() }, nil
	case "postgres":
		s, err := pgstore.Open(context.Background(), addr, pgstore.Options{Tenant: tenant, Key: &k})
		if err != nil {
			return nil, nil, err
		}
		return s, func() { s.Close() }, nil
	case "file":
		s, err := host.NewFileStore(addr)
		return s, func() {}, err
	}
	return nil, nil, fmt.Errorf("unknown store %q", kind)
}

// sharedServer starts (once per process) the server of kind and answers
// its address.
func sharedServer(t *testing.T, kind string) string {
	t.Helper()
	switch kind {
	case "redis":
		srv, err := testserver.Redis()
		return testserver.Require(t, srv, err).URL
	case "postgres":
		srv, err := testserver.Postgres()
		return testserver.Require(t, srv, err).URL
	}
	return filepath.Join(t.TempDir(), "store")
}

var tenantSeq atomic.Int64

func uniqueTenant(t *testing.T) string {
	return fmt.Sprintf("sched%d-%d", os.Getpid(), tenantSeq.Add(1))
}

// TestNodeDies on Redis and on PostgreSQL: each node its own client.
func TestPlatformNodeDies(t *testing.T) {
	for _, kind := range []string{"redis", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			addr := sharedServer(t, kind)
			tenant := uniqueTenant(t)
			var stores []host.Store
			for range 3 {
				s, closeFn, err := openShared(kind, addr, tenant)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(closeFn)
				stores = append(stores, s)
			}
			emu := newEmulator(t, nil)
			runNodeDies(t, emu, stores...)
		})
	}
}

// Three processes share Redis, PostgreSQL, or a file store; one gets kill
// -9 while its flows wait and some are being approved. The two others
// finish every flow: no token lost, no code exchanged twice, no slow_down.
func TestPlatformProcessesKill9(t *testing.T) {
	for _, kind := range []string{"redis", "postgres", "file"} {
		t.Run(kind, func(t *testing.T) {
			addr := sharedServer(t, kind)
			tenant := uniqueTenant(t)
			emu := newEmulator(t, nil)
			procs := make([]*nodeProcess, 3)
			for i := range procs {
				procs[i] = startNodeProcess(t, nodeEnv{
					Kind: kind, Addr: addr, Tenant: tenant, Emulator: emu.URL(),
					Name: fmt.Sprintf("p%d", i), Flows: 10,
					LeaseTTL: testLease, Skew: testSkew, Request: testRequest, Beat: testBeat, Interval: testInterval,
				})
			}
			var flows []started
			for _, p := range procs {
				flows = append(flows, p.waitFlows(t, 10)...)
			}
			store, closeFn, err := openShared(kind, addr, tenant)
			if err != nil {
				t.Fatal(err)
			}
			defer closeFn()
			reader, err := scheduler.New(scheduler.Config{Store: store, WaitPoll: 20 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			// A third of the flows approved and finished, then kill -9 in
			// the middle of the others' polling. (A kill during the very
			// exchange that carries a token loses that token, whatever the
			// client: the device code is spent. The scheduler cannot save
			// an answer its process never read; see the README.)
			time.Sleep(3 * testInterval)
			for i, f := range flows {
				if i%3 == 0 {
					if err := emu.Approve(f.userCode); err != nil {
						t.Fatal(err)
					}
					if _, err := reader.Wait(context.Background(), f.id); err != nil {
						t.Fatal(err)
					}
				}
			}
			procs[0].kill9(t)
			for i, f := range flows {
				if i%3 != 0 {
					if err := emu.Approve(f.userCode); err != nil {
						t.Fatal(err)
					}
				}
			}
			checkProcessFlows(t, emu, reader, flows, procs)
		})
	}
}

// checkProcessFlows checks the invariants of checkAllComplete on flows
// whose nodes are processes: every flow complete with its own token, as
// many tokens issued as flows, no slow_down, and no flow reported twice.
func checkProcessFlows(t *testing.T, emu *deviceflowtest.Server, reader *scheduler.Scheduler, flows []started, procs []*nodeProcess) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tokens := map[string]bool{}
	for _, f := range flows {
		r, err := reader.Wait(ctx, f.id)
		if err != nil {
			st, serr := reader.Status(context.Background(), f.id)
			where := "in no index shard"
			for n := range 64 {
				v, _ := reader.StoreForTest().Get(context.Background(), fmt.Sprintf("deviceflow:sched:index:%d", n))
				if strings.Contains(v, f.id) {
					where = fmt.Sprintf("index %d: %s", n, v)
				}
			}
			nodes, _ := reader.StoreForTest().Get(context.Background(), "deviceflow:sched:nodes")
			t.Logf("%s; nodes %s", where, nodes)
			if serr == nil {
				t.Fatalf("flow %s: %v; %s, owner %s, next poll %s, %d polls, updated %s ago", f.id, err, st.State, st.Owner, time.Until(st.NextPollAt), st.Polls, time.Since(st.Updated))
			}
			t.Fatalf("flow %s: %v (status: %v)", f.id, err, serr)
		}
		if r.State != scheduler.Complete || r.Authentication == nil {
			t.Fatalf("flow %s: %s (%v)", f.id, r.State, r.Err)
		}
		if _, ok := emu.LookupToken(r.Authentication.Token); !ok || tokens[r.Authentication.Token] {
			t.Fatalf("flow %s: a token the emulator did not issue, or another flow's", f.id)
		}
		tokens[r.Authentication.Token] = true
	}
	reported := map[string]int{}
	for _, p := range procs {
		p.stop(t)
		for _, id := range p.results() {
			reported[id]++
		}
	}
	unreported := 0
	for _, f := range flows {
		switch reported[f.id] {
		case 0:
			unreported++
		case 1:
		default:
			t.Fatalf("flow %s reported %d times", f.id, reported[f.id])
		}
	}
	st := emu.Stats()
	if st.TokensIssued != len(flows) || st.SlowDowns != 0 {
		t.Fatalf("emulator: %d tokens for %d flows, %d slow_down", st.TokensIssued, len(flows), st.SlowDowns)
	}
	t.Logf("%d flows complete, %d tokens issued, 0 slow_down; %d results reported by no process (ended by the killed one between its record and its report)", len(flows), st.TokensIssued, unreported)
}

// nodeEnv configures a TestPlatformNodeProcess child.
type nodeEnv struct {
	Kind, Addr, Tenant, Emulator, Name string
	Flows                              int
	LeaseTTL, Skew, Request, Beat      time.Duration
	Interval                           time.Duration
	// Report, when set, makes the child print its stats every Report.
	Report  time.Duration
	Workers int
}

// nodeProcess is a TestPlatformNodeProcess child.
type nodeProcess struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{}

	mu      sync.Mutex
	flows   []started
	res     []string
	reports []scaleReport
	newFlow chan struct{}
}

func startNodeProcess(t *testing.T, env nodeEnv) *nodeProcess {
	t.Helper()
	b, _ := json.Marshal(env)
	cmd := exec.Command(os.Args[0], "-test.run", "^TestPlatformNodeProcess$", "-test.timeout", "60m")
	cmd.Env = append(os.Environ(), "DEVICEFLOW_PLATFORM_NODE="+string(b), "DEVICEFLOW_PLATFORM_KEY="+platformKey)
	cmd.Stderr = os.Stderr
	p := &nodeProcess{cmd: cmd, done: make(chan struct{}), newFlow: make(chan struct{}, 1)}
	var err error
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			f := strings.SplitN(sc.Text(), " ", 3)
			p.mu.Lock()
			switch f[0] {
			case "FLOW":
				p.flows = append(p.flows, started{id: f[1], userCode: f[2]})
				select {
				case p.newFlow <- struct{}{}:
				default:
				}
			case "RESULT":
				p.res = append(p.res, f[1])
			case "REPORT":
				var r scaleReport
				if json.Unmarshal([]byte(sc.Text()[len("REPORT "):]), &r) == nil {
					p.reports = append(p.reports, r)
				}
			}
			p.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		_ = cmd.Wait()
	})
	return p
}

// waitFlows waits until the child has started n flows.
func (p *nodeProcess) waitFlows(t *testing.T, n int) []started {
	t.Helper()
	deadline := time.After(5 * time.Minute)
	for {
		p.mu.Lock()
		if len(p.flows) >= n {
			out := append([]started(nil), p.flows...)
			p.mu.Unlock()
			return out
		}
		p.mu.Unlock()
		select {
		case <-p.newFlow:
		case <-p.done:
			t.Fatal("node process ended before starting its flows")
		case <-deadline:
			t.Fatal("node process did not start its flows")
		}
	}
}

func (p *nodeProcess) results() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.res...)
}

func (p *nodeProcess) kill9(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
}

// stop ends the child gracefully (its standard input closes) and waits
// for it.
func (p *nodeProcess) stop(t *testing.T) {
	t.Helper()
	p.stdin.Close()
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatal("node process did not stop")
	}
}

// TestPlatformNodeProcess is a node in a child process: it starts its
// flows, prints FLOW id user-code for each and RESULT id for each flow it
// ends, and REPORT lines with its figures when asked; it runs until its
// standard input closes.
func TestPlatformNodeProcess(t *testing.T) {
	raw := os.Getenv("DEVICEFLOW_PLATFORM_NODE")
	if raw == "" {
		t.Skip("started by the platform tests")
	}
	var env nodeEnv
	if err := json.Unmarshal([]byte(raw), &env); err != nil {
		t.Fatal(err)
	}
	platformKey = os.Getenv("DEVICEFLOW_PLATFORM_KEY")
	store, closeFn, err := openShared(env.Kind, env.Addr, env.Tenant)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	var outMu sync.Mutex
	say := func(format string, args ...any) {
		outMu.Lock()
		fmt.Fprintf(os.Stdout, format+"\n", args...)
		outMu.Unlock()
	}
	s, err := scheduler.New(scheduler.Config{
		Store: store, Node: env.Name, Workers: env.Workers,
		Host:     host.Options{BaseURL: env.Emulator, RequestTimeout: env.Request},
		LeaseTTL: env.LeaseTTL, ClockSkew: env.Skew, Heartbeat: env.Beat,
		OnResult: func(r scheduler.Result) { say("RESULT %s %s", r.ID, r.State) },
		Logger:   slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ran := make(chan struct{})
	go func() {
		s.Run(ctx)
		close(ran)
	}()
	began := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for next.Add(1) <= int64(env.Flows) {
				id, v, err := s.Start(ctx, "tenant", scheduler.ClientConfig{ClientID: "Ov23liPlatform", Scopes: []string{"repo"}})
				if err != nil {
					t.Error(err)
					return
				}
				say("FLOW %s %s", id, v.UserCode)
			}
		})
	}
	wg.Wait()
	startTook := time.Since(began)
	if env.Report > 0 {
		go func() {
			// Three intervals after this node's last start: the begins come
			// in a burst (some 300 a second over three processes) that
			// leaves the polls behind, and the backlog takes a couple of
			// intervals to drain on two cores; the window measures the
			// running that follows.
			time.Sleep(3 * env.Interval)
			if dir := os.Getenv("DEVICEFLOW_PLATFORM_CPUPROFILE"); dir != "" {
				// One window's profile per node: DIR/NODE.pprof.
				if f, err := os.Create(filepath.Join(dir, env.Name+".pprof")); err == nil {
					_ = pprof.StartCPUProfile(f)
					go func() {
						time.Sleep(env.Report)
						pprof.StopCPUProfile()
						f.Close()
					}()
				}
			}
			for ctx.Err() == nil {
				s0, c0, t0 := s.Stats(), cpuTime(), time.Now()
				time.Sleep(env.Report)
				s1, c1, t1 := s.Stats(), cpuTime(), time.Now()
				el := t1.Sub(t0)
				late := s1.Lateness.Sub(s0.Lateness)
				rss, peak := rssMB()
				rep := scaleReport{Node: env.Name, Flows: s1.Flows, Workers: workersOf(env.Workers), Procs: runtimeProcs(), Window: el.Round(time.Millisecond),
					StartTook: startTook.Round(time.Millisecond), Polls: s1.Polls - s0.Polls, PollsPerSec: float64(s1.Polls-s0.Polls) / el.Seconds(),
					Measured: late.Count(), P50: late.Quantile(0.5), P99: late.Quantile(0.99), Max: late.Max(),
					SlowDowns: s1.SlowDowns, Early: s1.Early, CPU: (c1 - c0).Seconds() / el.Seconds(), RSSMB: rss, PeakRSSMB: peak}
				b, _ := json.Marshal(rep)
				say("REPORT %s", b)
			}
		}()
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	cancel()
	<-ran
}

func workersOf(n int) int {
	if n > 0 {
		return n
	}
	return 4 * runtimeProcs()
}

// make bench-platform (issue 17): 10,000 pending flows over three node
// processes sharing PostgreSQL, then Redis, against the emulator (in this
// process) with GitHub's 5-second interval. Each process reports a window
// of steady running: polls/s, lateness against due time, slow_down, CPU,
// RSS. Then one process gets kill -9 and every code is approved: the two
// others finish every flow (0 tokens lost, 0 codes exchanged twice, 0
// slow_down). Each process runs 16 workers: the five processes on two
// cores make a poll take some 15-25 ms of wall time for under 1 ms of CPU,
// so 640 polls/s per process need more than the default 8 (Workers ≥ R×T,
// Config.Workers). DEVICEFLOW_BENCH_FLOWS (10000), DEVICEFLOW_BENCH_WINDOW
// (20s), DEVICEFLOW_BENCH_WORKERS (16), DEVICEFLOW_BENCH_STORES
// (postgres,redis) and DEVICEFLOW_PLATFORM_CPUPROFILE (a directory for
// each process's CPU profile of the window) change it.
func TestBenchPlatform(t *testing.T) {
	if os.Getenv("DEVICEFLOW_BENCH_PLATFORM") == "" {
		t.Skip("make bench-platform runs this benchmark (DEVICEFLOW_BENCH_PLATFORM=1)")
	}
	flows := envInt("DEVICEFLOW_BENCH_FLOWS", 10000)
	window := envDuration("DEVICEFLOW_BENCH_WINDOW", 20*time.Second)
	kinds := strings.Split(cmp.Or(os.Getenv("DEVICEFLOW_BENCH_STORES"), "postgres,redis"), ",")
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			addr := sharedServer(t, kind)
			tenant := uniqueTenant(t)
			emu := deviceflowtest.NewServer(deviceflowtest.Config{Interval: 5 * time.Second, ExpiresIn: time.Hour})
			defer emu.Close()
			began := time.Now()
			procs := make([]*nodeProcess, 3)
			for i := range procs {
				procs[i] = startNodeProcess(t, nodeEnv{Kind: kind, Addr: addr, Tenant: tenant, Emulator: emu.URL(),
					Name: fmt.Sprintf("p%d", i), Flows: (flows + 2 - i) / 3, Interval: 5 * time.Second, Report: window,
					Workers: envInt("DEVICEFLOW_BENCH_WORKERS", 16)})
			}
			var all []started
			for i, p := range procs {
				all = append(all, p.waitFlows(t, (flows+2-i)/3)...)
			}
			startTook := time.Since(began)
			reports := make([]scaleReport, 3)
			for i, p := range procs {
				reports[i] = p.waitReport(t)
			}
			fmt.Printf("bench-platform %s: %d flows over 3 processes (GOMAXPROCS %d each, %d workers), all started in %s\n",
				kind, len(all), reports[0].Procs, reports[0].Workers, startTook.Round(time.Millisecond))
			total := 0.0
			for _, r := range reports {
				total += r.PollsPerSec
				fmt.Printf("  %s: %4d flows  %6.0f polls/s  lateness p50 %s p99 %s max %s  slow_down %d  CPU %.2f cores  RSS %.0f MB (peak %.0f)\n",
					r.Node, r.Flows, r.PollsPerSec, r.P50, r.P99, r.Max, r.SlowDowns, r.CPU, r.RSSMB, r.PeakRSSMB)
			}
			fmt.Printf("  total %.0f polls/s sustained (demand %d flows / 5.25 s = %.0f/s); emulator slow_down answers so far: %d\n",
				total, len(all), float64(len(all))/5.25, emu.Stats().SlowDowns)

			procs[0].kill9(t)
			killed := time.Now()
			for _, f := range all {
				if err := emu.Approve(f.userCode); err != nil {
					t.Fatal(err)
				}
			}
			store, closeFn, err := openShared(kind, addr, tenant)
			if err != nil {
				t.Fatal(err)
			}
			defer closeFn()
			reader, err := scheduler.New(scheduler.Config{Store: store, WaitPoll: 200 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			complete, failed := 0, 0
			tokens := map[string]bool{}
			for _, f := range all {
				r, err := reader.Wait(ctx, f.id)
				if err != nil {
					t.Fatalf("flow %s: %v", f.id, err)
				}
				if r.State == scheduler.Complete && r.Authentication != nil && !tokens[r.Authentication.Token] {
					tokens[r.Authentication.Token] = true
					complete++
				} else {
					failed++
				}
			}
			took := time.Since(killed)
			st := emu.Stats()
			fmt.Printf("  kill -9 p0 with %d flows, every code approved: %d complete, %d not, in %s; tokens issued %d (lost %d), slow_down %d\n",
				(flows+2)/3, complete, failed, took.Round(time.Millisecond), st.TokensIssued, len(all)-complete, st.SlowDowns)
			if complete != len(all) || st.TokensIssued != len(all) || st.SlowDowns != 0 {
				t.Errorf("%d of %d flows complete, %d tokens issued, %d slow_down", complete, len(all), st.TokensIssued, st.SlowDowns)
			}
		})
	}
}

// waitReport waits for the child's first REPORT.
func (p *nodeProcess) waitReport(t *testing.T) scaleReport {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		if len(p.reports) > 0 {
			r := p.reports[0]
			p.mu.Unlock()
			return r
		}
		p.mu.Unlock()
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("no report from a node process")
	return scaleReport{}
}
