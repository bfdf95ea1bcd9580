package scheduler_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/host"
	"github.com/deviceflow/deviceflow/host/scheduler"
	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

// make bench-scale (issue 14): 10,000 pending flows in one process against
// the emulator with GitHub's 5-second interval. The emulator runs in this
// test's process; the scheduler runs alone in a child process (this test
// binary again, TestScaleNode), so that its RSS and CPU are its own. The
// child starts every flow, lets one interval pass, then measures a window:
// polls/s sustained, lateness of each poll against its due time (p50, p99,
// max), slow_down answers, CPU and RSS.
//
// DEVICEFLOW_BENCH_FLOWS (10000) and DEVICEFLOW_BENCH_WINDOW (30s) change
// the size; DEVICEFLOW_BENCH_WORKERS the node's Workers.
func TestBenchScale(t *testing.T) {
	if os.Getenv("DEVICEFLOW_BENCH_SCALE") == "" {
		t.Skip("make bench-scale runs this benchmark (DEVICEFLOW_BENCH_SCALE=1)")
	}
	emu := deviceflowtest.NewServer(deviceflowtest.Config{Interval: 5 * time.Second, ExpiresIn: time.Hour})
	defer emu.Close()
	rep := runScaleChild(t, emu.URL(), "scale", os.Getenv("DEVICEFLOW_BENCH_FLOWS"), "", "")
	st := emu.Stats()
	fmt.Printf("bench-scale: %d flows, 1 process, %d workers, GOMAXPROCS %d, window %s\n", rep.Flows, rep.Workers, rep.Procs, rep.Window)
	fmt.Printf("  started %d flows in %s (%.0f/s)\n", rep.Flows, rep.StartTook, float64(rep.Flows)/rep.StartTook.Seconds())
	fmt.Printf("  polls/s sustained: %.0f (demand: %d flows / %.2f s = %.0f/s)\n", rep.PollsPerSec, rep.Flows, rep.Period.Seconds(), float64(rep.Flows)/rep.Period.Seconds())
	fmt.Printf("  lateness vs due time: p50 %s, p99 %s, max %s (%d polls)\n", rep.P50, rep.P99, rep.Max, rep.Measured)
	fmt.Printf("  slow_down: %d seen by the node, %d answered by the emulator; early polls %d\n", rep.SlowDowns, st.SlowDowns, rep.Early)
	fmt.Printf("  CPU %.2f cores; RSS %.1f MB (peak %.1f MB)\n", rep.CPU, rep.RSSMB, rep.PeakRSSMB)
}

// scaleReport is what a TestScaleNode child prints.
type scaleReport struct {
	Node        string
	Flows       int
	Workers     int
	Procs       int
	Window      time.Duration
	StartTook   time.Duration
	Period      time.Duration
	PollsPerSec float64
	Polls       int64
	Measured    int64
	P50, P99    time.Duration
	Max         time.Duration
	SlowDowns   int64
	Early       int64
	CPU         float64
	RSSMB       float64
	PeakRSSMB   float64
}

// runScaleChild runs TestScaleNode in a child process and reads its report.
func runScaleChild(t *testing.T, url, name, flows, storeKind, storeAddr string) scaleReport {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestScaleNode$", "-test.v", "-test.timeout", "30m")
	cmd.Env = append(os.Environ(), "DEVICEFLOW_SCALE_NODE_URL="+url, "DEVICEFLOW_SCALE_NODE_NAME="+name,
		"DEVICEFLOW_BENCH_FLOWS="+flows, "DEVICEFLOW_SCALE_STORE="+storeKind, "DEVICEFLOW_SCALE_STORE_ADDR="+storeAddr)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var rep scaleReport
	found := false
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if j, ok := strings.CutPrefix(line, "SCALE-REPORT "); ok {
			if err := json.Unmarshal([]byte(j), &rep); err != nil {
				t.Fatal(err)
			}
			found = true
		} else if strings.HasPrefix(line, "---") || strings.HasPrefix(line, "    ") {
			fmt.Println(line)
		}
	}
	if err := cmd.Wait(); err != nil || !found {
		t.Fatalf("scale node: %v (report found: %v)", err, found)
	}
	return rep
}

// TestScaleNode is the child of TestBenchScale.
func TestScaleNode(t *testing.T) {
	url := os.Getenv("DEVICEFLOW_SCALE_NODE_URL")
	if url == "" {
		t.Skip("run by TestBenchScale")
	}
	flows := envInt("DEVICEFLOW_BENCH_FLOWS", 10000)
	window := envDuration("DEVICEFLOW_BENCH_WINDOW", 30*time.Second)
	store := host.Store(host.NewMemoryStore())
	s, err := scheduler.New(scheduler.Config{
		Store:   store,
		Host:    host.Options{BaseURL: url},
		Node:    os.Getenv("DEVICEFLOW_SCALE_NODE_NAME"),
		Workers: envInt("DEVICEFLOW_BENCH_WORKERS", 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)

	began := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for next.Add(1) <= int64(flows) {
				if _, _, err := s.Start(ctx, "bench", scheduler.ClientConfig{ClientID: "Ov23liScale", Scopes: []string{"repo"}}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	startTook := time.Since(began)
	// One whole period after the last start, every flow polls in step.
	time.Sleep(5500 * time.Millisecond)
	if path := os.Getenv("DEVICEFLOW_SCALE_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		_ = pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	s0, c0, t0 := s.Stats(), cpuTime(), time.Now()
	time.Sleep(window)
	s1, c1, t1 := s.Stats(), cpuTime(), time.Now()
	elapsed := t1.Sub(t0)
	late := s1.Lateness.Sub(s0.Lateness)
	rss, peak := rssMB()
	if path := os.Getenv("DEVICEFLOW_SCALE_HEAPPROFILE"); path != "" {
		f, err := os.Create(path)
		if err == nil {
			runtime.GC()
			_ = pprof.WriteHeapProfile(f)
			f.Close()
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Fprintf(os.Stderr, "heap in use %.1f MB, heap sys %.1f MB, stacks %.1f MB, other sys %.1f MB, total sys %.1f MB\n",
			float64(ms.HeapInuse)/1e6, float64(ms.HeapSys)/1e6, float64(ms.StackSys)/1e6, float64(ms.OtherSys)/1e6, float64(ms.Sys)/1e6)
	}
	rep := scaleReport{
		Node: s.Node(), Flows: flows, Workers: workers(), Procs: runtimeProcs(), Window: elapsed.Round(time.Millisecond),
		StartTook: startTook.Round(time.Millisecond), Period: 5250 * time.Millisecond,
		Polls: s1.Polls - s0.Polls, PollsPerSec: float64(s1.Polls-s0.Polls) / elapsed.Seconds(),
		Measured: late.Count(), P50: late.Quantile(0.50), P99: late.Quantile(0.99), Max: late.Max(),
		SlowDowns: s1.SlowDowns, Early: s1.Early, CPU: (c1 - c0).Seconds() / elapsed.Seconds(),
		RSSMB: rss, PeakRSSMB: peak,
	}
	b, _ := json.Marshal(rep)
	fmt.Println("SCALE-REPORT " + string(b))
}

func workers() int {
	if n := envInt("DEVICEFLOW_BENCH_WORKERS", 0); n > 0 {
		return n
	}
	return 4 * runtimeProcs()
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil && d > 0 {
		return d
	}
	return def
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rssMB reads VmRSS and VmHWM (the peak) from /proc/self/status, in MB.
func rssMB() (rss, peak float64) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb / 1024
		case "VmHWM:":
			peak = kb / 1024
		}
	}
	return rss, peak
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }
