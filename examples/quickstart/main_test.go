package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestQuickstart runs the whole demo on a fresh SQLite file and checks the
// story it tells: each step's outcome, not its formatting.
func TestQuickstart(t *testing.T) {
	var out bytes.Buffer
	start := time.Date(2026, time.November, 18, 12, 0, 0, 0, time.UTC)
	if err := run(context.Background(), &out, filepath.Join(t.TempDir(), "q.db"), start); err != nil {
		t.Fatalf("quickstart failed: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{
		"second coupon for ana refused:\n    1221 This customer has received the most coupons of this offer allowed (1).",
		"discount 12.96 EUR, coupon now redeemed", // 15% of 86.40, under the 20 EUR cap
		"replayed=true, same redemption=true",
		"ben refused:\n    1206 This coupon cannot be used on a Sunday; it can be used from 2026-11-23 00:00 CET.\n    1210 This coupon cannot be used here.\n    1211 The bill must be at least 40.00 EUR (it is 12.00 EUR).",
		"is issued again (reversed=true)",
		"revoked 1 of 1",
		"cleo refused:\n    1102 This coupon has been withdrawn",
		"series totals: issued 3, redemptions 0, remaining redemptions 1000",
		"ana's history: reversed by store-12 order returned",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("transcript lacks %q:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "expires 2026-12-03T00:00:00+01:00"); n != 3 {
		t.Errorf("each coupon issued on 18 Nov with 14 days must expire at the end of 2 Dec Berlin time, shown in the series' zone; %d did:\n%s", n, got)
	}
}
