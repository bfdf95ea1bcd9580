package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/deviceflow/deviceflow/host"
)

// routeKey carries, in a plugin call's context, the store key where that
// flow's token goes.
type routeKey struct{}

func withRoute(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, routeKey{}, key)
}

// routedStore is the store the scheduler's host sees: every key the
// plugin uses during a flow's call (its cache entry) is that flow's
// PREFIX:token:ID, so flows of one app and many people never share an
// entry, and the scheduler knows where each token went.
type routedStore struct {
	s    host.Store
	sw   host.Swapper
	lock host.Locker
}

func newRoutedStore(s host.Store) *routedStore {
	return &routedStore{s: s, sw: host.SwapperFor(s), lock: host.LockerFor(s)}
}

func route(ctx context.Context, key string) string {
	if k, ok := ctx.Value(routeKey{}).(string); ok {
		return k
	}
	return key
}

func (r *routedStore) Get(ctx context.Context, key string) (string, error) {
	return r.s.Get(ctx, route(ctx, key))
}

func (r *routedStore) Set(ctx context.Context, key, value string) error {
	return r.s.Set(ctx, route(ctx, key), value)
}

func (r *routedStore) Delete(ctx context.Context, key string) error {
	return r.s.Delete(ctx, route(ctx, key))
}

func (r *routedStore) Swap(ctx context.Context, key string, old, new *string) (bool, *string, error) {
	return r.sw.Swap(ctx, route(ctx, key), old, new)
}

func (r *routedStore) Lock(ctx context.Context, key string, wait time.Duration) (func(), error) {
	return r.lock.Lock(ctx, route(ctx, key), wait)
}

// Key names.
func (s *Scheduler) flowKey(id string) string  { return s.cfg.Prefix + ":flow:" + id }
func (s *Scheduler) tokenKey(id string) string { return s.cfg.Prefix + ":token:" + id }
func (s *Scheduler) nodesKey() string          { return s.cfg.Prefix + ":nodes" }
func (s *Scheduler) cancelsKey(node string) string {
	return s.cfg.Prefix + ":cancels:" + node
}
func (s *Scheduler) shardKey(n int) string { return s.cfg.Prefix + ":index:" + strconv.Itoa(n) }

func (s *Scheduler) shardOf(id string) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32() % uint32(s.cfg.Shards))
}

// maxSwaps bounds the compare-and-swap retries of one update.
const maxSwaps = 100

// update applies fn to the value under key with compare-and-swap until it
// sticks. fn gets the value held (nil: none) and answers the new one (nil:
// remove) or, with write false, leaves the entry as it is.
func (s *Scheduler) update(ctx context.Context, key string, fn func(cur *string) (new *string, write bool, err error)) error {
	var cur *string
	if v, err := s.store.Get(ctx, key); err == nil {
		cur = &v
	} else if !errors.Is(err, host.ErrNoEntry) {
		return err
	}
	for range maxSwaps {
		next, write, err := fn(cur)
		if err != nil || !write {
			return err
		}
		ok, held, err := s.swap.Swap(ctx, key, cur, next)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		cur = held
	}
	return fmt.Errorf("%w: %s", ErrConflict, key)
}

// updateMap is update for a JSON object of strings (the index shards) or
// numbers (the heartbeats).
func updateMap[V any](s *Scheduler, ctx context.Context, key string, fn func(m map[string]V) bool) error {
	return s.update(ctx, key, func(cur *string) (*string, bool, error) {
		m := map[string]V{}
		if cur != nil {
			if err := json.Unmarshal([]byte(*cur), &m); err != nil {
				return nil, false, &host.Error{Code: host.ErrStore.Code, Message: "scheduler: the store entry " + key + " is not the scheduler's"}
			}
		}
		if !fn(m) {
			return nil, false, nil
		}
		if len(m) == 0 {
			return nil, cur != nil, nil
		}
		b, _ := json.Marshal(m)
		v := string(b)
		return &v, true, nil
	})
}

// readMap reads a JSON object entry (none: empty).
func readMap[V any](s *Scheduler, ctx context.Context, key string) (map[string]V, error) {
	m := map[string]V{}
	v, err := s.store.Get(ctx, key)
	if errors.Is(err, host.ErrNoEntry) {
		return m, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(v), &m); err != nil {
		return nil, &host.Error{Code: host.ErrStore.Code, Message: "scheduler: the store entry " + key + " is not the scheduler's"}
	}
	return m, nil
}

// readRecord reads a flow's record; ErrNotFound when there is none.
func (s *Scheduler) readRecord(ctx context.Context, id string) (*record, string, error) {
	key := s.flowKey(id)
	v, err := s.store.Get(ctx, key)
	if errors.Is(err, host.ErrNoEntry) {
		return nil, "", ErrNotFound
	}
	if err != nil {
		return nil, "", err
	}
	r, err := decodeRecord(key, v)
	if err != nil {
		return nil, "", err
	}
	return r, v, nil
}

// index sets (owner non-empty) or removes a flow's index entry.
func (s *Scheduler) index(ctx context.Context, id, owner string) error {
	return updateMap(s, ctx, s.shardKey(s.shardOf(id)), func(m map[string]string) bool {
		if owner == "" {
			_, had := m[id]
			delete(m, id)
			return had
		}
		if m[id] == owner {
			return false
		}
		m[id] = owner
		return true
	})
}
