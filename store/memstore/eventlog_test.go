package memstore

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
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
				return strings.Repeat("x", eventChunkSize+rapid.IntRange(0, 100).Draw(t, label+"Extra"))
			}
			return rapid.String().Draw(t, label)
		}
		for i := range rapid.IntRange(1, 30).Draw(t, "events") {
			e := coupon.Event{
				ID: str("id"), Kind: coupon.EventKind(rapid.Uint8().Draw(t, "kind")), CouponID: str("coupon"),
				SeriesID: str("series"), Code: str("code"), Customer: str("customer"), Actor: str("actor"),
				Reason: str("reason"), Counterparty: str("counterparty"), RedemptionID: str("redemption"),
				OldCode: str("old"), NewCode: str("new"), NewCouponID: str("newCoupon"), Notify: rapid.Bool().Draw(t, "notify"),
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
	})
}
