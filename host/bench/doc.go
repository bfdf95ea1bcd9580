// Package bench holds deviceflow's benchmarks (its _test.go files); it has
// no code of its own. Run them with
//
//	go test ./host/bench -run '^$' -bench . -benchtime 2s
//
// They measure, against the emulator on loopback:
//
//   - BenchmarkPollExchange: one poll of the token endpoint answered
//     authorization_pending, through the plugin (the poll export in the Go
//     host) and natively with golang.org/x/oauth2, and their ratio;
//   - BenchmarkPollCall: the same poll through the plugin with an HTTP
//     transport that answers from memory (no emulator, no network): the
//     plugin's own cost, mostly its wasm;
//   - BenchmarkTokenProcess: a whole `deviceflow token` process answering
//     a cached token from the file store, with a warm compilation cache;
//   - BenchmarkPluginSize: the plugin's size, raw and gzip-compressed.
//
// The start-up benchmarks (compilation, first call with a warm cache) live
// in package host, which they need to reset: host/startup_bench_test.go.
package bench
