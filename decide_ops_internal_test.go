package couponkit

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

func TestDecideIssue(t *testing.T) {
	issuance := func(r limits.IssuanceRules) *series.Series {
		s := decideSeries(series.Generated, limits.RedemptionRules{})
		s.Issuance.IssuanceRules = r
		s.Expiry = series.Expiry{Kind: series.DaysFromIssue, N: 0}
		return s
	}
	hourAgo := decideNow.Add(-time.Hour)
	for _, tc := range []struct {
		name string
		s    *series.Series
		snap issueSnapshot
		want []limits.Reason
	}{
		{"allowed", issuance(limits.IssuanceRules{MaxPerCustomer: 2, MaxTotal: 10}), issueSnapshot{series: store.Count{N: 9}, customer: store.Count{N: 1}}, nil},
		{"customer maximum", issuance(limits.IssuanceRules{MaxPerCustomer: 2}), issueSnapshot{customer: store.Count{N: 2}}, []limits.Reason{limits.CustomerIssueLimit}},
		{"series maximum", issuance(limits.IssuanceRules{MaxTotal: 10}), issueSnapshot{series: store.Count{N: 10}}, []limits.Reason{limits.SeriesIssueLimit}},
		{"inside the gap", issuance(limits.IssuanceRules{MinGap: 2 * time.Hour}), issueSnapshot{customer: store.Count{N: 1, Last: hourAgo}}, []limits.Reason{limits.IssueGap}},
		{"past the gap", issuance(limits.IssuanceRules{MinGap: time.Hour}), issueSnapshot{customer: store.Count{N: 1, Last: hourAgo}}, nil},
		{"not on the list", issuance(limits.IssuanceRules{AudienceOnly: true}), issueSnapshot{}, []limits.Reason{limits.NotInAudience}},
		{"on the list", issuance(limits.IssuanceRules{AudienceOnly: true}), issueSnapshot{inAudience: true}, nil},
		{"excluded by another series", issuance(limits.IssuanceRules{}), issueSnapshot{excludedUntil: decideNow.Add(24 * time.Hour)}, []limits.Reason{limits.ExcludedByHistory}},
		{"every broken rule", issuance(limits.IssuanceRules{MaxPerCustomer: 1, MaxTotal: 5, AudienceOnly: true}), issueSnapshot{series: store.Count{N: 5}, customer: store.Count{N: 1, Last: hourAgo}},
			[]limits.Reason{limits.CustomerIssueLimit, limits.SeriesIssueLimit, limits.NotInAudience}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := decideIssue(tc.s, &tc.snap, decideNow)
			var got []limits.Reason
			for r := range d.Reasons() {
				got = append(got, r)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("reasons %v, want %v", got, tc.want)
			}
			if d.Allowed() != (len(tc.want) == 0) {
				t.Errorf("Allowed() = %v", d.Allowed())
			}
			if !d.expires.Equal(time.Date(2026, 6, 11, 0, 0, 0, 0, time.UTC)) {
				t.Errorf("expires %v, want the end of the issue day", d.expires)
			}
			if !d.Allowed() {
				var r *refusal.Error
				if !errors.As(d.refused(), &r) || len(r.Refusals) != len(tc.want) {
					t.Errorf("refused() = %v, want one refusal per broken rule", d.refused())
				}
			}
		})
	}
}

func TestIssueChange(t *testing.T) {
	s := decideSeries(series.Generated, limits.RedemptionRules{})
	s.Issuance.MaxTotal = 10
	d := decideIssue(s, &issueSnapshot{series: store.Count{N: 2}}, decideNow)
	fresh := coupon.Coupon{ID: "c1", SeriesID: "s1", Code: "ABC123", Canonical: "ABC123", State: coupon.Available, CreatedAt: decideNow.Add(-time.Hour), LastStatusChange: decideNow.Add(-time.Hour), Version: 1}
	req := &IssueRequest{SeriesID: "s1", Customer: ByID("alice"), IdempotencyKey: "crm-7", Actor: "crm", Reason: "welcome"}
	for _, minted := range []bool{true, false} {
		t.Run(fmt.Sprintf("minted=%v", minted), func(t *testing.T) {
			ch, c, err := issueChange(s.ID, &d, fresh, minted, req, "alice", decideNow, &seqIDs{})
			if err != nil {
				t.Fatal(err)
			}
			if c.Holder != "alice" || c.State != coupon.Issued || c.IssueKey != "crm-7" {
				t.Errorf("issued %+v", c)
			}
			if minted != (len(ch.NewCoupons) == 1) || minted == (len(ch.Coupons) == 1) {
				t.Errorf("minted %v: %d inserts, %d updates", minted, len(ch.NewCoupons), len(ch.Coupons))
			}
			if !minted && ch.Coupons[0].ExpectVersion != 1 {
				t.Errorf("a pool coupon is updated from its version: %d", ch.Coupons[0].ExpectVersion)
			}
			if len(ch.Events) != 1 || ch.Events[0].ID != "id-1" || ch.Events[0].Reason != "welcome" || ch.Events[0].Kind != coupon.EventIssued {
				t.Errorf("events %+v", ch.Events)
			}
			if len(ch.Bumps) != 2 || ch.Bumps[0].Guard.Limit != 10 || ch.Bumps[1].Key.Customer != "alice" {
				t.Errorf("bumps %+v", ch.Bumps)
			}
		})
	}
}

func TestGiveBack(t *testing.T) {
	c := issuedTo("alice", 1, 0)
	r := coupon.Redemption{ID: "r2", CouponID: c.ID, SeriesID: "s1", Customer: "alice", Status: coupon.StatusRedeemed, At: decideNow.Add(-time.Hour),
		Bill: decimal.NewFromInt(40), Discount: decimal.NewFromInt(5), Currency: "EUR"}
	earlier := coupon.Redemption{ID: "r1", CouponID: "c-other", SeriesID: "s1", Customer: "alice", Status: coupon.StatusRedeemed, At: decideNow.Add(-5 * time.Hour)}
	reversedEarlier := coupon.Redemption{ID: "r0", SeriesID: "s1", Customer: "alice", Status: coupon.StatusReversed, At: decideNow.Add(-3 * time.Hour)}
	current := store.Count{N: 2, Last: r.At}
	g := giveBack{keys: useKeys("s1", c.Canonical, store.Slot(&c), "alice"), current: current, uses: []coupon.Redemption{earlier, reversedEarlier, r}}

	w, err := reverseWrite(&r, &c, decideNow, "back office", "refund")
	if err != nil {
		t.Fatal(err)
	}
	w.bumps = giveBackBumps(&g, &r, decideNow)
	if w.c.Redemptions != 0 || !w.c.Reversed || w.r.Status != coupon.StatusReversed || w.expect != coupon.StatusRedeemed || w.version != c.Version {
		t.Errorf("reversal: coupon %+v, redemption %v, expects %v from version %d", w.c, w.r.Status, w.expect, w.version)
	}
	if len(w.bumps) != 4 {
		t.Fatalf("%d bumps, want one per use counter", len(w.bumps))
	}
	for i, b := range w.bumps {
		if b.Key != g.keys[i] || b.Delta != -1 {
			t.Errorf("bump %d = %+v, want -1 on %v", i, b, g.keys[i])
		}
		if rewound := b.Rewind != nil; rewound != (b.Key.Counter == limits.CustomerSeriesUses) {
			t.Errorf("bump %d on %v rewinds: %v", i, b.Key.Counter, rewound)
		}
	}
	rw := w.bumps[3].Rewind
	if rw.Expect != current || !rw.Last.Equal(earlier.At) {
		t.Errorf("rewind %+v, want to expect %+v and go back to the earlier use at %v", rw, current, earlier.At)
	}
	ch := w.change(&seqIDs{})
	if len(ch.Coupons) != 1 || len(ch.Redemptions) != 1 || ch.Redemptions[0].ExpectStatus != coupon.StatusRedeemed || ch.Events[0].ID != "id-1" || ch.Events[0].Reason != "refund" {
		t.Errorf("change %+v", ch)
	}
	if res := w.result(time.UTC); !res.Discount.Amount.Equal(decimal.NewFromInt(5)) || res.Discount.Currency != "EUR" {
		t.Errorf("result discount %v", res.Discount)
	}

	// Again: the redemption was reversed already.
	if _, err := reverseWrite(&w.r, &w.c, decideNow, "", ""); !errors.Is(err, errcode.ErrAlreadyReversed) {
		t.Errorf("second reversal: %v, want ErrAlreadyReversed", err)
	}
}

func TestDecideConfirmAndRelease(t *testing.T) {
	s := decideSeries(series.Generated, limits.RedemptionRules{})
	c := issuedTo("alice", 0, 1)
	live := coupon.Redemption{ID: "h1", CouponID: c.ID, SeriesID: "s1", Customer: "alice", Status: coupon.StatusHeld, At: decideNow.Add(-time.Minute), HoldExpiresAt: decideNow.Add(time.Minute)}
	lapsed := live
	lapsed.HoldExpiresAt = decideNow.Add(-time.Second)
	released := live
	released.Status, released.ReleasedAt = coupon.StatusReleased, decideNow.Add(-30*time.Second)
	confirmed := live
	confirmed.Status = coupon.StatusRedeemed
	redemption := live
	redemption.HoldExpiresAt = time.Time{}

	p, err := decideConfirm(&live, &c, s, decideNow, "till")
	if err != nil || p.replay || p.lapsed || p.w.c.State != coupon.Redeemed || p.w.r.Status != coupon.StatusRedeemed || p.w.expect != coupon.StatusHeld {
		t.Errorf("live hold: %+v, %v", p, err)
	}
	if p, err := decideConfirm(&confirmed, &c, s, decideNow, ""); err != nil || !p.replay {
		t.Errorf("confirmed hold: replay %v, %v", p.replay, err)
	}
	if p, err := decideConfirm(&lapsed, &c, s, decideNow, ""); !p.lapsed || !errors.Is(err, errcode.ErrHoldExpired) {
		t.Errorf("lapsed hold: lapsed %v, %v", p.lapsed, err)
	}
	if _, err := decideConfirm(&released, &c, s, decideNow, ""); !errors.Is(err, errcode.ErrHoldReleased) {
		t.Errorf("released hold: %v", err)
	}
	if _, err := decideConfirm(&redemption, &c, s, decideNow, ""); !errors.Is(err, errcode.ErrRedemptionNotFound) {
		t.Errorf("a redemption: %v", err)
	}

	for _, tc := range []struct {
		name string
		r    coupon.Redemption
		done bool
		code errcode.Code
	}{
		{"live", live, false, 0},
		{"lapsed, not cleaned up", lapsed, false, 0},
		{"released already", released, true, 0},
		{"confirmed", confirmed, false, errcode.InvalidTransition},
		{"a redemption", redemption, false, errcode.RedemptionNotFound},
	} {
		done, err := decideRelease(&tc.r)
		if done != tc.done || errcode.CodeOf(err) != tc.code {
			t.Errorf("release %s: done %v err %v", tc.name, done, err)
		}
	}
	w, err := releaseWrite(&live, &c, decideNow, "", "released")
	if err != nil || w.c.Holds != 0 || w.r.Status != coupon.StatusReleased {
		t.Errorf("releaseWrite: %+v, %v", w, err)
	}
	stale := c
	stale.Holds = 0
	if _, err := releaseWrite(&live, &stale, decideNow, "", ""); !errors.Is(err, errcode.ErrConflict) {
		t.Errorf("a hold its coupon no longer counts: %v, want a conflict", err)
	}
}

func TestDecideTransfer(t *testing.T) {
	loc := time.UTC
	req := &TransferRequest{Code: "ABC123", From: ByID("alice"), To: ByID("bob"), Actor: "desk", Reason: "gift"}
	t.Run("moves the coupon with both customers' events", func(t *testing.T) {
		c := issuedTo("alice", 0, 0)
		ch, moved, err := decideTransfer(&c, decideSeries(series.Generated, limits.RedemptionRules{}), "alice", "bob", decideNow, loc, req, &seqIDs{})
		if err != nil {
			t.Fatal(err)
		}
		if moved.Holder != "bob" || len(ch.Coupons) != 1 || ch.Coupons[0].ExpectVersion != c.Version {
			t.Errorf("moved %+v, change %+v", moved, ch.Coupons)
		}
		if len(ch.Events) != 2 || ch.Events[0].Kind != coupon.EventTransferredOut || ch.Events[0].Customer != "alice" ||
			ch.Events[1].Kind != coupon.EventTransferReceived || ch.Events[1].Customer != "bob" ||
			ch.Events[0].ID != "id-1" || ch.Events[1].ID != "id-2" || ch.Events[1].Reason != "gift" {
			t.Errorf("events %+v", ch.Events)
		}
	})
	for _, tc := range []struct {
		name string
		from string
		edit func(*series.Series, *coupon.Coupon)
		code errcode.Code
	}{
		{"not the holder's: as an unknown code", "carol", func(*series.Series, *coupon.Coupon) {}, errcode.CouponNotFound},
		{"series ended", "alice", func(s *series.Series, _ *coupon.Coupon) { s.Status = series.Ended }, errcode.SeriesExpired},
		{"series does not allow it", "alice", func(s *series.Series, _ *coupon.Coupon) { s.Transferable = false }, errcode.TransferNotAllowed},
		{"used up", "alice", func(_ *series.Series, c *coupon.Coupon) { c.State, c.Redemptions = coupon.Redeemed, 1 }, errcode.Redeemed},
		{"held", "alice", func(_ *series.Series, c *coupon.Coupon) { c.Holds = 1 }, errcode.InvalidTransition},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := decideSeries(series.Generated, limits.RedemptionRules{})
			c := issuedTo("alice", 0, 0)
			tc.edit(s, &c)
			_, _, err := decideTransfer(&c, s, tc.from, "bob", decideNow, loc, req, &seqIDs{})
			if got := errcode.CodeOf(err); got != tc.code {
				var r *refusal.Error
				if !errors.As(err, &r) || !r.Has(tc.code) {
					t.Errorf("err = %v, want %v", err, tc.code)
				}
			}
		})
	}
}
