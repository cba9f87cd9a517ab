package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/couponkit/couponkit/examples/fleet/central"
	"github.com/couponkit/couponkit/examples/fleet/offer"
	"github.com/couponkit/couponkit/examples/fleet/tillproc"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil && !errors.Is(err, context.Canceled) {
		stop()
		log.SetFlags(0)
		log.Fatalf("fleet: %v", err)
	}
}

// run runs the subcommand of args (the demo when there is none).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "demo"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "central":
		return runCentral(ctx, args, stdout, stderr)
	case "till":
		return runTill(ctx, args, stdout, stderr)
	case "report":
		return runReport(ctx, args, stdout)
	case "demo":
		return runDemo(ctx, args, stdout, selfSpawner)
	}
	return fmt.Errorf("unknown command %q: use central, till, report or demo", cmd)
}

// selfSpawner starts this program's own binary with args.
func selfSpawner(args ...string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return exec.Command(exe, args...), nil
}

func runCentral(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("central", flag.ContinueOnError)
	o := central.Options{Log: stderr}
	var secrets string
	fs.StringVar(&o.Store, "store", "", "the store: sqlite:<file> or postgres:<dsn>")
	fs.StringVar(&o.Addr, "addr", "127.0.0.1:0", "address to listen on")
	fs.StringVar(&secrets, "secrets", "T1=s1,T2=s2,T3=s3", "the tills' secrets, as id=secret,...")
	fs.StringVar(&o.SeriesID, "series", offer.SeriesID, "the demo series' id")
	fs.Int64Var(&o.Uses, "uses", 200, "the demo series' use limit")
	fs.DurationVar(&o.Reclaim, "reclaim", 500*time.Millisecond, "how often lapsed leases are reclaimed")
	fs.DurationVar(&o.Skew, "skew", time.Second, "the clock-skew allowance of leases")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.Store == "" {
		return errors.New("central: -store is required")
	}
	o.Secrets = map[string]string{}
	for _, kv := range strings.Split(secrets, ",") {
		id, s, ok := strings.Cut(kv, "=")
		if !ok || id == "" || s == "" {
			return fmt.Errorf("central: -secrets: %q is not id=secret", kv)
		}
		o.Secrets[id] = s
	}
	return central.Run(ctx, o, stdout)
}

func runTill(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("till", flag.ContinueOnError)
	o := tillproc.Options{Log: stderr}
	var people string
	fs.StringVar(&o.Central, "central", "", "the central's base URL")
	fs.StringVar(&o.Till, "id", "", "the till's id")
	fs.StringVar(&o.Secret, "secret", "", "the till's secret")
	fs.StringVar(&o.File, "file", "", "the till's SQLite file")
	fs.StringVar(&o.SeriesID, "series", offer.SeriesID, "the series to sell")
	fs.IntVar(&o.Sales, "sales", 100, "sale attempts in all, across restarts")
	fs.StringVar(&people, "customers", "1:300", "the customers who come to the till, by number, from:to")
	fs.Int64Var(&o.LeaseUses, "lease-uses", 15, "uses per lease")
	fs.DurationVar(&o.LeaseFor, "lease-for", 30*time.Second, "how long a lease lasts")
	fs.DurationVar(&o.Skew, "skew", time.Second, "the clock-skew allowance of leases")
	fs.DurationVar(&o.Deadline, "deadline", 300*time.Millisecond, "how long a sale waits for the central before it is decided offline")
	fs.IntVar(&o.Reverse, "reverse", 5, "the share of sales given back, in percent")
	fs.DurationVar(&o.SyncEvery, "sync", 100*time.Millisecond, "how often to sync while selling")
	fs.DurationVar(&o.Pace, "pace", 10*time.Millisecond, "pause between two sales")
	fs.DurationVar(&o.Finish, "finish", 20*time.Second, "how long to keep trying to sync at the end")
	fs.StringVar(&o.Acks, "acks", "", "file acknowledged sales are appended to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	from, to, ok := strings.Cut(people, ":")
	var err1, err2 error
	o.From, err1 = strconv.Atoi(from)
	o.To, err2 = strconv.Atoi(to)
	if !ok || err1 != nil || err2 != nil || o.From < 1 || o.To < o.From {
		return fmt.Errorf("till: -customers %q is not from:to", people)
	}
	if o.Central == "" || o.Till == "" || o.File == "" {
		return errors.New("till: -central, -id and -file are required")
	}
	sum, err := tillproc.Run(ctx, o)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, sum)
	return err
}

func runReport(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	spec := fs.String("store", "", "the central's store: sqlite:<file> or postgres:<dsn>")
	id := fs.String("series", offer.SeriesID, "the series to report on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, err := central.OpenStore(ctx, *spec)
	if err != nil {
		return err
	}
	defer st.Close()
	return report(ctx, stdout, st, *id)
}
