//go:build linux

// Command testservers starts the test servers of package testserver for
// tests in other languages (the Python SDK's): it prints one JSON line,
// {"redis":URL,"postgres":URL}, or {"missing":MESSAGE} and exits with
// status 3 when a server's programs are not installed ({"error":MESSAGE}
// and status 1 when a server fails otherwise); then it keeps the
// servers until its standard input closes, and stops them.
//
// Usage: testservers [redis] [postgres] (both when none is named).
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/deviceflow/deviceflow/host/internal/testserver"
)

func main() {
	names := os.Args[1:]
	if len(names) == 0 {
		names = []string{"redis", "postgres"}
	}
	out := map[string]string{}
	for _, n := range names {
		var s *testserver.Server
		var err error
		switch n {
		case "redis":
			s, err = testserver.Redis()
		case "postgres":
			s, err = testserver.Postgres()
		default:
			err = fmt.Errorf("unknown server %q", n)
		}
		if err != nil {
			testserver.StopAll()
			if errors.Is(err, testserver.ErrMissing) {
				json.NewEncoder(os.Stdout).Encode(map[string]string{"missing": err.Error()})
				os.Exit(3)
			}
			json.NewEncoder(os.Stdout).Encode(map[string]string{"error": err.Error()})
			os.Exit(1)
		}
		out[n] = s.URL
	}
	json.NewEncoder(os.Stdout).Encode(out)
	io.Copy(io.Discard, os.Stdin)
	testserver.StopAll()
}
