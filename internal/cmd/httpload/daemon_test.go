package main

import (
	"context"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
)

// TestRunDaemon runs the program with -daemon and tiny sizes: couponkitd is
// built, started as a process of its own, timed as a third contender in
// every round, compared with the engine in-process, and stopped with
// SIGTERM, after which it exits with status 0.
func TestRunDaemon(t *testing.T) {
	dsn, ctx := postgresDSN(t)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute) // the first build may be slow
	defer cancel()
	var out strings.Builder
	if err := run(ctx, config{dsn: dsn, clients: 4, n: 20, rounds: 2, daemon: true}, &out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	t.Log(got)
	order := regexp.MustCompile(`round (\d)  (\S+)`).FindAllStringSubmatch(got, -1)
	want := [][2]string{{"1", "in-process"}, {"1", "http"}, {"1", "couponkitd"}, {"2", "http"}, {"2", "couponkitd"}, {"2", "in-process"}}
	if len(order) != len(want) {
		t.Fatalf("%d timed runs, want %d", len(order), len(want))
	}
	for i, m := range order {
		if m[1] != want[i][0] || m[2] != want[i][1] {
			t.Errorf("run %d: round %s %s, want round %s %s", i, m[1], m[2], want[i][0], want[i][1])
		}
	}
	for _, s := range []string{"couponkitd  median", "ratio couponkitd ÷ in-process (medians): ",
		"ratio couponkitd ÷ in-process per round: median ", "ratio http ÷ in-process (medians): ",
		"couponkitd stopped with SIGTERM: exit status 0\n"} {
		if !strings.Contains(got, s) {
			t.Errorf("output lacks %q", s)
		}
	}
}

// TestDaemonServes shows that each HTTP contender's redemptions are made by
// the server it names: those of the couponkitd contender carry the
// daemon's key as their actor, stored in the bench's own schema, and those
// of the in-process server its own key.
func TestDaemonServes(t *testing.T) {
	dsn, ctx := postgresDSN(t)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	b, err := open(ctx, config{dsn: dsn, clients: 2, daemon: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := b.close(); err != nil {
			t.Error(err)
		}
	}()
	for _, c := range []struct {
		redeem redeemer
		actor  string
	}{{b.overDaemon, daemonKeyName}, {b.overHTTP, "till"}} {
		if _, err := b.timed(ctx, c.redeem, 2, 3); err != nil {
			t.Fatal(err)
		}
		tag := "HL" + strconv.Itoa(b.seq) + "X"
		evs, err := b.e.CustomerHistory(ctx, couponkit.ByID(tag+"c0"), "")
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 1 || evs[0].Actor != c.actor {
			t.Errorf("events of %sc0: %+v, want one redemption by %s", tag, evs, c.actor)
		}
	}
	exit, err := b.stopDaemon()
	if err != nil || exit != "exit status 0" {
		t.Errorf("stopping couponkitd: %q, %v; want exit status 0", exit, err)
	}
}

// TestDaemonExits shows that a daemon which exits before it is ready is an
// error that says so, not a wait until the deadline.
func TestDaemonExits(t *testing.T) {
	bin, err := exec.LookPath("false") // exits at once, status 1
	if err != nil {
		t.Skip("no false command:", err)
	}
	start := time.Now()
	_, err = startDaemon(context.Background(), bin, "postgres://nowhere", tillSecret)
	if err == nil || !strings.Contains(err.Error(), "exited before it was ready") {
		t.Fatalf("startDaemon of a program that exits: %v", err)
	}
	if d := time.Since(start); d > readyWait/2 {
		t.Errorf("took %v to notice the exit", d)
	}
}
