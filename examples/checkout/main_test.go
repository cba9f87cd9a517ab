package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCheckout runs the whole demo on a fresh SQLite file and checks the
// story it tells: the exclusive coupon refused beside the others, the
// stacked discounts and their split per line, the budget, and the return.
func TestCheckout(t *testing.T) {
	var out bytes.Buffer
	start := time.Date(2026, time.November, 18, 12, 0, 0, 0, time.UTC)
	if err := run(context.Background(), &out, filepath.Join(t.TempDir(), "c.db"), start); err != nil {
		t.Fatalf("checkout failed: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{
		"SHOES20 refused: This coupon cannot be combined with coupon VIP on the same bill.",
		// 20% of the two runners (200 EUR) is 40, capped at 30; the boot is
		// on sale and the socks are no shoes.
		"SHOES20: 30.00 EUR off\n  line 1: 3000 of 20000 cents\n",
		// 5 EUR off what the first coupon left (170 + 60 + 15), split by
		// largest remainder: the parts sum to 500 cents.
		"FIVE: 5.00 EUR off\n  line 1: 347 of 17000 cents\n  line 2: 122 of 6000 cents\n  line 3: 31 of 1500 cents\n",
		"total discount 35.00 EUR",
		"SHOES20 budget given: 30.00 of 500.00 EUR",
		// One runner of two: half of each coupon's part on line 1.
		"return of one runner on SHOES20: 1500 cents of its discount back, 1500 cents to the budget, use back false",
		"return of one runner on FIVE: 173 cents of its discount back, 0 cents to the budget, use back false",
		"SHOES20 budget given: 15.00 of 500.00 EUR",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("transcript lacks %q:\n%s", want, got)
		}
	}
}
