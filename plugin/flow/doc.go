// Package flow is the deviceflow engine: GitHub's OAuth 2.0 device
// authorization grant (RFC 8628) as a pure state machine.
//
// The engine performs no I/O. It never reads a clock, never sleeps, never
// starts a goroutine. A caller feeds it events (the host's time, an HTTP
// response, the end of a sleep, a store read) and receives effects (send this
// request, sleep this long, emit this event, store this value, finish with
// this result or fail with this error). A driver (package driver) turns those
// effects into host calls; inside the wasm plugin the host functions perform
// them, in tests a scripted host does.
//
// Every protocol decision lives here, once, for every language that embeds
// the plugin: request encoding, response parsing, polling intervals,
// slow_down, deadlines, backoff, caching, refresh of expiring tokens, and the
// mapping of server errors to typed error codes.
//
// A Machine's state serialises to JSON, so a flow can be stepped across calls
// (the begin and poll exports) and resumed after a host restart.
package flow
