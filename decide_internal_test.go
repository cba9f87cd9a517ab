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

// The pure decisions of the engine, over literal snapshots: no store.

// seqIDs is an idSource that hands out "id-1", "id-2", ... in order.
type seqIDs struct{ n int }

func (s *seqIDs) nextID() string { s.n++; return fmt.Sprintf("id-%d", s.n) }

func (s *seqIDs) idPair() (string, string) { return s.nextID(), s.nextID() }

var decideNow = time.Date(2026, 6, 10, 12, 0, 0, 0, time.UTC)

// decideSeries is an active series in UTC taking 5 EUR off, of the given
// source kind and redemption rules.
func decideSeries(kind series.SourceKind, r limits.RedemptionRules) *series.Series {
	return &series.Series{
		ID: "s1", Status: series.Active, TimeZone: "UTC",
		Source:       series.Source{Kind: kind, Code: "SHARED"},
		Redemption:   r,
		Discount:     series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(5), Currency: "EUR"},
		Transferable: true,
	}
}

// issuedTo is a coupon of series s1 issued to holder a day before
// decideNow, with its code's redemptions and holds.
func issuedTo(holder string, redemptions, holds int) coupon.Coupon {
	day := decideNow.Add(-24 * time.Hour)
	return coupon.Coupon{
		ID: "c-" + holder, SeriesID: "s1", Code: "ABC123", Canonical: "ABC123",
		State: coupon.Issued, Holder: holder, CreatedAt: day, IssuedAt: day,
		LastStatusChange: day, Redemptions: redemptions, Holds: holds, Version: 3,
	}
}

// useSnap is the snapshot of a use of c by alice in s with the given
// counters (code, customer code, series, customer series).
func useSnap(s *series.Series, c coupon.Coupon, insert bool, counts [4]store.Count) *useSnapshot {
	keys := useKeys(s.ID, c.Canonical, store.Slot(&c), "alice")
	return &useSnapshot{s: s, loc: time.UTC, c: c, insert: insert, customer: Customer{ID: "alice"}, keys: &keys, counts: &counts}
}

func bill(amount int64) RedeemRequest {
	return RedeemRequest{Code: "ABC123", Customer: ByID("alice"), IdempotencyKey: "pos-1",
		Bill: series.Money{Amount: decimal.NewFromInt(amount), Currency: "EUR"}, Place: limits.Place{Till: "t1"}}
}

func TestDecideUseAllowedAndItsChange(t *testing.T) {
	s := decideSeries(series.Generated, limits.RedemptionRules{MaxPerSeries: 10})
	snap := useSnap(s, issuedTo("alice", 0, 0), false, [4]store.Count{2: {N: 3}})
	req := bill(40)
	var p useplan
	if err := decideUse(&p, snap, &req, decideNow); err != nil {
		t.Fatal(err)
	}
	if !p.allowed() {
		t.Fatalf("not allowed: state %v, decision %v", p.state, p.d)
	}
	if !p.discount.Amount.Equal(decimal.NewFromInt(5)) || p.discount.Currency != "EUR" {
		t.Errorf("discount = %v, want 5 EUR", p.discount)
	}
	if p.capacity != 1 || p.rc.Series != 3 {
		t.Errorf("capacity %d, series count %d; want 1 and 3", p.capacity, p.rc.Series)
	}
	var b changeBuf
	ids := &seqIDs{}
	c, r, err := useChange(&b, &p, &req, 0, decideNow, ids)
	if err != nil {
		t.Fatal(err)
	}
	ch := &b.ch
	if r.ID != "id-1" || ch.Events[0].ID != "id-2" || r.Customer != "alice" || r.IdempotencyKey != "pos-1" || r.Location.Till != "t1" {
		t.Errorf("redemption %+v, event id %q", r, ch.Events[0].ID)
	}
	if c.State != coupon.Redeemed || c.Redemptions != 1 {
		t.Errorf("coupon after: %v with %d redemptions, want redeemed with 1", c.State, c.Redemptions)
	}
	if len(ch.NewCoupons) != 0 || len(ch.Coupons) != 1 || ch.Coupons[0].ExpectVersion != 3 || len(ch.NewRedemptions) != 1 || len(ch.Events) != 1 {
		t.Errorf("change: %d new coupons, %d updates, %d redemptions, %d events", len(ch.NewCoupons), len(ch.Coupons), len(ch.NewRedemptions), len(ch.Events))
	}
	if len(ch.Bumps) != 4 {
		t.Fatalf("%d bumps, want one per use counter", len(ch.Bumps))
	}
	for i, bp := range ch.Bumps {
		if bp.Key != p.keys[i] || bp.Delta != 1 || bp.Guard != p.d.Guards()[i] {
			t.Errorf("bump %d = %+v, want +1 on %v under the decision's guard", i, bp, p.keys[i])
		}
	}
	// A hold reserves the use instead.
	var hb changeBuf
	c, r, err = useChange(&hb, &p, &req, time.Minute, decideNow, ids)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != coupon.StatusHeld || !r.HoldExpiresAt.Equal(decideNow.Add(time.Minute)) || c.Holds != 1 || c.State != coupon.Issued {
		t.Errorf("hold: %v until %v, coupon %v with %d holds", r.Status, r.HoldExpiresAt, c.State, c.Holds)
	}
}

// codesOf returns the refusal codes the plan explains, heldUntil zero.
func codesOf(p *useplan) []errcode.Code {
	e := &refusal.Error{Refusals: p.refusals(time.Time{})}
	return e.Codes()
}

func TestDecideUseRefusals(t *testing.T) {
	yesterday := decideNow.Add(-24 * time.Hour)
	revoked := issuedTo("alice", 0, 0)
	revoked.State, revoked.LastStatusChange = coupon.Revoked, yesterday
	expired := issuedTo("alice", 0, 0)
	expired.ExpiresAt = yesterday
	minBill := limits.RedemptionRules{MinBill: decimal.NewNullDecimal(decimal.NewFromInt(50))}
	gap := limits.RedemptionRules{Repeat: true, MinGap: 48 * time.Hour}
	for _, tc := range []struct {
		name   string
		rules  limits.RedemptionRules
		c      coupon.Coupon
		counts [4]store.Count
		state  errcode.Code // the coupon's own refusal; 0: none
		want   []errcode.Code
	}{
		{"revoked", limits.RedemptionRules{}, revoked, [4]store.Count{}, errcode.Revoked, []errcode.Code{errcode.Revoked}},
		{"expired", limits.RedemptionRules{}, expired, [4]store.Count{}, errcode.Expired, []errcode.Code{errcode.Expired}},
		{"used up", limits.RedemptionRules{}, issuedTo("alice", 1, 0), [4]store.Count{{N: 1}, {N: 1}, {N: 1}, {N: 1}}, errcode.Redeemed, []errcode.Code{errcode.Redeemed}},
		{"held elsewhere", limits.RedemptionRules{}, issuedTo("alice", 0, 1), [4]store.Count{{N: 1}, {N: 1}, {N: 1}, {N: 1}}, errcode.LimitReached, []errcode.Code{errcode.HeldElsewhere}},
		{"series level reached", limits.RedemptionRules{MaxPerSeries: 3}, issuedTo("alice", 0, 0), [4]store.Count{2: {N: 3}}, 0, []errcode.Code{refusalCode(limits.SeriesLimit)}},
		{"bill below the minimum", minBill, issuedTo("alice", 0, 0), [4]store.Count{}, 0, []errcode.Code{refusalCode(limits.BillBelowMin)}},
		{"inside the redemption gap", gap, issuedTo("alice", 1, 0), [4]store.Count{{N: 1}, {N: 1}, {N: 1}, {N: 1, Last: decideNow.Add(-time.Hour)}}, 0, []errcode.Code{refusalCode(limits.RedemptionGap)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := decideSeries(series.Generated, tc.rules)
			req := bill(40)
			var p useplan
			if err := decideUse(&p, useSnap(s, tc.c, false, tc.counts), &req, decideNow); err != nil {
				t.Fatal(err)
			}
			if p.allowed() {
				t.Fatal("allowed")
			}
			if got := errcode.CodeOf(p.state); got != tc.state {
				t.Errorf("coupon state refusal %v, want %v", got, tc.state)
			}
			if got := codesOf(&p); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("refusals %v, want %v", got, tc.want)
			}
		})
	}
}

// refusalCode is the code a refusal of rule r carries.
func refusalCode(r limits.Reason) errcode.Code { return r.Code() }

func TestSelectUse(t *testing.T) {
	alice := issuedTo("alice", 0, 0)
	t.Run("the holder's unique code", func(t *testing.T) {
		s := decideSeries(series.Generated, limits.RedemptionRules{})
		c, insert, err := selectUse(s, []coupon.Coupon{alice}, "abc123", "alice", decideNow)
		if err != nil || insert || c.ID != alice.ID {
			t.Errorf("got %q insert %v err %v", c.ID, insert, err)
		}
	})
	t.Run("not the holder's: as an unknown code", func(t *testing.T) {
		s := decideSeries(series.Generated, limits.RedemptionRules{})
		_, _, err := selectUse(s, []coupon.Coupon{alice}, "abc123", "bob", decideNow)
		if !errors.Is(err, errcode.ErrCouponNotFound) {
			t.Errorf("err = %v, want ErrCouponNotFound", err)
		}
	})
	t.Run("paused series", func(t *testing.T) {
		s := decideSeries(series.Generated, limits.RedemptionRules{})
		s.Status = series.Paused
		_, _, err := selectUse(s, []coupon.Coupon{alice}, "abc123", "alice", decideNow)
		var r *refusal.Error
		if !errors.As(err, &r) || !r.Has(errcode.SeriesPaused) {
			t.Errorf("err = %v, want the offer_paused refusal", err)
		}
	})
	t.Run("shared code: the redeemer's own", func(t *testing.T) {
		s := decideSeries(series.Common, limits.RedemptionRules{AnyoneMayRedeem: true})
		bob := issuedTo("bob", 0, 0)
		bob.ID = "c-bob"
		c, insert, err := selectUse(s, []coupon.Coupon{alice, bob}, "abc123", "bob", decideNow)
		if err != nil || insert || c.ID != "c-bob" {
			t.Errorf("got %q insert %v err %v", c.ID, insert, err)
		}
	})
	t.Run("shared code never issued: the first, refused as never issued", func(t *testing.T) {
		s := decideSeries(series.Common, limits.RedemptionRules{AnyoneMayRedeem: true})
		pool := coupon.Coupon{ID: "c0", SeriesID: "s1", Code: "SHARED", Canonical: "SHARED", State: coupon.Available, Version: 1}
		c, insert, err := selectUse(s, []coupon.Coupon{pool}, "shared", "bob", decideNow)
		if err != nil || insert || c.ID != "c0" {
			t.Errorf("got %q insert %v err %v", c.ID, insert, err)
		}
	})
}

func TestDecideUseSharedCodeInsert(t *testing.T) {
	s := decideSeries(series.Common, limits.RedemptionRules{AnyoneMayRedeem: true})
	s.Expiry = series.Expiry{Kind: series.DaysFromIssue, N: 1}
	other := issuedTo("carol", 0, 0)
	other.Shared = true
	c, insert, err := selectUse(s, []coupon.Coupon{other}, "abc123", "alice", decideNow)
	if err != nil || !insert {
		t.Fatalf("insert %v err %v, want the redeemer's own coupon to insert", insert, err)
	}
	if c.ID != "" || c.Holder != "alice" || !c.Shared || c.State != coupon.Issued || c.Canonical != "ABC123" {
		t.Errorf("own coupon %+v", c)
	}
	wantExp := time.Date(2026, 6, 12, 0, 0, 0, 0, time.UTC)
	if !c.ExpiresAt.Equal(wantExp) {
		t.Errorf("expires %v, want %v", c.ExpiresAt, wantExp)
	}
	req := bill(40)
	var p useplan
	if err := decideUse(&p, useSnap(s, c, insert, [4]store.Count{}), &req, decideNow); err != nil {
		t.Fatal(err)
	}
	if !p.allowed() || !p.insert {
		t.Fatalf("allowed %v insert %v: %v %v", p.allowed(), p.insert, p.state, p.d)
	}
	var b changeBuf
	used, r, err := useChange(&b, &p, &req, 0, decideNow, &seqIDs{})
	if err != nil {
		t.Fatal(err)
	}
	ch := &b.ch
	if len(ch.Coupons) != 0 || len(ch.NewCoupons) != 1 {
		t.Fatalf("%d updates, %d inserts; want the redeemer's own coupon inserted", len(ch.Coupons), len(ch.NewCoupons))
	}
	made := ch.NewCoupons[0]
	if made.ID != "id-1" || made.Holder != "alice" || !made.Shared || !made.ExpiresAt.Equal(wantExp) || made.Redemptions != 1 || used.ID != made.ID || r.CouponID != made.ID {
		t.Errorf("made %+v, redemption of %q", made, r.CouponID)
	}
	if len(ch.Events) != 2 || ch.Events[0].Kind != coupon.EventIssued || ch.Events[0].ID != "id-2" || ch.Events[1].Kind != coupon.EventRedeemed || ch.Events[1].ID != "id-4" {
		t.Errorf("events %+v; want Issued (id-2) then Redeemed (id-4)", ch.Events)
	}
	if len(ch.Bumps) != 6 || ch.Bumps[4].Key.Counter != limits.SeriesIssued || ch.Bumps[5].Key.Counter != limits.CustomerIssued || ch.Bumps[5].Key.Customer != "alice" {
		t.Errorf("bumps %+v; want the use counters then the issue counters", ch.Bumps)
	}
	if ch.Bumps[5].Guard != (limits.Guard{}) {
		t.Errorf("the issue of a shared code is not guarded: %+v", ch.Bumps[5].Guard)
	}
}

func TestSameUse(t *testing.T) {
	first := coupon.Redemption{ID: "r1", Customer: "alice", Status: coupon.StatusRedeemed,
		Bill: decimal.NewFromInt(40), Currency: "EUR", Location: coupon.Location{Till: "t1"}}
	want := coupon.RedeemParams{Customer: "alice", Bill: decimal.RequireFromString("40.00"), Currency: "EUR", Location: coupon.Location{Till: "t1"}}
	hold := first
	hold.Status, hold.HoldExpiresAt = coupon.StatusHeld, decideNow.Add(time.Minute)
	released := hold
	released.Status, released.ReleasedAt = coupon.StatusReleased, decideNow.Add(-time.Second)
	lapsed := hold
	lapsed.HoldExpiresAt = decideNow.Add(-time.Second)
	with := func(f func(*coupon.RedeemParams)) *coupon.RedeemParams { w := want; f(&w); return &w }
	for _, tc := range []struct {
		name  string
		r     coupon.Redemption
		want  *coupon.RedeemParams
		hold  bool
		code  errcode.Code
		field string
	}{
		{"the same redemption replays", first, &want, false, 0, ""},
		{"the same live hold replays", hold, &want, true, 0, ""},
		{"another customer", first, with(func(w *coupon.RedeemParams) { w.Customer = "bob" }), false, errcode.KeyMismatch, "Customer"},
		{"another bill", first, with(func(w *coupon.RedeemParams) { w.Bill = decimal.NewFromInt(41) }), false, errcode.KeyMismatch, "Bill"},
		{"another currency", first, with(func(w *coupon.RedeemParams) { w.Currency = "USD" }), false, errcode.KeyMismatch, "Bill"},
		{"another place", first, with(func(w *coupon.RedeemParams) { w.Location.Till = "t2" }), false, errcode.KeyMismatch, "Place"},
		{"a hold where a redemption was made", first, &want, true, errcode.KeyMismatch, "IdempotencyKey"},
		{"a redemption where a hold was made", hold, &want, false, errcode.KeyMismatch, "IdempotencyKey"},
		{"a released hold", released, &want, true, errcode.HoldReleased, "IdempotencyKey"},
		{"a lapsed hold", lapsed, &want, true, errcode.HoldExpired, "IdempotencyKey"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := sameUse(&tc.r, tc.want, tc.hold, decideNow)
			if got := errcode.CodeOf(err); got != tc.code {
				t.Fatalf("err = %v, want code %v", err, tc.code)
			}
			var ce *errcode.Error
			if err != nil && (!errors.As(err, &ce) || ce.Field != tc.field) {
				t.Errorf("err = %v, want field %q", err, tc.field)
			}
		})
	}
}
