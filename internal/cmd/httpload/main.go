// Command httpload measures what couponkit's HTTP layer costs under load:
// redemptions per second through the HTTP service against the engine
// called in-process, all on PostgreSQL with the same number of clients. The
// contenders are the engine in-process ("in-process"), the HTTP service
// (httpapi.New) on a loopback http.Server in this process ("http"), and,
// with -daemon, couponkitd itself run as a separate process ("couponkitd").
//
// Each round makes, for each contender, a fresh series of n issued coupons
// and times clients goroutines redeeming every one of them once, each on a
// coupon of its own. The contenders rotate which goes first from round to
// round, so that a noisy machine weighs on all alike. Every redemption must
// succeed and the series must store exactly n redemptions. The program prints
// each contender's median, least and greatest rate and the ratio of each HTTP
// contender to the engine in-process.
//
// Usage:
//
//	go run ./internal/cmd/httpload [-dsn URL] [-clients 32] [-n 3000] [-rounds 5] [-daemon] [-couponkitd PATH]
//
// The DSN defaults to $COUPONKIT_TEST_POSTGRES. The program works in a schema
// of its own, httpload_<random>, which it drops at the end.
//
// With -daemon the program builds cmd/couponkitd with the go command (run it
// inside the module), or takes the binary -couponkitd names (which implies
// -daemon), and starts "couponkitd serve" on a free loopback port, its -db
// the same PostgreSQL URL with the program's schema as its search_path and
// one API key of role till; it waits until /readyz answers 200 before the
// first round. At the end it stops the daemon with SIGTERM and prints how it
// exited: a graceful stop is exit status 0, anything else fails the run.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
)

// config is the program's flags.
type config struct {
	dsn                string
	clients, n, rounds int
	// daemon adds couponkitd as a contender: the binary at couponkitd,
	// or one built from the module when it is empty.
	daemon     bool
	couponkitd string
}

// parseFlags reads the flags of args.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("httpload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.dsn, "dsn", os.Getenv("COUPONKIT_TEST_POSTGRES"), "PostgreSQL URL")
	fs.IntVar(&c.clients, "clients", 32, "concurrent clients of each contender")
	fs.IntVar(&c.n, "n", 3000, "redemptions per timed run")
	fs.IntVar(&c.rounds, "rounds", 5, "rounds, each timing every contender")
	fs.BoolVar(&c.daemon, "daemon", false, "also time couponkitd, run as a separate process")
	fs.StringVar(&c.couponkitd, "couponkitd", "", "the couponkitd binary to run (implies -daemon); built from the module when empty")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.couponkitd != "" {
		c.daemon = true
	}
	switch {
	case c.dsn == "":
		return c, errors.New("no PostgreSQL: give -dsn or set COUPONKIT_TEST_POSTGRES")
	case c.clients < 1 || c.n < 1 || c.rounds < 1:
		return c, errors.New("-clients, -n and -rounds must be at least 1")
	}
	return c, nil
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err == nil {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		err = run(ctx, cfg, os.Stdout)
		stop()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "httpload:", err)
		os.Exit(1)
	}
}
