// Package reliability holds the reliability harness of issue 11 (§1 and
// §2): tests that run the real `deviceflow` command and the Python command
// (`python -m deviceflow`) as many concurrent processes against the local
// emulator and one shared file store, kill them with SIGKILL around a
// refresh, and measure what the issue promises:
//
//   - one refresh request per credential however many processes, threads
//     or goroutines need the token at once, no failed process, and the
//     store ending with the newest pair;
//   - no sign-in lost to a kill -9 during a refresh, with a store padded to
//     about 8 MB, and a time from the server's answer to the durable write
//     of the new pair that does not grow with the store's size.
//
// The package has tests only (Linux: they read /proc and use inotify to see
// what the processes do to the store). `go test ./host/reliability` runs the short
// version; DEVICEFLOW_RELIABILITY_FULL=1 (make reliability) the long one.
// See README.md.
package reliability
