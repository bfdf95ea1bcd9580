// Command deviceflow signs in to GitHub with the OAuth device flow, in the
// manner of `gh auth login`, keeps the token, and hands it to scripts.
//
//	deviceflow login    sign in: shows a code, opens the browser, waits
//	deviceflow token    print the stored token, refreshed if needed
//	deviceflow status   who is signed in, with which scopes, until when
//	deviceflow logout   forget the stored token
//	deviceflow emulator run a local GitHub device-flow emulator
//	deviceflow relay    relay a web page's device flow to GitHub (CORS)
//
// Run `deviceflow help` or `deviceflow COMMAND -h` for the flags.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/deviceflow/deviceflow/host"
)

// Exit codes.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitInterrupted = 130 // 128 + SIGINT, as shells report it
)

func main() {
	shortLived(os.Args[1:])
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], newTerminal(os.Stdout, os.Stderr), os.Getenv)
	stop()
	os.Exit(code)
}

// shortLived prepares the commands that call the plugin. It starts
// compiling the plugin while the command reads its flags and opens its
// store (host.Preload). For the commands that end in a moment (token,
// status, logout) it turns the garbage collector off: loading the plugin
// allocates tens of megabytes once, and collecting them before the process
// exits is wasted time. A soft memory limit keeps a stuck command from
// growing without bound: past it the collector runs again. login (which
// may wait minutes), emulator and relay keep the default.
func shortLived(args []string) {
	if len(args) == 0 {
		return
	}
	switch args[0] {
	case "token", "status", "logout":
		host.Preload()
		debug.SetGCPercent(-1)
		debug.SetMemoryLimit(256 << 20)
	case "login":
		host.Preload()
	}
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, term *terminal, getenv func(string) string) int
}

var commands = []command{
	{"login", "sign in to GitHub with a one-time code and store the token", runLogin},
	{"token", "print the stored token, refreshed if needed", runToken},
	{"status", "show the signed-in user, scopes, expiry and store", runStatus},
	{"logout", "forget the stored token", runLogout},
	{"emulator", "run a local GitHub device-flow emulator", runEmulator},
	{"relay", "relay a web page's device flow to GitHub (CORS)", runRelay},
}

// run dispatches to a subcommand and returns the process's exit code.
func run(ctx context.Context, args []string, term *terminal, getenv func(string) string) int {
	if len(args) == 0 {
		usage(term.stderr)
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		usage(term.stdout)
		return exitOK
	case "version", "--version":
		fmt.Fprintln(term.stdout, "deviceflow", version())
		return exitOK
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, args[1:], term, getenv)
		}
	}
	fmt.Fprintf(term.stderr, "deviceflow: unknown command %q\n\n", args[0])
	usage(term.stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprint(w, "deviceflow signs in to GitHub with the OAuth device flow and keeps the token.\n\nUsage:\n  deviceflow COMMAND [flags]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun 'deviceflow COMMAND -h' for a command's flags.\n")
}
