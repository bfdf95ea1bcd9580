package scheduler

import (
	"container/heap"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/deviceflow/deviceflow/host"
)

// Config configures a Scheduler. Store is required; every other field has
// a default.
type Config struct {
	// Store is shared by every node: flow records, the index, heartbeats
	// and the tokens the plugin stores. It must implement host.Swapper
	// atomically for all nodes sharing it.
	Store host.Store
	// Host configures the plugin's host (sandbox, base URL, HTTP client).
	// Its Store is ignored: the scheduler gives the plugin Store, with each
	// flow's cache entry under that flow's own key. RequestTimeout defaults
	// to 10 s here. Its Clock, when set, is the scheduler's wall clock too.
	Host host.Options
	// Node names this node; a random name when empty. Two live nodes must
	// not share a name.
	Node string
	// Prefix starts every key the scheduler writes; "deviceflow:sched"
	// when empty. Schedulers with different prefixes share nothing.
	Prefix string
	// Workers bounds the plugin calls running at once (polls and Start's
	// begin): the plugin instances in use, each some 10 MB of memory, and
	// the HTTP requests in flight. A poll holds its worker for a round trip
	// to GitHub, so to sustain R polls/s with a round trip of T, Workers
	// must be at least R×T (2,000/s × 50 ms: 100). 4 × GOMAXPROCS when
	// zero, which suits a server near GitHub or the emulator. A node whose
	// workers are all busy with due flows waiting counts it (Stats.Busy)
	// and says so in its log, at most once a minute.
	Workers int
	// LeaseTTL is how long a node's lease on a flow lasts past the flow's
	// next poll (plus Checkpoint): how late a dead node's flows resume
	// elsewhere. It must exceed ClockSkew + Host.RequestTimeout. 20 s when
	// zero.
	LeaseTTL time.Duration
	// ClockSkew is how far apart nodes' clocks may be; a poll's context
	// ends this long before its lease. 2 s when zero.
	ClockSkew time.Duration
	// Checkpoint is how much longer than LeaseTTL past its next poll a
	// pending flow's lease is written for, so that the polls inside it need
	// no write: a poll answered "still pending" with the same interval is
	// kept in memory while the lease written last still covers the flow's
	// next poll, and written with the first poll it no longer covers (a
	// slow_down, a token or an error is written at once). Longer: fewer
	// writes (with the defaults and GitHub's 5-second interval, one per 4
	// polls instead of one per poll), but a dead node's flows resume up to
	// Checkpoint later, and the NextPollAt, Polls and Updated that Status
	// reads lag the owner's by as much. Half LeaseTTL when zero; negative:
	// the record is written after every poll. A Cancel on another node
	// reaches the owner through the store within a Heartbeat either way.
	Checkpoint time.Duration
	// Heartbeat is how often the node renews its liveness in the store and
	// looks for flows of dead nodes; a node silent for 3 heartbeats is
	// dead. 2 s when zero.
	Heartbeat time.Duration
	// Shards is the number of index entries the flow ids are spread over
	// (fixed for the life of the store: every node must use the same). 64
	// when zero.
	Shards int
	// ResultTTL is how long an ended flow's record (and its token) stays in
	// the store for Status and Wait. 10 minutes when zero.
	ResultTTL time.Duration
	// WaitPoll is how often Wait reads the store for a flow another node
	// polls. 250 ms when zero.
	WaitPoll time.Duration
	// OnResult, when set, receives each flow's end on the node that ended
	// it (exactly once per flow, unless that node dies between recording
	// the end and calling OnResult: Wait and Status read the record). It
	// must not block for long: it runs on a worker.
	OnResult func(Result)
	// Logger receives background failures (store errors); none when nil.
	Logger *slog.Logger
}

// Scheduler runs device flows on one node. It is safe for concurrent use.
// Create one with New, then call Run (which returns when the node stops).
type Scheduler struct {
	cfg   Config
	store host.Store
	swap  host.Swapper
	h     *host.Host
	c     counters

	// epoch and started set clock: the wall clock at New and the instant
	// (with its monotonic reading) it was read.
	epoch   int64
	started time.Time

	mu    sync.Mutex
	flows map[string]*flow
	// starting holds the flows a Start is writing (indexed, no record
	// yet), which a scan must not take for orphans; missing, the index
	// entries a scan found without a record, and since when (Unix ms).
	starting map[string]bool
	missing  map[string]int64
	due      dueHeap
	notify   map[string]chan struct{}
	phase    int // idle, running, stopping, closed
	stopping chan struct{}
	done     chan struct{}
	wake     chan struct{}
	work     chan *flow
	runErr   error
	// slots bounds the plugin calls under way (Workers).
	slots chan struct{}
	// lastBusyLog is when busy last logged (Unix ns).
	lastBusyLog atomic.Int64
}

const (
	phIdle = iota
	phRunning
	phStopping
	phClosed
)

// flow is a flow this node holds.
type flow struct {
	id  string
	rec record
	raw string // rec as the store holds it
	due int64  // Unix ms
	idx int    // in the heap, -1 when not
	// running: a worker has it; cancel ends its plugin call; cancelled: a
	// local Cancel asked it to stop.
	running, cancelled bool
	cancel             context.CancelFunc
	// unmeasured: the next poll is late on purpose (a claimed flow).
	unmeasured bool
	// dirty: rec is an answer not yet written (raw is the record it goes
	// over); the next turn writes it instead of polling.
	dirty bool
	// reported: the flow's end has been reported (or was someone else's
	// to report).
	reported bool
	// claimed: taken over from a dead node.
	claimed bool
	// client is rec.Client as poll's input carries it, written at the
	// flow's first poll here (a flow's client config never changes).
	client []byte
}

// New returns a Scheduler for cfg. Nothing runs until Run.
func New(cfg Config) (*Scheduler, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("%w: Config.Store is required", ErrInvalid)
	}
	if cfg.Node == "" {
		cfg.Node = "node-" + newID()[:12]
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "deviceflow:sched"
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4 * runtime.GOMAXPROCS(0)
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 20 * time.Second
	}
	if cfg.ClockSkew <= 0 {
		cfg.ClockSkew = 2 * time.Second
	}
	switch {
	case cfg.Checkpoint == 0:
		cfg.Checkpoint = cfg.LeaseTTL / 2
	case cfg.Checkpoint < 0:
		cfg.Checkpoint = -1
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = 2 * time.Second
	}
	if cfg.Shards <= 0 {
		cfg.Shards = 64
	}
	if cfg.ResultTTL <= 0 {
		cfg.ResultTTL = 10 * time.Minute
	}
	if cfg.WaitPoll <= 0 {
		cfg.WaitPoll = 250 * time.Millisecond
	}
	if cfg.Host.RequestTimeout <= 0 {
		cfg.Host.RequestTimeout = 10 * time.Second
	}
	if cfg.LeaseTTL <= cfg.ClockSkew+cfg.Host.RequestTimeout {
		return nil, fmt.Errorf("%w: LeaseTTL (%s) must exceed ClockSkew (%s) + Host.RequestTimeout (%s)", ErrInvalid, cfg.LeaseTTL, cfg.ClockSkew, cfg.Host.RequestTimeout)
	}
	if strings.ContainsAny(cfg.Node, " \t\r\n") {
		return nil, fmt.Errorf("%w: Config.Node has white space", ErrInvalid)
	}
	s := &Scheduler{
		cfg: cfg, store: cfg.Store, swap: host.SwapperFor(cfg.Store),
		flows: map[string]*flow{}, notify: map[string]chan struct{}{}, starting: map[string]bool{}, missing: map[string]int64{},
		stopping: make(chan struct{}), done: make(chan struct{}),
		wake: make(chan struct{}, 1), work: make(chan *flow, cfg.Workers),
		slots: make(chan struct{}, cfg.Workers),
	}
	s.started, s.epoch = time.Now(), s.now()
	ho := cfg.Host
	ho.Store = newRoutedStore(cfg.Store)
	if ho.HTTPClient == nil {
		ho.HTTPClient = pollingClient(cfg.Workers)
	}
	user := cfg.Host.OnEvent
	ho.OnEvent = func(ctx context.Context, e host.Event) error {
		if e.Type == "slow_down" {
			s.c.slowDowns.Add(1)
		}
		if user != nil {
			return user(ctx, e)
		}
		return nil
	}
	h, err := host.New(ho)
	if err != nil {
		return nil, err
	}
	s.h = h
	return s, nil
}

// call runs one export on one of the Workers plugin slots.
func (s *Scheduler) call(ctx context.Context, export string, in []byte) ([]byte, error) {
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, &host.Error{Code: host.ErrCancelled.Code, Message: "cancelled: " + ctx.Err().Error(), Cause: ctx.Err()}
	}
	defer func() { <-s.slots }()
	return s.h.Call(ctx, export, in)
}

// Node is this node's name.
func (s *Scheduler) Node() string { return s.cfg.Node }

// Stats returns the node's counters.
func (s *Scheduler) Stats() Stats {
	st := s.c.snapshot()
	s.mu.Lock()
	st.Flows = len(s.flows)
	s.mu.Unlock()
	return st
}

// now is the wall clock, in Unix ms: Host.Clock when set (the plugin's
// clock too), the system's otherwise.
func (s *Scheduler) now() int64 {
	if c := s.cfg.Host.Clock; c != nil {
		return c().UnixMilli()
	}
	return time.Now().UnixMilli()
}

// clock is the time of the node's heap of due flows, in Unix ms: the wall
// clock when the node was made plus the monotonic time since. The records
// carry wall-clock times, which other nodes read; a wall clock that steps
// (NTP at boot, a resumed VM, a hand-set date) must not hold back or rush
// the polls this node has planned, so their due times are converted once,
// when planned (fromWall), and then counted on the monotonic clock.
func (s *Scheduler) clock() int64 { return s.epoch + time.Since(s.started).Milliseconds() }

// fromWall converts a wall-clock time of a record to the heap's clock.
func (s *Scheduler) fromWall(wall int64) int64 { return wall - s.now() + s.clock() }

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Start begins a device flow for tenant: it asks the server for a device
// code (the plugin's begin) and returns the flow's id and what to show the
// person. The flow is recorded in the store, owned by this node, and polled
// once Run runs. A failure of the plugin (bad client config, the device
// flow disabled, a host outside the sandbox) is its *host.Error.
func (s *Scheduler) Start(ctx context.Context, tenant string, c ClientConfig) (string, Verification, error) {
	if err := checkTenant(tenant); err != nil {
		return "", Verification{}, err
	}
	s.mu.Lock()
	closed := s.phase >= phStopping
	s.mu.Unlock()
	if closed {
		return "", Verification{}, ErrClosed
	}
	if c.BaseURL == "" {
		c.BaseURL = s.cfg.Host.BaseURL
	}
	id := newID()
	b, _ := json.Marshal(c) // begin's input (poll's adds the state: pollInput)
	out, err := s.call(withRoute(ctx, s.tokenKey(id)), "begin", b)
	if err != nil {
		return "", Verification{}, err
	}
	a, ok := parseStep(out)
	if !ok || a.Status != "pending" || len(a.State) == 0 {
		return "", Verification{}, &host.Error{Code: host.ErrPlugin.Code, Message: "scheduler: begin answered no pending flow"}
	}
	var wv wireVerification
	_ = json.Unmarshal(a.Verification, &wv)
	now := s.now()
	rec := record{
		V: recordVersion, ID: id, Tenant: tenant, Client: c,
		Owner: s.cfg.Node, Lease: s.leaseFrom(a.NextPollAt),
		State: Pending, Flow: a.State, Next: a.NextPollAt, Expires: a.ExpiresAt,
		IntervalMs: int64(a.Interval * 1000), Verification: wv.public(), Created: now, Updated: now,
	}
	raw := rec.encode()
	// The index first: a record is never unlisted (a node dying between the
	// two leaves an entry without a record, which a scan removes).
	s.mu.Lock()
	s.starting[id] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.starting, id)
		s.mu.Unlock()
	}()
	if err := s.index(ctx, id, s.cfg.Node); err != nil {
		return "", Verification{}, err
	}
	if ok, _, err := s.swap.Swap(ctx, s.flowKey(id), nil, &raw); err != nil || !ok {
		_ = s.index(context.WithoutCancel(ctx), id, "")
		if err == nil {
			err = fmt.Errorf("%w: %s", ErrConflict, s.flowKey(id))
		}
		return "", Verification{}, err
	}
	// Again, should a scan have taken the entry for a dead node's (a
	// heartbeat late under load) before the record was there: a no-op
	// read otherwise.
	if err := s.index(ctx, id, s.cfg.Node); err != nil {
		s.logf("scheduler: indexing a flow failed", "flow", id, "err", err)
	}
	s.c.started.Add(1)
	s.mu.Lock()
	f := &flow{id: id, rec: rec, raw: raw, idx: -1}
	s.flows[id] = f
	s.schedule(f)
	s.mu.Unlock()
	return id, rec.Verification, nil
}

func checkTenant(t string) error {
	if t == "" || len(t) > 200 {
		return fmt.Errorf("%w: tenant: 1 to 200 bytes", ErrInvalid)
	}
	for _, r := range t {
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: tenant: control character", ErrInvalid)
		}
	}
	return nil
}

// Status reads a flow from the store: ErrNotFound when there is none.
func (s *Scheduler) Status(ctx context.Context, id string) (*Status, error) {
	r, _, err := s.readRecord(ctx, id)
	if err != nil {
		return nil, err
	}
	return r.status(), nil
}

// Wait waits for a flow to end, on any node, and returns its result. It
// fails with ErrNotFound for an unknown flow, or with ctx's error.
func (s *Scheduler) Wait(ctx context.Context, id string) (Result, error) {
	t := time.NewTicker(s.cfg.WaitPoll)
	defer t.Stop()
	for {
		// Subscribe before reading, so an end recorded in between is seen.
		var ch chan struct{}
		s.mu.Lock()
		if _, ok := s.flows[id]; ok {
			if ch = s.notify[id]; ch == nil {
				ch = make(chan struct{})
				s.notify[id] = ch
			}
		}
		s.mu.Unlock()
		r, _, err := s.readRecord(ctx, id)
		if err != nil {
			return Result{}, err
		}
		if r.State != Pending {
			return r.result(), nil
		}
		select {
		case <-ch:
		case <-t.C:
		case <-ctx.Done():
			return Result{}, ctx.Err()
		}
	}
}

// Cancel stops a flow on whichever node polls it: its state (the device
// code) leaves the store and the record says Cancelled until ResultTTL. A
// poll already under way on another node may still be answered; its
// answer is discarded. Cancel fails with ErrNotFound or ErrFinished.
func (s *Scheduler) Cancel(ctx context.Context, id string) error {
	var tomb record
	var tombRaw string
	err := s.update(ctx, s.flowKey(id), func(cur *string) (*string, bool, error) {
		if cur == nil {
			return nil, false, ErrNotFound
		}
		r, err := decodeRecord(s.flowKey(id), *cur)
		if err != nil {
			return nil, false, err
		}
		if r.State != Pending {
			return nil, false, ErrFinished
		}
		now := s.now()
		r.State, r.Flow, r.Next, r.Updated = Cancelled, nil, 0, now
		r.Lease = now + (s.cfg.ResultTTL + s.cfg.LeaseTTL).Milliseconds()
		tomb, tombRaw = *r, r.encode()
		return &tombRaw, true, nil
	})
	if err != nil {
		return err
	}
	_ = s.store.Delete(ctx, s.tokenKey(id))
	if tomb.Owner != s.cfg.Node {
		// Tell the owner, which reads its notices with its heartbeat: it
		// may go several polls without writing the record (Checkpoint).
		err := updateMap(s, ctx, s.cancelsKey(tomb.Owner), func(m map[string]int64) bool {
			m[id] = s.now()
			return true
		})
		if err != nil {
			s.logf("scheduler: telling a flow's owner of its cancel failed; it stops at its next write", "flow", id, "owner", tomb.Owner, "err", err)
		}
	}
	s.c.cancelled.Add(1)
	s.mu.Lock()
	if f := s.flows[id]; f != nil {
		f.cancelled = true
		if f.running {
			if f.cancel != nil {
				f.cancel()
			}
		} else if tomb.Owner == s.cfg.Node {
			f.rec, f.raw = tomb, tombRaw
			s.schedule(f)
		}
	}
	s.ended(id)
	s.mu.Unlock()
	if s.cfg.OnResult != nil {
		s.cfg.OnResult(tomb.result())
	}
	return nil
}

// schedule puts f in the heap at its due time; the caller holds s.mu.
func (s *Scheduler) schedule(f *flow) {
	switch f.rec.State {
	case Pending:
		// A little after the engine's time: its wall clock and ours are
		// read at different instants, and a poll a millisecond early is an
		// early wake (the engine sends nothing and asks again).
		f.due = s.fromWall(f.rec.Next) + 2
	default:
		f.due = s.fromWall(f.rec.Updated + s.cfg.ResultTTL.Milliseconds())
	}
	s.scheduleAt(f, f.due)
}

func (s *Scheduler) scheduleAt(f *flow, due int64) {
	f.due = due
	if f.running {
		return
	}
	if f.idx >= 0 {
		heap.Fix(&s.due, f.idx)
	} else {
		heap.Push(&s.due, f)
	}
	if s.due[0] == f {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// ended wakes the local waiters of id; the caller holds s.mu.
func (s *Scheduler) ended(id string) {
	if ch := s.notify[id]; ch != nil {
		close(ch)
		delete(s.notify, id)
	}
}

// forget drops a flow this node no longer holds; the caller holds s.mu.
func (s *Scheduler) forget(f *flow) {
	if f.idx >= 0 {
		heap.Remove(&s.due, f.idx)
	}
	delete(s.flows, f.id)
	s.ended(f.id)
}

func (s *Scheduler) logf(msg string, args ...any) {
	for _, a := range args {
		if err, ok := a.(error); ok && errors.Is(err, context.Canceled) {
			return // the node is stopping
		}
	}
	if s.cfg.Logger != nil {
		s.cfg.Logger.Warn(msg, append([]any{"node", s.cfg.Node}, args...)...)
	}
}

// Run runs the node until ctx ends or Shutdown is called: it polls the
// flows this node holds, keeps its heartbeat and takes over the flows of
// dead nodes. When ctx ends, Run stops: polls under way finish and are
// recorded (within Host.RequestTimeout: an exchange cut short would lose a
// token the server has issued), nothing new starts, and the node's leases
// are left to lapse, so other nodes resume its flows after LeaseTTL as
// they do when a node crashes; Run returns ctx's error. After Shutdown it
// returns nil. A Scheduler runs once.
func (s *Scheduler) Run(ctx context.Context) error {
	s.mu.Lock()
	switch s.phase {
	case phRunning, phStopping:
		s.mu.Unlock()
		return ErrRunning
	case phClosed:
		s.mu.Unlock()
		return ErrClosed
	}
	s.phase = phRunning
	s.mu.Unlock()
	defer close(s.done)

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := s.beat(runCtx); err != nil {
		s.logf("scheduler: heartbeat failed", "err", err)
	}
	s.scan(runCtx, true)

	// Polls run to their end (within their lease) even when ctx ends: an
	// exchange cut short would lose a token the server has issued.
	workCtx := context.WithoutCancel(runCtx)
	var workers sync.WaitGroup
	for range s.cfg.Workers {
		workers.Go(func() {
			for f := range s.work {
				if runCtx.Err() != nil {
					continue
				}
				s.process(workCtx, f)
			}
		})
	}
	var bg sync.WaitGroup
	bg.Go(func() { s.dispatch(runCtx) })
	bg.Go(func() { s.heartbeats(runCtx) })

	var err error
	select {
	case <-ctx.Done():
		err = ctx.Err()
		cancel()
		bg.Wait()
		workers.Wait()
	case <-s.stopping:
		// Graceful: no new polls; the running ones finish; then the leases
		// are handed over.
		bg.Wait()
		workers.Wait()
		s.handOver(runCtx)
	}
	s.mu.Lock()
	s.phase = phClosed
	s.runErr = err
	for id := range s.notify {
		s.ended(id)
	}
	s.mu.Unlock()
	return err
}

// Shutdown stops the node gracefully: polls under way finish, then the
// node hands its flows over (their leases end now and its heartbeat is
// removed), so other nodes resume them at their next due time. It returns
// when Run has returned, or with ctx's error.
func (s *Scheduler) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	switch s.phase {
	case phIdle:
		s.phase = phClosed
		close(s.stopping)
		s.mu.Unlock()
		return nil
	case phRunning:
		s.phase = phStopping
		close(s.stopping)
	case phClosed:
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close releases the plugin instances. Call it after Run has returned.
func (s *Scheduler) Close() error { return s.h.Close(context.Background()) }

// dispatch hands due flows to the workers, in due order.
func (s *Scheduler) dispatch(ctx context.Context) {
	defer close(s.work)
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		s.mu.Lock()
		now := s.clock()
		if len(s.due) > 0 && s.due[0].due <= now {
			f := heap.Pop(&s.due).(*flow)
			f.running = true
			s.mu.Unlock()
			select {
			case s.work <- f:
				continue
			default:
				// Every worker busy, and as many due flows waiting.
				s.busy(now - f.due)
			}
			select {
			case s.work <- f:
				continue
			case <-ctx.Done():
				return
			case <-s.stopping:
				s.mu.Lock()
				f.running = false
				s.mu.Unlock()
				return
			}
		}
		wait := time.Hour
		if len(s.due) > 0 {
			wait = time.Duration(s.due[0].due-now) * time.Millisecond
		}
		s.mu.Unlock()
		t.Reset(wait)
		select {
		case <-t.C:
		case <-s.wake:
		case <-ctx.Done():
			return
		case <-s.stopping:
			return
		}
	}
}

// busyEvery is how often, at most, a node logs that its workers are all
// busy.
const busyEvery = time.Minute

// busy counts a due flow that found every worker busy (Stats.Busy) and
// says so in the log, at most once per busyEvery: polls are running late
// because Workers caps the calls under way.
func (s *Scheduler) busy(lateMs int64) {
	s.c.busy.Add(1)
	now := time.Now().UnixNano()
	last := s.lastBusyLog.Load()
	if now-last < int64(busyEvery) || !s.lastBusyLog.CompareAndSwap(last, now) {
		return
	}
	s.logf("scheduler: every worker is busy and due polls wait: if the machine has CPU to spare, raise Config.Workers to at least polls/s × round trip; otherwise add nodes",
		"workers", s.cfg.Workers, "late", time.Duration(max(lateMs, 0))*time.Millisecond)
}

// process is a worker's turn with a due flow.
func (s *Scheduler) process(ctx context.Context, f *flow) {
	s.mu.Lock()
	rec, raw, dirty := f.rec, f.raw, f.dirty
	f.dirty = false
	s.mu.Unlock()
	switch {
	case dirty:
		s.commit(ctx, f, raw, &rec)
	case rec.State == Pending:
		s.poll(ctx, f, rec, raw)
	default:
		s.reap(ctx, f, raw)
	}
	s.mu.Lock()
	f.running = false
	if _, held := s.flows[f.id]; held && f.idx < 0 && ctx.Err() == nil {
		s.scheduleAt(f, f.due)
	}
	s.mu.Unlock()
}

// transient reports a poll that got no answer to keep: cut short by the
// lease's deadline, or a plugin trap. The flow is polled again later from
// the same state.
func transient(err error) bool {
	return host.IsCode(err, host.ErrCancelled.Code) || host.IsCode(err, host.ErrPlugin.Code)
}

// poll sends one poll and records its answer.
func (s *Scheduler) poll(ctx context.Context, f *flow, rec record, raw string) {
	now := s.now()
	skew := s.cfg.ClockSkew.Milliseconds()
	if now+s.cfg.Host.RequestTimeout.Milliseconds() > rec.Lease-skew {
		// Too late to finish within the lease (the node stalled): renew it
		// first, then poll at once.
		next := rec
		next.Lease = s.leaseFrom(now)
		next.Updated = now
		if s.commit(ctx, f, raw, &next) {
			// Back in the heap at its own (past) due time, ahead of the
			// flows due after it.
			s.mu.Lock()
			f.due = s.fromWall(rec.Next)
			s.mu.Unlock()
		}
		return
	}
	s.mu.Lock()
	if f.cancelled {
		s.mu.Unlock()
		s.reload(ctx, f)
		return
	}
	// Lateness: when the poll goes out against when the engine said.
	if f.unmeasured {
		f.unmeasured = false
	} else {
		s.c.late(time.Duration(now-rec.Next) * time.Millisecond)
	}
	pctx, cancel := context.WithDeadline(withRoute(ctx, s.tokenKey(f.id)), time.UnixMilli(rec.Lease-skew))
	f.cancel = cancel
	s.mu.Unlock()

	if f.client == nil {
		// Only the worker polling the flow touches it.
		f.client, _ = json.Marshal(rec.Client)
	}
	out, err := s.call(pctx, "poll", pollInput(f.client, rec.Flow))
	cancel()
	s.mu.Lock()
	f.cancel = nil
	cancelled := f.cancelled
	s.mu.Unlock()
	if cancelled {
		s.reload(ctx, f)
		return
	}
	now = s.now()
	next := rec
	next.Updated = now
	if err != nil && transient(err) {
		s.logf("scheduler: poll got no answer; polling again after the interval", "flow", f.id, "err", err)
		s.mu.Lock()
		f.due = s.clock() + max(rec.IntervalMs, 1000)
		s.mu.Unlock()
		return
	}
	if err != nil {
		var he *host.Error
		if !errors.As(err, &he) {
			he = &host.Error{Code: host.ErrPlugin.Code, Message: err.Error()}
		}
		if f.claimed && he.Code == host.ErrIncorrectDeviceCode.Code {
			// The dead owner's last exchange got the token, and the
			// answer died with it.
			c := *he
			c.Message = "the node that polled this flow died during the exchange that carried its token (the device code is spent, and the answer was never stored): start a new sign-in. " + he.Message
			he = &c
		}
		next.State, next.Flow, next.Next, next.Err = Failed, nil, 0, he
		next.Lease = now + (s.cfg.ResultTTL + s.cfg.LeaseTTL).Milliseconds()
		next.Polls++
		s.commit(ctx, f, raw, &next)
		return
	}
	a, ok := parseStep(out)
	if !ok {
		s.logf("scheduler: malformed poll answer", "flow", f.id)
		s.mu.Lock()
		f.due = s.clock() + max(rec.IntervalMs, 1000)
		s.mu.Unlock()
		return
	}
	switch a.Status {
	case "complete":
		s.c.polls.Add(1)
		next.State, next.Flow, next.Next, next.Auth = Complete, nil, 0, a.Authentication
		next.Lease = now + (s.cfg.ResultTTL + s.cfg.LeaseTTL).Milliseconds()
		next.Polls++
	default:
		if d := a.NextPollAt - rec.Next; d >= -5 && d <= 5 {
			// The engine found the poll early and sent nothing.
			s.c.early.Add(1)
		} else {
			s.c.polls.Add(1)
			next.Polls++
		}
		next.Flow, next.Next, next.Expires = a.State, a.NextPollAt, a.ExpiresAt
		next.IntervalMs = int64(a.Interval * 1000)
		if s.coveredBy(rec, &next) {
			// Nothing the store must know yet: the lease written last
			// covers the next poll too.
			s.keep(f, &next)
			return
		}
		next.Lease = s.leaseFrom(a.NextPollAt)
	}
	s.commit(ctx, f, raw, &next)
}

// coveredBy reports whether next, a pending answer to a poll of rec, may
// stay unwritten (Config.Checkpoint): only its poll times and counts
// changed (not the interval: a slow_down is written at once), and rec's
// lease, the one in the store, lets the next poll run (see poll's
// renewal) with its whole request inside the lease.
func (s *Scheduler) coveredBy(rec record, next *record) bool {
	// (The expiry moves by a millisecond or two from poll to poll: the
	// engine converts its deadline to wall-clock time at each call.)
	if s.cfg.Checkpoint < 0 || next.State != Pending || rec.State != Pending || next.IntervalMs != rec.IntervalMs {
		return false
	}
	// The next poll goes out at next.Next (+2 ms, see schedule); it must
	// pass poll's check: out + RequestTimeout ≤ Lease − ClockSkew.
	return next.Next+2+s.cfg.Host.RequestTimeout.Milliseconds() <= rec.Lease-s.cfg.ClockSkew.Milliseconds()
}

// leaseFrom is the lease a pending flow's record gets when written with
// its next poll at due (Unix ms).
func (s *Scheduler) leaseFrom(due int64) int64 {
	return due + s.cfg.LeaseTTL.Milliseconds() + max(s.cfg.Checkpoint.Milliseconds(), 0)
}

// keep makes rec, not written, the flow's state: f.raw stays the record
// the store holds (with the same lease), which the next write replaces.
func (s *Scheduler) keep(f *flow, rec *record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f.rec = *rec
	if _, held := s.flows[f.id]; held {
		s.schedule(f)
	}
}

// commit writes next over old (the record as this node last saw it) and
// adopts it. When the record changed meanwhile, the value held decides: a
// token this node received is written over a pending or failed record (the
// token is the truth; no other node can have one, the device code being
// single use); a record this node still owns is adopted; a record another
// node took, or one removed, makes this node forget the flow. It reports
// whether the node still holds the flow.
func (s *Scheduler) commit(ctx context.Context, f *flow, old string, next *record) bool {
	key := s.flowKey(f.id)
	newRaw := next.encode()
	for range maxSwaps {
		ok, cur, err := s.swap.Swap(ctx, key, &old, &newRaw)
		if err != nil {
			if ctx.Err() != nil {
				return false
			}
			// The outcome is unknown: keep the answer and write it again
			// later (a conflict with our own value then succeeds below).
			s.logf("scheduler: writing a flow record failed; trying again", "flow", f.id, "err", err)
			s.mu.Lock()
			f.rec, f.raw, f.dirty = *next, old, true
			f.due = s.clock() + 1000
			s.mu.Unlock()
			return true
		}
		if ok {
			s.adopt(f, next, newRaw)
			return true
		}
		if cur == nil {
			// Cancelled and removed, or never there.
			s.lose(ctx, f, next)
			return false
		}
		if *cur == newRaw {
			s.adopt(f, next, newRaw)
			return true
		}
		c, err := decodeRecord(key, *cur)
		if err != nil {
			s.logf("scheduler: unreadable flow record; dropping the flow", "flow", f.id, "err", err)
			s.lose(ctx, f, next)
			return false
		}
		switch {
		case next.State == Complete && (c.State == Pending || c.State == Failed):
			next.Polls = max(next.Polls, c.Polls)
			newRaw = next.encode()
			old = *cur
			continue
		case c.State == Pending && c.Owner == s.cfg.Node:
			old = *cur
			continue
		case c.Owner == s.cfg.Node:
			if next.State == Complete {
				_ = s.store.Delete(ctx, s.tokenKey(f.id))
			}
			s.adopt(f, c, *cur)
			return true
		default:
			s.lose(ctx, f, next)
			return false
		}
	}
	s.logf("scheduler: a flow record kept changing; dropping the flow", "flow", f.id)
	s.lose(ctx, f, next)
	return false
}

// adopt makes rec (as the store holds it, raw) the flow's state and
// schedules it; a final state reached here for the first time is reported.
func (s *Scheduler) adopt(f *flow, rec *record, raw string) {
	s.mu.Lock()
	f.rec, f.raw, f.dirty = *rec, raw, false
	if _, held := s.flows[f.id]; !held {
		s.mu.Unlock()
		return
	}
	s.schedule(f)
	report := false
	if rec.State != Pending {
		s.ended(f.id)
		report = !f.reported && !f.cancelled && rec.State != Cancelled
		f.reported = true
	}
	s.mu.Unlock()
	if report {
		s.report(rec)
	}
}

// report counts a flow's end and hands it to OnResult.
func (s *Scheduler) report(rec *record) {
	switch rec.State {
	case Complete:
		s.c.completed.Add(1)
		// The token is in the record now: the plugin's copy goes.
		_ = s.store.Delete(context.Background(), s.tokenKey(rec.ID))
	case Failed:
		s.c.failed.Add(1)
	}
	if s.cfg.OnResult != nil {
		s.cfg.OnResult(rec.result())
	}
}

// lose forgets a flow that another node took or that was removed. A token
// this node received for it is dropped from the plugin's entry if the flow
// was cancelled.
func (s *Scheduler) lose(ctx context.Context, f *flow, mine *record) {
	s.c.lost.Add(1)
	if mine.State == Complete {
		if r, _, err := s.readRecord(ctx, f.id); errors.Is(err, ErrNotFound) || (err == nil && r.State == Cancelled) {
			_ = s.store.Delete(ctx, s.tokenKey(f.id))
		}
	}
	s.mu.Lock()
	s.forget(f)
	s.mu.Unlock()
}

// reload re-reads a flow whose record changed under this node (a Cancel)
// and adopts or forgets it.
func (s *Scheduler) reload(ctx context.Context, f *flow) {
	r, raw, err := s.readRecord(ctx, f.id)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case err == nil && r.Owner == s.cfg.Node:
		if r.State == Cancelled {
			_ = s.store.Delete(ctx, s.tokenKey(f.id))
		}
		f.rec, f.raw = *r, raw
		s.schedule(f)
		if r.State != Pending {
			s.ended(f.id)
		}
	case err != nil && !errors.Is(err, ErrNotFound):
		f.due = s.clock() + 1000
	default:
		s.forget(f)
	}
}

// reap removes an ended flow's record, token entry and index entry once
// ResultTTL has passed.
func (s *Scheduler) reap(ctx context.Context, f *flow, raw string) {
	if f.rec.State == Pending {
		return
	}
	ok, cur, err := s.swap.Swap(ctx, s.flowKey(f.id), &raw, nil)
	if err != nil {
		s.mu.Lock()
		f.due = s.clock() + 1000
		s.mu.Unlock()
		return
	}
	if !ok && cur != nil {
		if c, derr := decodeRecord(s.flowKey(f.id), *cur); derr == nil && c.Owner == s.cfg.Node {
			s.adopt(f, c, *cur)
			return
		}
	}
	if ok {
		_ = s.store.Delete(ctx, s.tokenKey(f.id))
		_ = s.index(ctx, f.id, "")
	}
	s.mu.Lock()
	s.forget(f)
	s.mu.Unlock()
}

// heartbeats renews the node's heartbeat and looks for dead nodes' flows.
func (s *Scheduler) heartbeats(ctx context.Context) {
	t := time.NewTicker(s.cfg.Heartbeat)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		case <-s.stopping:
			return
		}
		if err := s.beat(ctx); err != nil {
			s.logf("scheduler: heartbeat failed", "err", err)
		}
		s.cancels(ctx)
		s.scan(ctx, n%10 == 0)
	}
}

// cancels stops the flows this node holds that other nodes cancelled:
// Cancel leaves their ids under PREFIX:cancels:NODE, which the owner reads
// with every heartbeat, so it stops within one rather than at its next
// write of the record.
func (s *Scheduler) cancels(ctx context.Context) {
	key := s.cancelsKey(s.cfg.Node)
	ids, err := readMap[int64](s, ctx, key)
	if err != nil {
		s.logf("scheduler: reading the cancel notices failed", "err", err)
		return
	}
	if len(ids) == 0 {
		return
	}
	for id := range ids {
		s.mu.Lock()
		f := s.flows[id]
		if f == nil {
			s.mu.Unlock()
			continue
		}
		f.cancelled = true
		running := f.running
		if running && f.cancel != nil {
			f.cancel()
		}
		s.mu.Unlock()
		if !running {
			// A running poll sees cancelled and reloads itself.
			s.reload(ctx, f)
		}
	}
	err = updateMap(s, ctx, key, func(m map[string]int64) bool {
		for id := range ids {
			delete(m, id)
		}
		return true
	})
	if err != nil {
		s.logf("scheduler: clearing the cancel notices failed", "err", err)
	}
}

// beat writes the node's heartbeat, and drops those of nodes dead for a
// long time (a scan forgets dead nodes it finds no flows for).
func (s *Scheduler) beat(ctx context.Context) error {
	now := s.now()
	until := now + 3*s.cfg.Heartbeat.Milliseconds()
	return updateMap(s, ctx, s.nodesKey(), func(m map[string]int64) bool {
		m[s.cfg.Node] = until
		for n, t := range m {
			if t < now-time.Hour.Milliseconds() {
				delete(m, n)
			}
		}
		return true
	})
}

// scan claims the flows of dead nodes (every shard when full, or when a
// dead node is known).
func (s *Scheduler) scan(ctx context.Context, full bool) {
	nodes, err := readMap[int64](s, ctx, s.nodesKey())
	if err != nil {
		s.logf("scheduler: reading the heartbeats failed", "err", err)
		return
	}
	now := s.now()
	var live []string
	dead := false
	for n, t := range nodes {
		if t >= now {
			live = append(live, n)
		} else {
			dead = true
		}
	}
	if _, ok := nodes[s.cfg.Node]; !ok || nodes[s.cfg.Node] < now {
		live = append(live, s.cfg.Node)
	}
	if !dead && !full {
		return
	}
	isLive := map[string]bool{}
	for _, n := range live {
		isLive[n] = true
	}
	seen := map[string]bool{}
	for shard := range s.cfg.Shards {
		if ctx.Err() != nil {
			return
		}
		idx, err := readMap[string](s, ctx, s.shardKey(shard))
		if err != nil {
			s.logf("scheduler: reading the index failed", "err", err)
			return
		}
		claimed := map[string]string{} // id → new owner ("" remove)
		for id, owner := range idx {
			seen[owner] = true
			s.mu.Lock()
			_, local := s.flows[id]
			local = local || s.starting[id]
			s.mu.Unlock()
			if local || (isLive[owner] && owner != s.cfg.Node) {
				continue
			}
			switch s.claim(ctx, id, rendezvous(id, live) == s.cfg.Node) {
			case claimTaken:
				claimed[id] = s.cfg.Node
			case claimGone:
				claimed[id] = ""
			}
		}
		if len(claimed) > 0 {
			err := updateMap(s, ctx, s.shardKey(shard), func(m map[string]string) bool {
				for id, owner := range claimed {
					if owner == "" {
						delete(m, id)
					} else if _, ok := m[id]; ok {
						m[id] = owner
					}
				}
				return true
			})
			if err != nil {
				s.logf("scheduler: updating the index failed", "err", err)
			}
		}
	}
	// Forget dead nodes that hold nothing any more.
	var gone []string
	for n, t := range nodes {
		if t < now && !seen[n] {
			gone = append(gone, n)
		}
	}
	if len(gone) > 0 {
		for _, n := range gone {
			_ = s.store.Delete(ctx, s.cancelsKey(n))
		}
		_ = updateMap(s, ctx, s.nodesKey(), func(m map[string]int64) bool {
			for _, n := range gone {
				if t, ok := m[n]; ok && t < now {
					delete(m, n)
				}
			}
			return true
		})
	}
}

type claimOutcome int

const (
	claimSkipped claimOutcome = iota
	claimTaken
	claimGone
)

// claim takes over a flow whose owner is dead, once its lease has expired:
// at once when this node is the one rendezvous hashing picks among the live
// nodes (mine), or by anyone once the lease has been over for two more
// LeaseTTLs (the pick died too).
func (s *Scheduler) claim(ctx context.Context, id string, mine bool) claimOutcome {
	r, raw, err := s.readRecord(ctx, id)
	now := s.now()
	if errors.Is(err, ErrNotFound) {
		// An entry without a record: its node died between the two writes
		// of Start, or is between them now. Removed once it has been so
		// for a LeaseTTL.
		s.mu.Lock()
		defer s.mu.Unlock()
		since, ok := s.missing[id]
		if !ok {
			s.missing[id] = now
			return claimSkipped
		}
		if now-since < s.cfg.LeaseTTL.Milliseconds() {
			return claimSkipped
		}
		delete(s.missing, id)
		return claimGone
	}
	if err != nil {
		return claimSkipped
	}
	s.mu.Lock()
	delete(s.missing, id)
	s.mu.Unlock()
	if r.Lease >= now || (!mine && r.Lease+2*s.cfg.LeaseTTL.Milliseconds() >= now) {
		return claimSkipped
	}
	next := *r
	next.Owner = s.cfg.Node
	due := int64(0)
	recovered := false
	switch {
	case r.State == Pending && s.storedToken(ctx, id, &next):
		// The dead owner's plugin stored the token (a poll's last step)
		// but the owner died before writing the record: the flow is done.
		recovered = true
		next.Updated = now
		next.Lease = now + (s.cfg.ResultTTL + s.cfg.LeaseTTL).Milliseconds()
	case r.State == Pending:
		// The dead owner's last poll reached the server before its lease
		// ended: the next one waits a whole interval after that.
		due = max(now, r.Next, r.Lease+r.IntervalMs)
		next.Lease = s.leaseFrom(due)
	default:
		next.Lease = now + (s.cfg.ResultTTL + s.cfg.LeaseTTL).Milliseconds()
	}
	newRaw := next.encode()
	ok, _, err := s.swap.Swap(ctx, s.flowKey(id), &raw, &newRaw)
	if err != nil || !ok {
		return claimSkipped
	}
	s.c.claimed.Add(1)
	f := &flow{id: id, rec: next, raw: newRaw, idx: -1, unmeasured: true, reported: next.State != Pending, claimed: true}
	s.mu.Lock()
	s.flows[id] = f
	if next.State == Pending {
		s.scheduleAt(f, due)
	} else {
		s.schedule(f)
	}
	s.mu.Unlock()
	if recovered {
		s.c.recovered.Add(1)
		s.report(&next)
	}
	return claimTaken
}

// storedToken reports whether the plugin stored a token for flow id, and
// if so makes next its Complete record.
func (s *Scheduler) storedToken(ctx context.Context, id string, next *record) bool {
	v, err := s.store.Get(ctx, s.tokenKey(id))
	if err != nil {
		return false
	}
	var a Authentication
	if json.Unmarshal([]byte(v), &a) != nil || a.Token == "" {
		return false
	}
	next.State, next.Flow, next.Next, next.Auth = Complete, nil, 0, &a
	next.Polls++
	return true
}

// rendezvous picks the node with the highest hash of (node, id).
func rendezvous(id string, nodes []string) string {
	best, bestH := "", uint64(0)
	for _, n := range nodes {
		h := fnv.New64a()
		h.Write([]byte(n))
		h.Write([]byte{0})
		h.Write([]byte(id))
		if v := h.Sum64(); best == "" || v > bestH {
			best, bestH = n, v
		}
	}
	return best
}

// handOver ends this node's leases and removes its heartbeat, so the other
// nodes resume its flows at their next due time.
func (s *Scheduler) handOver(ctx context.Context) {
	s.mu.Lock()
	flows := make([]*flow, 0, len(s.flows))
	for _, f := range s.flows {
		flows = append(flows, f)
	}
	s.mu.Unlock()
	now := s.now()
	for _, f := range flows {
		next := f.rec
		next.Lease = now - 1
		newRaw := next.encode()
		if _, _, err := s.swap.Swap(ctx, s.flowKey(f.id), &f.raw, &newRaw); err != nil {
			s.logf("scheduler: handing a flow over failed; its lease will lapse", "flow", f.id, "err", err)
		}
	}
	_ = updateMap(s, ctx, s.nodesKey(), func(m map[string]int64) bool {
		_, ok := m[s.cfg.Node]
		delete(m, s.cfg.Node)
		return ok
	})
}

// pollingClient is the HTTP client of a scheduler given none: the default
// transport's settings, keeping as many idle connections per host as
// polls run at once. The default transport keeps two, so a scheduler
// polling with more workers would dial a new connection for most polls.
// When http.DefaultTransport is not Go's own (a test's mock replaced it),
// it is used as it is.
func pollingClient(workers int) *http.Client {
	t, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return &http.Client{}
	}
	t = t.Clone()
	t.MaxIdleConnsPerHost = max(workers, t.MaxIdleConnsPerHost)
	t.MaxIdleConns = max(2*workers, t.MaxIdleConns)
	return &http.Client{Transport: t}
}
