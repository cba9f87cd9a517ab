package main

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
)

// TestRun runs the program with tiny sizes on the PostgreSQL of
// COUPONKIT_TEST_POSTGRES: every round times both contenders, alternating,
// and the summary names both medians and their ratio.
func TestRun(t *testing.T) {
	dsn, ctx := postgresDSN(t)
	var out strings.Builder
	if err := run(ctx, config{dsn: dsn, clients: 4, n: 20, rounds: 2}, &out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	t.Log(got)
	order := regexp.MustCompile(`round (\d)  (\S+)`).FindAllStringSubmatch(got, -1)
	want := [][2]string{{"1", "in-process"}, {"1", "http"}, {"2", "http"}, {"2", "in-process"}}
	if len(order) != len(want) {
		t.Fatalf("%d timed runs, want %d", len(order), len(want))
	}
	for i, m := range order {
		if m[1] != want[i][0] || m[2] != want[i][1] {
			t.Errorf("run %d: round %s %s, want round %s %s", i, m[1], m[2], want[i][0], want[i][1])
		}
	}
	for _, s := range []string{"in-process  median", "http        median", "ratio http ÷ in-process (medians): ", "ratio http ÷ in-process per round: median "} {
		if !strings.Contains(got, s) {
			t.Errorf("output lacks %q", s)
		}
	}
}

// TestOverHTTPFails shows the HTTP contender reports a redemption the
// service refuses: a second run over the same codes would be refused, so a
// coupon redeemed twice with another key must be an error.
func TestOverHTTPFails(t *testing.T) {
	dsn, ctx := postgresDSN(t)
	b, err := open(ctx, config{dsn: dsn, clients: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := b.close(); err != nil {
			t.Error(err)
		}
	}()
	for name, fn := range map[string]redeemer{"in-process": b.inProcess, "http": b.overHTTP} {
		calls := 0
		twice := func(ctx context.Context, req couponkit.RedeemRequest) error {
			calls++
			if err := fn(ctx, req); err != nil {
				return err
			}
			req.IdempotencyKey = "other"
			return fn(ctx, req)
		}
		if _, err := b.timed(ctx, twice, 1, 2); err == nil {
			t.Errorf("%s: a coupon redeemed twice was not an error", name)
		}
		if calls != 1 {
			t.Errorf("%s: %d calls after the failure, want 1", name, calls)
		}
	}
}

// postgresDSN is COUPONKIT_TEST_POSTGRES, and a context bounding the test;
// the test is skipped without it.
func postgresDSN(t *testing.T) (string, context.Context) {
	t.Helper()
	dsn := os.Getenv("COUPONKIT_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("COUPONKIT_TEST_POSTGRES is not set: no PostgreSQL to measure on")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return dsn, ctx
}
