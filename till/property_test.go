package till_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/till"
)

// TestPropertyJournalModel runs random offline uses, reversals and feed
// events against a model of the journal's counts: each use is allowed
// exactly when the code's uses (the central's from the feed and the
// till's own, less those given back) are under the code level, the lease
// has a use left, and the use is verified (the feed told the code issued)
// or the lease's allowance has an unverified use left; a refused use is
// refused for that reason. A reversal never gives a use back to the lease
// or its allowance.
func TestPropertyJournalModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		ctx := context.Background()
		db, err := sql.Open("sqlite", ":memory:")
		if err != nil {
			rt.Fatal(err)
		}
		defer db.Close()
		db.SetMaxOpenConns(1)
		j, err := till.Open(ctx, db, skew, till.WithTill("till-1"))
		if err != nil {
			rt.Fatal(err)
		}
		s := permissive()
		level := rapid.Int64Range(1, 3).Draw(rt, "code level")
		s.Redemption.MaxPerCode = limits.Limit(level)
		granted := rapid.Int64Range(1, 8).Draw(rt, "granted")
		allowance := rapid.Int64Range(0, granted).Draw(rt, "allowance")
		if err := j.PutSeries(ctx, s); err != nil {
			rt.Fatal(err)
		}
		l, err := lease.New(lease.Params{ID: "l1", Till: "till-1", SeriesID: "s1", Slice: lease.Slice{Uses: granted}, End: t0.Add(time.Hour)}, t0)
		if err != nil {
			rt.Fatal(err)
		}
		l.Allowance = allowance
		if err := j.PutLease(ctx, l); err != nil {
			rt.Fatal(err)
		}
		codes := []string{"A", "B", "C"}
		central, own, issued := map[string]int64{}, map[string]int64{}, map[string]bool{}
		var used, unverified int64
		var standing []string // keys of uses not given back
		codeOf := map[string]string{}
		pos := uint64(0)
		for i := range rapid.IntRange(1, 30).Draw(rt, "ops") {
			switch op := rapid.IntRange(0, 3).Draw(rt, "op"); {
			case op == 0 && len(standing) > 0:
				k := rapid.IntRange(0, len(standing)-1).Draw(rt, "reversed")
				key := standing[k]
				if _, err := j.Reverse(ctx, till.Reversal{Key: fmt.Sprint("r", i), Reverses: key, At: t0}, nil); err != nil {
					rt.Fatalf("reverse %s: %v", key, err)
				}
				standing = append(standing[:k], standing[k+1:]...)
				own[codeOf[key]]--
			case op == 1:
				code := rapid.SampledFrom(codes).Draw(rt, "fed code")
				kind := rapid.SampledFrom([]coupon.EventKind{coupon.EventIssued, coupon.EventRedeemed}).Draw(rt, "fed kind")
				pos++
				if err := j.ApplyFeed(ctx, page(pos, ev(pos, kind, code, "x"))); err != nil {
					rt.Fatal(err)
				}
				if kind == coupon.EventIssued {
					issued[code] = true
				} else {
					central[code]++
				}
			default:
				code := rapid.SampledFrom(codes).Draw(rt, "code")
				key := fmt.Sprint("u", i)
				_, err := j.Redeem(ctx, sale{code, "x", t0, ""}.use(key), nil)
				var re *refusal.Error
				switch {
				case central[code]+own[code] >= level:
					if !errors.As(err, &re) {
						rt.Fatalf("use %d of %s past the level: %v", i, code, err)
					}
				case used >= granted:
					if !errors.Is(err, errcode.ErrNoLease) {
						rt.Fatalf("use %d past the lease: %v", i, err)
					}
				case !issued[code] && unverified >= allowance:
					if !errors.Is(err, errcode.ErrAllowanceExceeded) {
						rt.Fatalf("use %d past the allowance: %v", i, err)
					}
				default:
					if err != nil {
						rt.Fatalf("use %d of %s refused: %v", i, code, err)
					}
					used++
					own[code]++
					if !issued[code] {
						unverified++
					}
					standing = append(standing, key)
					codeOf[key] = code
				}
			}
		}
		ls, err := j.Leases(ctx)
		if err != nil || len(ls) != 1 || ls[0].Used != used || ls[0].Unverified != unverified || ls[0].Unverified > ls[0].Allowance {
			rt.Fatalf("lease %+v, %v; want %d used, %d unverified", ls, err, used, unverified)
		}
	})
}
