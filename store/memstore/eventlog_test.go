package memstore

import (
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/shopspring/decimal"
	"pgregory.net/rapid"

	"github.com/couponkit/couponkit/coupon"
)

// Every field of an event comes back from the log as it went in: strings
// of any bytes and length (also longer than a chunk), times in any zone or
// zero (as the same instant, which is what go-cmp compares), and the chains
// of previous positions.
func TestEventLogRoundTrip(t *testing.T) {
	zones := []*time.Location{time.UTC, time.FixedZone("odd", 5*3600+30*60+17), time.FixedZone("west", -9*3600)}
	if ny, err := time.LoadLocation("America/New_York"); err == nil {
		zones = append(zones, ny)
	}
	rapid.Check(t, func(t *rapid.T) {
		var l eventLog
		var want []coupon.Event
		var pos []evPos
		var prevs [][2]evPos
		str := func(label string) string {
			if rapid.IntRange(0, 20).Draw(t, label+"Long") == 0 {
				return strings.Repeat("x", logChunkSize+rapid.IntRange(0, 100).Draw(t, label+"Extra"))
			}
			return rapid.String().Draw(t, label)
		}
		for i := range rapid.IntRange(1, 30).Draw(t, "events") {
			e := coupon.Event{
				ID: str("id"), Kind: coupon.EventKind(rapid.Uint8().Draw(t, "kind")), CouponID: str("coupon"),
				SeriesID: str("series"), Code: str("code"), Customer: str("customer"), Actor: str("actor"),
				Reason: str("reason"), Counterparty: str("counterparty"), RedemptionID: str("redemption"),
				OldCode: str("old"), NewCode: str("new"), NewCouponID: str("newCoupon"), Notify: rapid.Bool().Draw(t, "notify"),
				Remaining: rapid.Int64().Draw(t, "remaining"), Channel: str("channel"),
				Returned: rapid.Int64().Draw(t, "returned"), BudgetBack: rapid.Int64().Draw(t, "budgetBack"), UseBack: rapid.Bool().Draw(t, "useBack"),
			}
			if rapid.IntRange(0, 5).Draw(t, "zeroTime") > 0 {
				e.At = time.Unix(rapid.Int64Range(-1e10, 1e10).Draw(t, "sec"), rapid.Int64Range(0, 1e9-1).Draw(t, "nsec")).
					In(rapid.SampledFrom(zones).Draw(t, "zone"))
			}
			var pc, pu evPos
			if i > 0 {
				pc = pos[rapid.IntRange(0, i-1).Draw(t, "prevCoupon")]
				pu = pos[rapid.IntRange(0, i-1).Draw(t, "prevCustomer")]
			}
			pos = append(pos, l.append(&e, pc, pu))
			want = append(want, e)
			prevs = append(prevs, [2]evPos{pc, pu})
		}
		var got []coupon.Event
		l.all(func(e *coupon.Event) bool { got = append(got, *e); return true })
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("the log read back (-appended +read):\n%s", diff)
		}
		for i, p := range pos {
			e, _ := l.decode(p)
			if !cmp.Equal(e, want[i]) {
				t.Fatalf("event %d at %d reads back as %+v", i, p, e)
			}
			if c, u := l.prevs(p); c != prevs[i][0] || u != prevs[i][1] {
				t.Fatalf("event %d: previous positions %d, %d; want %v", i, c, u, prevs[i])
			}
		}
		// The feed reads any stretch of the log by the events' numbers,
		// across chunks and past events longer than a chunk.
		if l.n != uint64(len(want)) {
			t.Fatalf("the log numbers %d events; %d were appended", l.n, len(want))
		}
		from := rapid.IntRange(0, len(want)).Draw(t, "from")
		end := rapid.IntRange(from, len(want)).Draw(t, "end")
		var stretch []coupon.Event
		l.from(uint64(from), uint64(end), func(e *coupon.Event) bool { stretch = append(stretch, *e); return true })
		if diff := cmp.Diff(want[from:end], stretch, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("events %d to %d read by number (-appended +read):\n%s", from, end, diff)
		}
	})
}

// Every field of a redemption comes back from the table as it went in,
// after an insert and after an update: decimals with their exact
// coefficient and exponent (also past 18 digits), times in any zone or
// zero, and the id, key and coupon read without decoding.
func TestRedTableRoundTrip(t *testing.T) {
	zones := []*time.Location{time.UTC, time.FixedZone("odd", 5*3600+30*60), time.FixedZone("west", -9*3600)}
	rapid.Check(t, func(t *rapid.T) {
		tab := newRedTable()
		genDec := func(label string) decimal.Decimal {
			if rapid.IntRange(0, 5).Draw(t, label+"Big") == 0 {
				c, _ := new(big.Int).SetString(rapid.StringMatching(`[1-9][0-9]{18,40}`).Draw(t, label+"Digits"), 10)
				return decimal.NewFromBigInt(c, rapid.Int32Range(-30, 30).Draw(t, label+"Exp"))
			}
			return decimal.New(rapid.Int64().Draw(t, label+"Coef"), rapid.Int32Range(-30, 30).Draw(t, label+"Exp"))
		}
		genTime := func(label string) time.Time {
			if rapid.Bool().Draw(t, label+"Zero") {
				return time.Time{}
			}
			return time.Unix(rapid.Int64Range(-1e10, 1e10).Draw(t, label+"Sec"), rapid.Int64Range(0, 1e9-1).Draw(t, label+"Nsec")).
				In(rapid.SampledFrom(zones).Draw(t, label+"Zone"))
		}
		gen := func(id string) coupon.Redemption {
			return coupon.Redemption{
				ID: id, CouponID: rapid.String().Draw(t, "coupon"), SeriesID: rapid.String().Draw(t, "series"),
				Customer: rapid.String().Draw(t, "customer"), IdempotencyKey: rapid.String().Draw(t, "key"),
				Status: coupon.RedemptionStatus(rapid.IntRange(1, 4).Draw(t, "status")),
				At:     genTime("at"), HoldExpiresAt: genTime("hold"), ConfirmedAt: genTime("confirmed"),
				ReleasedAt: genTime("released"), ReversedAt: genTime("reversed"),
				Location: coupon.Location{Till: rapid.String().Draw(t, "till"), Store: rapid.String().Draw(t, "store"),
					Zone: rapid.String().Draw(t, "zone"), Concept: rapid.String().Draw(t, "concept")},
				Bill: genDec("bill"), Discount: genDec("discount"), Currency: rapid.String().Draw(t, "currency"),
			}
		}
		same := func(got, want coupon.Redemption) {
			if !cmp.Equal(got, want) {
				t.Fatalf("read back (-stored +read):\n%s", cmp.Diff(want, got))
			}
			for _, d := range [][2]decimal.Decimal{{got.Bill, want.Bill}, {got.Discount, want.Discount}} {
				if d[0].Exponent() != d[1].Exponent() || d[0].Coefficient().Cmp(d[1].Coefficient()) != 0 {
					t.Fatalf("decimal %v (exp %d) read back as %v (exp %d)", d[1], d[1].Exponent(), d[0], d[0].Exponent())
				}
			}
		}
		var want []coupon.Redemption
		for i := range rapid.IntRange(1, 20).Draw(t, "redemptions") {
			r := gen(fmt.Sprintf("r%d", i))
			if num := tab.add(&r); num != i {
				t.Fatalf("number %d, want %d", num, i)
			}
			want = append(want, r)
			if rapid.Bool().Draw(t, "update") {
				j := rapid.IntRange(0, i).Draw(t, "which")
				u := gen(want[j].ID)
				tab.update(j, &u)
				want[j] = u
			}
		}
		for i, r := range want {
			same(tab.decode(i), r)
			if num, ok := tab.get(r.ID); !ok || num != i {
				t.Fatalf("get(%s) = %d, %v", r.ID, num, ok)
			}
			if !tab.keyIs(i, r.IdempotencyKey) || string(tab.field(i, fieldCoupon)) != r.CouponID || tab.status(i) != r.Status {
				t.Fatalf("redemption %d: key, coupon or status read without decoding differ", i)
			}
		}
	})
}
