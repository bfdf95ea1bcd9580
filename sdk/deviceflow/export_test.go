package deviceflow

// Waiting reports how many callers wait for c's shared calls, so that a test
// can see a caller join a flight instead of sleeping and hoping it has.
func Waiting(c *Client) int {
	c.flights.mu.Lock()
	defer c.flights.mu.Unlock()
	n := 0
	for _, f := range c.flights.m {
		n += f.waiters
	}
	return n
}
