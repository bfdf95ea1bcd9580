package scheduler

import "github.com/deviceflow/deviceflow/host"

// StoreForTest is the scheduler's store.
func (s *Scheduler) StoreForTest() host.Store { return s.store }
