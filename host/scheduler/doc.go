// Package scheduler runs many device flows at once on one or more nodes
// (processes or machines) that share a store: a sign-in service, a CI
// platform or a device fleet signing in thousands of users.
//
// A node calls Start to begin a flow (the plugin's begin export: a device
// code, shown to the person as the Verification) and the scheduler polls
// it through the plugin's poll export until the person approves, denies or
// the code expires. Every decision about the protocol is the engine's: the
// scheduler polls a flow when the state that poll answered says
// (nextPollAt), never sooner, so slow_down, backoff and the deadline are
// the plugin's. Results arrive through Config.OnResult on the node that
// finished the flow, and through Wait and Status on any node.
//
// # Many nodes
//
// A flow's state lives in the shared store as one record, under a lease held
// by one node: the owner. The owner alone polls the flow, and renews the
// lease with the record it writes after a poll (one compare-and-swap, no
// extra round trip): after every poll that changes more than the poll times,
// and otherwise once per Config.Checkpoint, the lease written being long
// enough to cover the polls in between. A Cancel on another node reaches the
// owner through the store with its next heartbeat. When a node dies, its
// leases lapse and the other nodes resume its flows: each node keeps a
// heartbeat in the store, and a node whose heartbeat is stale has its flows
// claimed, once their lease has expired, by the live node that rendezvous
// hashing picks for each flow (so survivors share the load). A poll's
// context ends before its lease does (by Config.ClockSkew), so no request of
// a dead or stalled owner outlives its lease, and a device code is never
// polled by two nodes at once; nodes' clocks must agree within ClockSkew.
//
// The store must implement host.Swapper atomically for everyone sharing it
// (the Redis and PostgreSQL stores do; a MemoryStore does within one
// process; a FileStore does across the processes of one machine).
//
// # Keys
//
// Under Config.Prefix (default "deviceflow:sched"): PREFIX:nodes (the
// heartbeats), PREFIX:cancels:NODE (the flows other nodes cancelled that
// NODE owns, until it reads them), PREFIX:index:N (Config.Shards shards of the flow index, flow
// id to owner), PREFIX:flow:ID (one record per flow: the plugin's state, which
// holds the device code, or the result, which holds the token: keep the
// store private or encrypted) and PREFIX:token:ID (where the plugin stores
// the token it receives, before the poll returns it; the scheduler moves it
// into the record).
package scheduler
