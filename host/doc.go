// Package host runs the deviceflow plugin in Go on wazero, through Extism's
// Go SDK.
//
// A Host loads the embedded plugin (compiled once per process), supplies the
// capabilities the plugin imports (HTTP through an injectable *http.Client,
// sleep that ends early when the context ends, a clock, a Store, events to a
// callback), enforces the sandbox (allowed hosts, HTTPS except loopback,
// response and time caps, memory cap, cancellation) and maps the plugin's
// error JSON to typed Go errors usable with errors.Is and errors.As.
//
// The host holds no protocol logic: slow_down, deadlines, caching and
// refresh all live in the plugin.
package host
