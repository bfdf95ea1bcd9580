// Package host runs the deviceflow plugin in Go on wazero directly: the
// Extism kernel ABI the plugin imports is implemented natively in Go
// (internal/kernel), so the plugin runs unchanged, as it does under Extism's
// SDKs in other languages.
//
// A Host loads the embedded plugin (compiled once per process), supplies the
// capabilities the plugin imports (HTTP through an injectable *http.Client,
// sleep that ends early when the context ends, a clock, a Store, events to a
// callback), enforces the sandbox (allowed hosts, HTTPS except loopback,
// response and time caps, memory cap, cancellation) and maps the plugin's
// error JSON to typed Go errors usable with errors.Is and errors.As.
//
// # Sandbox
//
// Each request the plugin makes must go to a host derived from the base URL
// (github.com and api.github.com by default; HOST for GitHub Enterprise
// Server), over HTTPS unless the host is a loopback address; redirects are
// handed back, never followed; each response body is capped (1 MiB) and each
// request timed out (30 s). A refused request reaches the plugin as a
// "denied" failure and the call fails with ErrHTTPDenied. Each plugin
// instance's memory is capped at MaxMemoryPages, inputs at MaxInputBytes.
// When a call's context ends, a sleeping plugin stops at once; a running one
// is stopped by wazero, and its instance is dropped so the next call gets a
// fresh one.
//
// # Compilation cache
//
// The plugin is compiled once per process, and the compiled code is kept on
// disk under CacheDir ($DEVICEFLOW_CACHE_DIR, "off" to disable), so that
// later processes load it in milliseconds instead of compiling it for
// seconds. Processes may share the directory; see CacheDir.
//
// # Stores
//
// Cached authentications go to a Store: MemoryStore (the default), FileStore
// (a 0700 directory with one 0600 JSON file per entry, atomic writes),
// EncryptedFileStore (the same, each file sealed with AES-256-GCM; key from
// $DEVICEFLOW_ENCRYPTION_KEY or another store: KeyFromStore). Stores that
// pull dependencies are packages of their own under host/store (the OS
// keyring: host/store/keyring), so a program compiles them only when it
// uses them; FileLocks gives such a store a compare-and-swap and leases
// through lock files. No store ever falls back to another: a missing
// keyring, a wrong key or a damaged file is an error that says what to do,
// and the plugin's "store" error wraps it (errors.Is(err,
// ErrWrongEncryptionKey) and the like work on a call's error).
//
// The plugin makes every write conditional on the value it read (Swapper)
// and holds a lease on a key while it spends a refresh token or runs a
// device flow (Locker). Every store above implements both: the memory
// store within its process; the file stores across goroutines and
// processes, through flock on a lock file per entry (N.lock around one
// compare-and-swap, N.lease for a lease), so one entry's write never waits
// on another's and costs the same in a store of ten entries or ten
// thousand; the keyring store through the same lock files in the user's
// cache directory. A Store of your own that lacks them gets an in-process
// emulation (SwapperFor, LockerFor), safe within one process only. The
// file layout and the locks are the Python SDK's, so Go and Python
// programs can share a store.
//
// A file store still in the single-file layout of earlier releases
// ({"version":1,"entries":{...}} at PATH) is migrated on first use, under
// the flock on PATH.lock: PATH is renamed to PATH.v1, the directory PATH is
// made and every entry it does not hold yet is written, then PATH.v1 is
// removed. A process killed at any point leaves PATH.v1 behind, and the
// next use finishes the job: nothing is lost.
//
// The host holds no protocol logic: slow_down, deadlines, caching and
// refresh all live in the plugin.
package host
