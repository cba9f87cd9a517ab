// Command couponkitd serves couponkit's HTTP API (package httpapi) over a
// store: an SQLite file or a PostgreSQL database.
//
// Usage:
//
//	couponkitd serve [flags]   run the server until SIGINT or SIGTERM
//	couponkitd version         print the version
//
// Every flag of serve has an environment variable; a flag given on the
// command line wins over its variable, which wins over the default:
//
//	-db DSN             COUPONKITD_DB       the store: a path of an SQLite file
//	                                        (couponkit.db), or a postgres:// or
//	                                        postgresql:// URL
//	-addr HOST:PORT     COUPONKITD_ADDR     the address to listen on (127.0.0.1:8080)
//	-keys LIST          COUPONKITD_KEYS     API keys, name:role:secret,... with role
//	                                        operator, checkout or till
//	-till-keys LIST     COUPONKITD_TILL_KEYS the tills of the till protocol
//	                                        under /till, till-id:secret,...
//	-no-auth            COUPONKITD_NO_AUTH  serve without API keys: every caller
//	                                        is an operator (refused with -keys)
//	-max-body BYTES     COUPONKITD_MAX_BODY the largest JSON body (1048576)
//	-shutdown-timeout D COUPONKITD_SHUTDOWN_TIMEOUT how long requests in flight
//	                                        may take to finish on shutdown (30s)
//	-code-key-file PATH COUPONKITD_CODE_KEY_FILE a file holding the secret of
//	                                        generated codes, at least 16 bytes
//	                                        (a trailing newline is dropped);
//	                                        without it series of generated
//	                                        codes cannot be issued
//
// A key is name:role:secret: the name identifies it and is the actor of
// its changes, the role says what it may call (see httpapi.Role), the
// secret, at least 16 characters without commas, is sent as
// "Authorization: Bearer <secret>". Names and secrets are unique. Prefer
// COUPONKITD_KEYS to -keys: a command line is visible to other users of
// the machine. The code key of each series is HMAC-SHA256 of its id under
// the file's secret; keep the file, as codes are made from it.
//
// The till protocol (package tillhttp) is mounted under /till; it knows
// the tills of -till-keys, each till-id:secret: a till sends its id as the
// Couponkit-Till header and its secret as "Authorization: Bearer
// <secret>". Secrets are at least 16 characters without commas (they may
// contain colons) and never expire; ids and secrets are unique. Without
// -till-keys the protocol knows no till, and every call is 401. Prefer
// COUPONKITD_TILL_KEYS to the flag, as for -keys.
//
// serve applies the store's migrations, then answers the API, GET /healthz
// (200 while the process is up) and GET /readyz (200 when a read of the store
// succeeds, 503 otherwise); neither needs a key. On SIGINT or SIGTERM it stops
// accepting connections, lets the requests in flight finish (up to the
// shutdown timeout; past it their contexts are cancelled and it waits for
// them to return), and only then closes the store. It exits 0 after a clean
// shutdown, 2 on a usage error and 1 on any other failure.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is the version couponkitd version prints; set it with
// -ldflags "-X main.version=...".
var version = "devel"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode reports err on w and returns the process's exit status: 0 for
// nil, 2 for a usage error, 1 otherwise.
func exitCode(err error, w io.Writer) int {
	if err == nil {
		return 0
	}
	fmt.Fprintln(w, "couponkitd:", err)
	var u usageError
	if errors.As(err, &u) {
		return 2
	}
	return 1
}

// usageError is a wrong command line or environment: exit status 2.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

const usage = `usage:
  couponkitd serve [flags]   serve the HTTP API until SIGINT or SIGTERM
  couponkitd version         print the version
Run "couponkitd serve -h" for the flags.`

// run runs the command line args (without the program's name) until it
// is done or ctx is cancelled, which shuts a server down gracefully.
// getenv reads the environment.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("no command\n%s", usage)
	}
	switch args[0] {
	case "serve":
		cfg, err := parseServe(args[1:], getenv, stderr)
		if errors.Is(err, errHelp) {
			return nil
		}
		if err != nil {
			return err
		}
		return serve(ctx, cfg, stderr)
	case "version":
		fmt.Fprintln(stdout, "couponkitd", version)
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return usagef("unknown command %q\n%s", args[0], usage)
}
