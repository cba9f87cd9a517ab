package main

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

var start = time.Date(2026, time.November, 18, 12, 0, 0, 0, time.UTC)

// TestPOS runs the demo on a fresh SQLite file and checks that the sale sent
// before the crash and resent after the restart redeemed the coupon once.
func TestPOS(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, filepath.Join(t.TempDir(), "till.db"), start); err != nil {
		t.Fatalf("pos failed: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{
		"sale 1 sent as till-7-1",
		"discount 5.2 EUR", // 10% of 52.00
		"till-7 restarted: sale 1 in flight=true, resending as till-7-1",
		"resent: replayed=true, same redemption=true",
		"is redeemed: 1 redemption record(s), redeemed 1 time(s); series uses 1",
		"next sale 2 as till-7-2", // numbering goes on after the restart
		"discount 3 EUR, replayed=false",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("transcript lacks %q:\n%s", want, got)
		}
	}
}

// TestPOSDurable reopens the demo's file in a fresh *sql.DB, apart from any
// engine, and reads what the restart left: one redemption with the sale's
// key on ana's coupon, which was used once, and the till's last sale
// (ben's, number 2) recorded as done.
func TestPOSDurable(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "till.db")
	var out bytes.Buffer
	if err := run(ctx, &out, path, start); err != nil {
		t.Fatalf("pos failed: %v\n%s", err, out.String())
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var reds, keyed, uses, sale, done int
	for _, q := range []struct {
		sql string
		to  *int
	}{
		{"SELECT count(*) FROM ck_redemptions r JOIN ck_coupons c ON c.id = r.coupon_id WHERE c.holder = 'ana'", &reds},
		{"SELECT count(*) FROM ck_redemptions WHERE idempotency_key = 'till-7-1'", &keyed},
		{"SELECT redemptions FROM ck_coupons WHERE holder = 'ana'", &uses},
		{"SELECT sale FROM pos_till WHERE till = 'till-7'", &sale},
		{"SELECT done FROM pos_till WHERE till = 'till-7'", &done},
	} {
		if err := db.QueryRowContext(ctx, q.sql).Scan(q.to); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	if reds != 1 || keyed != 1 || uses != 1 {
		t.Errorf("after the restart: ana's coupon has %d redemptions, %d with key till-7-1, used %d times; want 1, 1, 1", reds, keyed, uses)
	}
	if sale != 2 || done != 1 {
		t.Errorf("till state: sale %d done %d; want sale 2 done 1", sale, done)
	}
}

// TestTillNumbersSurviveRestart checks that a restarted till continues its
// sale numbers (so a new sale never reuses an old key) and refuses to
// resend when no sale is in flight.
func TestTillNumbersSurviveRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "till.db")
	now := start
	db, eng, err := open(ctx, path, &now)
	if err != nil {
		t.Fatal(err)
	}
	tl, err := openTill(ctx, eng, db, "till-2")
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := tl.begin(ctx, "X", "ana", decimal.NewFromInt(10)); err != nil {
			t.Fatal(err)
		}
		if err := tl.finish(ctx); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	db, eng, err = open(ctx, path, &now)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if tl, err = openTill(ctx, eng, db, "till-2"); err != nil {
		t.Fatal(err)
	}
	if tl.last.n != 3 || !tl.last.done {
		t.Fatalf("restarted till at sale %d done=%v; want 3 done", tl.last.n, tl.last.done)
	}
	if _, err := tl.resume(ctx); err == nil {
		t.Error("resume with no sale in flight succeeded")
	}
	if err := tl.begin(ctx, "X", "ana", decimal.NewFromInt(10)); err != nil {
		t.Fatal(err)
	}
	if k := tl.key(tl.last.n); k != "till-2-4" {
		t.Errorf("next key %q, want till-2-4", k)
	}
}
