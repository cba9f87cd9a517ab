package coupon

import (
	"errors"
	"testing"
	"time"

	"github.com/couponkit/couponkit/errcode"
	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
)

var (
	t0    = time.Date(2025, 11, 12, 10, 0, 0, 0, time.UTC)
	later = t0.Add(time.Hour)
	// decEqual lets cmp compare decimal amounts.
	decEqual = cmp.Comparer(func(a, b decimal.Decimal) bool { return a.Equal(b) })
)

// fx returns a coupon in state s at t0. "expired" is an Issued coupon whose
// expiry passed (derived Expired); storedExpired is one the sweep recorded.
func fx(s string) Coupon {
	c := Coupon{
		ID: "c1", SeriesID: "s1", Code: "Ab-12", Canonical: "AB12",
		State: Available, CreatedAt: t0.Add(-72 * time.Hour),
		LastStatusChange: t0.Add(-72 * time.Hour), Version: 1,
	}
	issue := func() {
		c.State, c.Holder, c.IssuedAt, c.Version = Issued, "alice", t0.Add(-48*time.Hour), 2
		c.LastStatusChange = c.IssuedAt
	}
	switch s {
	case "available":
	case "availableExpired":
		c.ExpiresAt = t0.Add(-time.Hour)
	case "issued":
		issue()
		c.ExpiresAt = t0.Add(24 * time.Hour)
	case "issuedUsedOnce": // issued, one redemption of two allowed
		issue()
		c.Redemptions = 1
	case "held": // issued, one hold
		issue()
		c.Holds = 1
	case "redeemed":
		issue()
		c.State, c.Redemptions, c.Version = Redeemed, 1, 3
	case "redeemedPastExpiry":
		issue()
		c.State, c.Redemptions, c.Version, c.ExpiresAt = Redeemed, 1, 3, t0.Add(-time.Hour)
	case "expired":
		issue()
		c.ExpiresAt = t0.Add(-time.Hour)
	case "storedExpired":
		issue()
		c.State, c.ExpiresAt, c.Version = Expired, t0.Add(-time.Hour), 3
	case "revoked":
		issue()
		c.State, c.Version = Revoked, 3
	case "replaced": // expired and reissued
		issue()
		c.State, c.ExpiresAt, c.Holder, c.ReissuedTo, c.Version = Expired, t0.Add(-time.Hour), "", "c9", 3
	default:
		panic("unknown fixture " + s)
	}
	if err := c.Validate(); err != nil {
		panic(s + ": " + err.Error())
	}
	return c
}

func with(c Coupon, f func(*Coupon)) Coupon { f(&c); return c }

// checkErr fails unless err matches want (nil: no error expected).
func checkErr(t *testing.T, err error, want *errcode.Error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want == nil:
	case !errors.Is(err, want) || errcode.CodeOf(err) != want.Code:
		t.Fatalf("error = %v (code %d); want code %d", err, errcode.CodeOf(err), want.Code)
	}
}

// sameOnError fails when a refused transition changed what it returns.
func sameOnError(t *testing.T, err error, got, want any) {
	t.Helper()
	if err == nil {
		return
	}
	if d := cmp.Diff(want, got, decEqual); d != "" {
		t.Errorf("refused transition changed its input (-in +out):\n%s", d)
	}
}

// checkMoved checks what every successful transition does to a coupon.
func checkMoved(t *testing.T, in, out Coupon, ev Event, kind EventKind) {
	t.Helper()
	if out.Version != in.Version+1 {
		t.Errorf("Version = %d; want %d", out.Version, in.Version+1)
	}
	if ev.Kind != kind || !ev.At.Equal(later) || ev.ID != "" || ev.CouponID != in.ID || ev.SeriesID != in.SeriesID {
		t.Errorf("event = %+v; want kind %v at %v for %s", ev, kind, later, in.ID)
	}
	if (out.State != in.State) != out.LastStatusChange.Equal(later) && kind != EventReversed {
		t.Errorf("LastStatusChange = %v with state %v -> %v", out.LastStatusChange, in.State, out.State)
	}
	if err := out.Validate(); err != nil {
		t.Errorf("result invalid: %v", err)
	}
}

func TestStateAt(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		at      time.Time
		want    State
	}{
		{"available", t0.Add(1000 * time.Hour), Available}, // zero ExpiresAt never expires
		{"availableExpired", t0, Expired},
		{"issued", t0, Issued},
		{"issued", t0.Add(24 * time.Hour), Expired}, // at ExpiresAt exactly
		{"issued", t0.Add(24*time.Hour - time.Nanosecond), Issued},
		{"expired", t0, Expired},
		{"storedExpired", t0.Add(-100 * time.Hour), Expired},
		{"redeemedPastExpiry", t0, Redeemed},
		{"revoked", t0, Revoked},
	} {
		c := fx(tc.fixture)
		if got := c.StateAt(tc.at); got != tc.want {
			t.Errorf("%s.StateAt(%v) = %v; want %v", tc.fixture, tc.at, got, tc.want)
		}
		if got := c.Usable(tc.at); got != (tc.want == Issued) {
			t.Errorf("%s.Usable(%v) = %v", tc.fixture, tc.at, got)
		}
	}
}

func TestNew(t *testing.T) {
	c, ev, err := New(NewParams{ID: "c1", SeriesID: "s1", Code: "Ab-12", Canonical: "AB12", Actor: "upload"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	want := Coupon{ID: "c1", SeriesID: "s1", Code: "Ab-12", Canonical: "AB12", State: Available,
		CreatedAt: t0, LastStatusChange: t0, Version: 1}
	if d := cmp.Diff(want, c); d != "" {
		t.Errorf("New (-want +got):\n%s", d)
	}
	if ev.Kind != EventCreated || ev.Actor != "upload" || ev.Code != "Ab-12" {
		t.Errorf("event = %+v", ev)
	}

	_, _, err = New(NewParams{Code: "x", ExpiresAt: t0}, t0)
	var fields []string
	for _, e := range errcode.All(err) {
		fields = append(fields, e.Field)
	}
	if d := cmp.Diff([]string{"ID", "SeriesID", "Canonical", "ExpiresAt"}, fields); d != "" {
		t.Errorf("New with bad params: fields (-want +got):\n%s", d)
	}
}

func TestValidate(t *testing.T) {
	for name, c := range map[string]Coupon{
		"no id":            with(fx("available"), func(c *Coupon) { c.ID = "" }),
		"bad state":        with(fx("available"), func(c *Coupon) { c.State = 0 }),
		"available holder": with(fx("available"), func(c *Coupon) { c.Holder = "bob" }),
		"issued no holder": with(fx("issued"), func(c *Coupon) { c.Holder = "" }),
		"negative count":   with(fx("issued"), func(c *Coupon) { c.Holds = -1 }),
		"redeemed unused":  with(fx("redeemed"), func(c *Coupon) { c.Redemptions = 0 }),
		"revoked used":     with(fx("revoked"), func(c *Coupon) { c.Redemptions = 1 }),
		"expired no date":  with(fx("storedExpired"), func(c *Coupon) { c.ExpiresAt = time.Time{} }),
		"replaced holder":  with(fx("replaced"), func(c *Coupon) { c.Holder = "alice" }),
		"self reissue":     with(fx("replaced"), func(c *Coupon) { c.ReissuedTo = c.ID }),
		"version zero":     with(fx("issued"), func(c *Coupon) { c.Version = 0 }),
	} {
		if err := c.Validate(); !errors.Is(err, errcode.ErrInvalidArgument) {
			t.Errorf("%s: Validate() = %v; want InvalidArgument", name, err)
		}
	}
}

func TestIssue(t *testing.T) {
	for _, tc := range []struct {
		name     string
		c        Coupon
		customer string
		expires  time.Time
		want     *errcode.Error
	}{
		{"available", fx("available"), "bob", later.Add(time.Hour), nil},
		{"never expires", fx("available"), "bob", time.Time{}, nil},
		{"keeps earlier own expiry", with(fx("available"), func(c *Coupon) { c.ExpiresAt = later.Add(time.Minute) }), "bob", later.Add(time.Hour), nil},
		{"empty customer", fx("available"), "", time.Time{}, errcode.ErrInvalidArgument},
		{"expiry not after issue", fx("available"), "bob", later, errcode.ErrInvalidArgument},
		{"issued", fx("issued"), "bob", time.Time{}, errcode.ErrAlreadyIssued},
		{"redeemed", fx("redeemed"), "bob", time.Time{}, errcode.ErrAlreadyIssued},
		{"revoked", fx("revoked"), "bob", time.Time{}, errcode.ErrRevoked},
		{"available past expiry", fx("availableExpired"), "bob", time.Time{}, errcode.ErrExpired},
		{"stored expired", fx("storedExpired"), "bob", time.Time{}, errcode.ErrExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, ev, err := Issue(tc.c, tc.customer, later, tc.expires, "op")
			checkErr(t, err, tc.want)
			sameOnError(t, err, out, tc.c)
			if err != nil {
				return
			}
			checkMoved(t, tc.c, out, ev, EventIssued)
			wantExp := earliest(tc.c.ExpiresAt, tc.expires)
			if out.State != Issued || out.Holder != tc.customer || !out.IssuedAt.Equal(later) || !out.ExpiresAt.Equal(wantExp) {
				t.Errorf("got %+v", out)
			}
			if ev.Customer != tc.customer || ev.Actor != "op" {
				t.Errorf("event = %+v", ev)
			}
		})
	}
}

func TestRedeem(t *testing.T) {
	p := RedeemParams{ID: "r1", Customer: "alice", IdempotencyKey: "pos-1", Actor: "till-3",
		Location: Location{Store: "S1", Till: "3"}, Bill: decimal.NewFromInt(40),
		Discount: decimal.NewFromInt(5), Currency: "EUR", Capacity: 1}
	for _, tc := range []struct {
		name      string
		c         Coupon
		p         func(*RedeemParams)
		want      *errcode.Error
		wantState State
	}{
		{"last use", fx("issued"), nil, nil, Redeemed},
		{"unlimited", fx("issuedUsedOnce"), func(p *RedeemParams) { p.Capacity = 0 }, nil, Issued},
		{"second of three", fx("issuedUsedOnce"), func(p *RedeemParams) { p.Capacity = 3 }, nil, Issued},
		{"last of two", fx("issuedUsedOnce"), func(p *RedeemParams) { p.Capacity = 2 }, nil, Redeemed},
		{"other redeemer", fx("issued"), func(p *RedeemParams) { p.Customer = "bob" }, nil, Redeemed},
		{"all used", fx("issuedUsedOnce"), nil, errcode.ErrRedeemed, 0},
		{"last use held", fx("held"), nil, errcode.ErrLimitReached, 0},
		{"redeemed", fx("redeemed"), func(p *RedeemParams) { p.Capacity = 5 }, errcode.ErrRedeemed, 0},
		{"available", fx("available"), nil, errcode.ErrNotIssued, 0},
		{"revoked", fx("revoked"), nil, errcode.ErrRevoked, 0},
		{"expired", fx("expired"), nil, errcode.ErrExpired, 0},
		{"stored expired", fx("storedExpired"), nil, errcode.ErrExpired, 0},
		{"no id", fx("issued"), func(p *RedeemParams) { p.ID = "" }, errcode.ErrInvalidArgument, 0},
		{"negative capacity", fx("issued"), func(p *RedeemParams) { p.Capacity = -1 }, errcode.ErrInvalidArgument, 0},
		{"negative bill", fx("issued"), func(p *RedeemParams) { p.Bill = decimal.NewFromInt(-1) }, errcode.ErrInvalidArgument, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := p
			if tc.p != nil {
				tc.p(&p)
			}
			out, r, ev, err := Redeem(tc.c, later, p)
			checkErr(t, err, tc.want)
			sameOnError(t, err, out, tc.c)
			if err != nil {
				return
			}
			checkMoved(t, tc.c, out, ev, EventRedeemed)
			if out.State != tc.wantState || out.Redemptions != tc.c.Redemptions+1 || out.Holds != tc.c.Holds {
				t.Errorf("state %v, redemptions %d, holds %d", out.State, out.Redemptions, out.Holds)
			}
			want := Redemption{ID: "r1", CouponID: "c1", SeriesID: "s1", Customer: p.Customer, IdempotencyKey: "pos-1",
				Status: StatusRedeemed, At: later, ConfirmedAt: later, Location: p.Location,
				Bill: p.Bill, Discount: p.Discount, Currency: "EUR"}
			if d := cmp.Diff(want, r, decEqual); d != "" {
				t.Errorf("redemption (-want +got):\n%s", d)
			}
			wantCP := ""
			if p.Customer != "alice" {
				wantCP = p.Customer
			}
			if ev.Customer != "alice" || ev.Counterparty != wantCP || ev.RedemptionID != "r1" || ev.Actor != "till-3" {
				t.Errorf("event = %+v", ev)
			}
		})
	}
}

func TestPlaceHold(t *testing.T) {
	for _, tc := range []struct {
		name     string
		c        Coupon
		capacity int
		until    time.Time
		want     *errcode.Error
	}{
		{"issued", fx("issued"), 1, later.Add(time.Minute), nil},
		{"second hold of two", fx("held"), 2, later.Add(time.Minute), nil},
		{"last use held", fx("held"), 1, later.Add(time.Minute), errcode.ErrLimitReached},
		{"all used", fx("issuedUsedOnce"), 1, later.Add(time.Minute), errcode.ErrRedeemed},
		{"expired", fx("expired"), 1, later.Add(time.Minute), errcode.ErrExpired},
		{"revoked", fx("revoked"), 1, later.Add(time.Minute), errcode.ErrRevoked},
		{"available", fx("available"), 1, later.Add(time.Minute), errcode.ErrNotIssued},
		{"until not after at", fx("issued"), 1, later, errcode.ErrInvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, r, ev, err := PlaceHold(tc.c, later, tc.until, RedeemParams{ID: "h1", Customer: "alice", Capacity: tc.capacity})
			checkErr(t, err, tc.want)
			sameOnError(t, err, out, tc.c)
			if err != nil {
				return
			}
			checkMoved(t, tc.c, out, ev, EventHeld)
			if out.State != tc.c.State || out.Holds != tc.c.Holds+1 || out.Redemptions != tc.c.Redemptions {
				t.Errorf("got %+v", out)
			}
			if r.Status != StatusHeld || !r.HoldExpiresAt.Equal(tc.until) || !r.HoldActive(later) || r.HoldActive(tc.until) {
				t.Errorf("hold = %+v", r)
			}
		})
	}
}

// hold returns a held coupon and its hold record, lapsing at until.
func hold(until time.Time) (Coupon, Redemption) {
	return fx("held"), Redemption{ID: "h1", CouponID: "c1", SeriesID: "s1", Customer: "alice",
		Status: StatusHeld, At: t0, HoldExpiresAt: until}
}

func TestConfirmHold(t *testing.T) {
	c, h := hold(later.Add(time.Minute))
	for _, tc := range []struct {
		name      string
		c         Coupon
		r         Redemption
		capacity  int
		want      *errcode.Error
		wantState State
	}{
		{"last use", c, h, 1, nil, Redeemed},
		{"unlimited", c, h, 0, nil, Issued},
		{"lapsed", c, with2(h, func(r *Redemption) { r.HoldExpiresAt = later }), 1, errcode.ErrHoldExpired, 0},
		{"other coupon's hold", c, with2(h, func(r *Redemption) { r.CouponID = "c2" }), 1, errcode.ErrRedemptionNotFound, 0},
		{"already confirmed", c, with2(h, func(r *Redemption) { r.Status = StatusRedeemed }), 1, errcode.ErrRedemptionNotFound, 0},
		{"released", c, with2(h, func(r *Redemption) { r.Status = StatusReleased }), 1, errcode.ErrRedemptionNotFound, 0},
		{"coupon counts no hold", fx("issued"), h, 1, errcode.ErrRedemptionNotFound, 0},
		{"coupon expired meanwhile", with(c, func(c *Coupon) { c.ExpiresAt = later }), h, 1, errcode.ErrExpired, 0},
		{"capacity shrank", with(c, func(c *Coupon) { c.Redemptions = 1 }), h, 1, errcode.ErrRedeemed, 0},
		{"negative capacity", c, h, -1, errcode.ErrInvalidArgument, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, r, ev, err := ConfirmHold(tc.c, tc.r, later, tc.capacity, "till")
			checkErr(t, err, tc.want)
			sameOnError(t, err, out, tc.c)
			sameOnError(t, err, r, tc.r)
			if err != nil {
				return
			}
			checkMoved(t, tc.c, out, ev, EventHoldConfirmed)
			if out.State != tc.wantState || out.Holds != 0 || out.Redemptions != 1 {
				t.Errorf("got %+v", out)
			}
			if r.Status != StatusRedeemed || !r.ConfirmedAt.Equal(later) || ev.RedemptionID != "h1" {
				t.Errorf("redemption %+v, event %+v", r, ev)
			}
		})
	}
}

func with2(r Redemption, f func(*Redemption)) Redemption { f(&r); return r }

func TestReleaseHold(t *testing.T) {
	c, h := hold(later.Add(time.Minute))
	for _, tc := range []struct {
		name string
		c    Coupon
		r    Redemption
		want *errcode.Error
	}{
		{"active", c, h, nil},
		{"lapsed", c, with2(h, func(r *Redemption) { r.HoldExpiresAt = t0 }), nil},
		{"on expired coupon", with(c, func(c *Coupon) { c.State, c.ExpiresAt = Expired, t0 }), h, nil},
		{"other coupon's", c, with2(h, func(r *Redemption) { r.CouponID = "c2" }), errcode.ErrRedemptionNotFound},
		{"released", c, with2(h, func(r *Redemption) { r.Status = StatusReleased }), errcode.ErrRedemptionNotFound},
		{"a redemption", c, with2(h, func(r *Redemption) { r.Status = StatusRedeemed }), errcode.ErrRedemptionNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, r, ev, err := ReleaseHold(tc.c, tc.r, later, "till", "cart abandoned")
			checkErr(t, err, tc.want)
			sameOnError(t, err, out, tc.c)
			sameOnError(t, err, r, tc.r)
			if err != nil {
				return
			}
			checkMoved(t, tc.c, out, ev, EventHoldReleased)
			if out.State != tc.c.State || out.Holds != 0 || r.Status != StatusReleased || !r.ReleasedAt.Equal(later) || ev.Reason != "cart abandoned" {
				t.Errorf("coupon %+v, hold %+v, event %+v", out, r, ev)
			}
		})
	}
}

func TestReverse(t *testing.T) {
	red := Redemption{ID: "r1", CouponID: "c1", SeriesID: "s1", Customer: "alice", Status: StatusRedeemed, At: t0, ConfirmedAt: t0}
	for _, tc := range []struct {
		name      string
		c         Coupon
		r         Redemption
		want      *errcode.Error
		wantState State
	}{
		{"redeemed", fx("redeemed"), red, nil, Issued},
		{"multi-use", fx("issuedUsedOnce"), red, nil, Issued},
		{"redeemed past expiry", fx("redeemedPastExpiry"), red, nil, Issued}, // and derived Expired
		{"stored expired", with(fx("storedExpired"), func(c *Coupon) { c.Redemptions = 1 }), red, nil, Expired},
		{"already reversed", fx("redeemed"), with2(red, func(r *Redemption) { r.Status = StatusReversed }), errcode.ErrAlreadyReversed, 0},
		{"other coupon's", fx("redeemed"), with2(red, func(r *Redemption) { r.CouponID = "c2" }), errcode.ErrRedemptionNotFound, 0},
		{"a hold", fx("held"), with2(red, func(r *Redemption) { r.Status = StatusHeld }), errcode.ErrRedemptionNotFound, 0},
		{"coupon counts none", fx("issued"), red, errcode.ErrRedemptionNotFound, 0},
		{"revoked", with(fx("revoked"), func(c *Coupon) { c.Redemptions = 1 }), red, errcode.ErrRevoked, 0},
		{"replaced", with(fx("replaced"), func(c *Coupon) { c.Redemptions = 1 }), red, errcode.ErrAlreadyReissued, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, r, ev, err := Reverse(tc.c, tc.r, later, "ops", "goods returned")
			checkErr(t, err, tc.want)
			sameOnError(t, err, out, tc.c)
			sameOnError(t, err, r, tc.r)
			if err != nil {
				return
			}
			checkMoved(t, tc.c, out, ev, EventReversed)
			if out.State != tc.wantState || out.Redemptions != tc.c.Redemptions-1 || !out.Reversed || !out.LastStatusChange.Equal(later) {
				t.Errorf("got %+v", out)
			}
			if r.Status != StatusReversed || !r.ReversedAt.Equal(later) || ev.Reason != "goods returned" || ev.Customer != "alice" {
				t.Errorf("redemption %+v, event %+v", r, ev)
			}
		})
	}
}

func TestRevoke(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    Coupon
		want *errcode.Error
	}{
		{"available", fx("available"), nil},
		{"issued", fx("issued"), nil},
		{"expired", fx("expired"), nil},
		{"stored expired", fx("storedExpired"), nil},
		{"replaced", fx("replaced"), nil},
		{"revoked", fx("revoked"), errcode.ErrCouponNotFound},
		{"redeemed", fx("redeemed"), errcode.ErrRedeemed},
		{"partly used", fx("issuedUsedOnce"), errcode.ErrRedeemed},
		{"held", fx("held"), errcode.ErrRedeemed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, ev, err := Revoke(tc.c, later, "ops", "fraud")
			checkErr(t, err, tc.want)
			sameOnError(t, err, out, tc.c)
			if err != nil {
				return
			}
			checkMoved(t, tc.c, out, ev, EventRevoked)
			if out.State != Revoked || out.Holder != tc.c.Holder || ev.Customer != tc.c.Holder || ev.Reason != "fraud" {
				t.Errorf("coupon %+v, event %+v", out, ev)
			}
		})
	}
}

func TestExpire(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    Coupon
		want *errcode.Error
	}{
		{"issued past expiry", fx("expired"), nil},
		{"available past expiry", fx("availableExpired"), nil},
		{"issued, expiring exactly now", with(fx("issued"), func(c *Coupon) { c.ExpiresAt = later }), nil},
		{"not yet", fx("issued"), errcode.ErrInvalidTransition},
		{"never expires", fx("available"), errcode.ErrInvalidTransition},
		{"stored expired", fx("storedExpired"), errcode.ErrInvalidTransition},
		{"redeemed past expiry", fx("redeemedPastExpiry"), errcode.ErrInvalidTransition},
		{"revoked", with(fx("revoked"), func(c *Coupon) { c.ExpiresAt = t0 }), errcode.ErrInvalidTransition},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, ev, err := Expire(tc.c, later)
			checkErr(t, err, tc.want)
			sameOnError(t, err, out, tc.c)
			if err != nil {
				return
			}
			checkMoved(t, tc.c, out, ev, EventExpired)
			if out.State != Expired || ev.Customer != tc.c.Holder || ev.Actor != "" {
				t.Errorf("coupon %+v, event %+v", out, ev)
			}
		})
	}
}

func TestTransfer(t *testing.T) {
	for _, tc := range []struct {
		name    string
		c       Coupon
		to      string
		allowed bool
		want    *errcode.Error
	}{
		{"issued", fx("issued"), "bob", true, nil},
		{"partly used", fx("issuedUsedOnce"), "bob", true, nil},
		{"not allowed", fx("issued"), "bob", false, errcode.ErrTransferNotAllowed},
		{"to holder", fx("issued"), "alice", true, errcode.ErrInvalidArgument},
		{"to nobody", fx("issued"), "", true, errcode.ErrInvalidArgument},
		{"held", fx("held"), "bob", true, errcode.ErrInvalidTransition},
		{"available", fx("available"), "bob", true, errcode.ErrNotIssued},
		{"redeemed", fx("redeemed"), "bob", true, errcode.ErrRedeemed},
		{"expired", fx("expired"), "bob", true, errcode.ErrExpired},
		{"revoked", fx("revoked"), "bob", true, errcode.ErrRevoked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, evs, err := Transfer(tc.c, tc.to, later, "ops", tc.allowed)
			checkErr(t, err, tc.want)
			sameOnError(t, err, out, tc.c)
			if err != nil {
				if evs != nil {
					t.Errorf("events on error: %v", evs)
				}
				return
			}
			if len(evs) != 2 {
				t.Fatalf("got %d events; want 2", len(evs))
			}
			checkMoved(t, tc.c, out, evs[0], EventTransferredOut)
			checkMoved(t, tc.c, out, evs[1], EventTransferReceived)
			if out.Holder != tc.to || out.State != tc.c.State || out.Redemptions != tc.c.Redemptions {
				t.Errorf("got %+v", out)
			}
			if evs[0].Customer != "alice" || evs[0].Counterparty != tc.to || evs[1].Customer != tc.to || evs[1].Counterparty != "alice" {
				t.Errorf("events = %+v", evs)
			}
		})
	}
}

func TestReissue(t *testing.T) {
	fresh := with(fx("available"), func(c *Coupon) { c.ID, c.Code, c.Canonical = "c2", "Zz-99", "ZZ99" })
	p := ReissueParams{Actor: "support", Notify: true, ExpiresAt: later.Add(30 * 24 * time.Hour)}
	for _, tc := range []struct {
		name      string
		old       Coupon
		fresh     Coupon
		p         func(*ReissueParams)
		want      *errcode.Error
		wantState State // old's state after
	}{
		{"expired", fx("expired"), fresh, nil, nil, Expired},
		{"stored expired", fx("storedExpired"), fresh, nil, nil, Expired},
		{"revoked", fx("revoked"), fresh, nil, nil, Revoked},
		{"fully redeemed", fx("redeemed"), fresh, nil, nil, Redeemed},
		{"still usable", fx("issued"), fresh, nil, errcode.ErrStillUsable, 0},
		{"partly used, still usable", fx("issuedUsedOnce"), fresh, nil, errcode.ErrStillUsable, 0},
		{"never issued", fx("availableExpired"), fresh, nil, errcode.ErrNotIssued, 0},
		{"revoked while available", with(fx("revoked"), func(c *Coupon) { c.Holder = "" }), fresh, nil, errcode.ErrNotIssued, 0},
		{"already reissued", fx("replaced"), fresh, nil, errcode.ErrAlreadyReissued, 0},
		{"is a reissue", with(fx("expired"), func(c *Coupon) { c.ReissuedFrom = "c0" }), fresh, nil, errcode.ErrAlreadyReissued, 0},
		{"external provider", fx("expired"), fresh, func(p *ReissueParams) { p.External = true }, errcode.ErrExternalProvider, 0},
		{"expiry not after now", fx("expired"), fresh, func(p *ReissueParams) { p.ExpiresAt = later }, errcode.ErrInvalidArgument, 0},
		{"fresh is old", fx("expired"), fx("expired"), nil, errcode.ErrInvalidArgument, 0},
		{"fresh other series", fx("expired"), with(fresh, func(c *Coupon) { c.SeriesID = "s2" }), nil, errcode.ErrInvalidArgument, 0},
		{"fresh issued", fx("expired"), with(fresh, func(c *Coupon) { c.State, c.Holder = Issued, "bob" }), nil, errcode.ErrInvalidArgument, 0},
		{"fresh expired", fx("expired"), with(fresh, func(c *Coupon) { c.ExpiresAt = t0 }), nil, errcode.ErrInvalidArgument, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := p
			if tc.p != nil {
				tc.p(&p)
			}
			old, nw, ev, err := Reissue(tc.old, tc.fresh, later, p)
			checkErr(t, err, tc.want)
			sameOnError(t, err, old, tc.old)
			sameOnError(t, err, nw, tc.fresh)
			if err != nil {
				return
			}
			checkMoved(t, tc.old, old, ev, EventReissued)
			if old.State != tc.wantState || old.Holder != "" || old.ReissuedTo != "c2" || old.Code != tc.old.Code {
				t.Errorf("old = %+v", old)
			}
			if nw.Version != tc.fresh.Version+1 || nw.State != Issued || nw.Holder != "alice" || nw.ReissuedFrom != "c1" ||
				!nw.IssuedAt.Equal(later) || !nw.ExpiresAt.Equal(p.ExpiresAt) || nw.Validate() != nil {
				t.Errorf("fresh = %+v", nw)
			}
			wantEv := Event{Kind: EventReissued, CouponID: "c1", SeriesID: "s1", Code: "Ab-12", Customer: "alice",
				Actor: "support", At: later, OldCode: "Ab-12", NewCode: "Zz-99", NewCouponID: "c2", Notify: true}
			if d := cmp.Diff(wantEv, ev); d != "" {
				t.Errorf("event (-want +got):\n%s", d)
			}
		})
	}
}

func TestReissueReportsEveryFreshProblem(t *testing.T) {
	bad := with(fx("issued"), func(c *Coupon) { c.ID, c.SeriesID, c.ReissuedFrom = "c1", "s2", "c0" })
	_, _, _, err := Reissue(fx("expired"), bad, later, ReissueParams{})
	var fields []string
	for _, e := range errcode.All(err) {
		fields = append(fields, e.Field)
	}
	if d := cmp.Diff([]string{"fresh.ID", "fresh.SeriesID", "fresh.State", "fresh.ReissuedFrom"}, fields); d != "" {
		t.Errorf("fields (-want +got):\n%s", d)
	}
}

func BenchmarkRedeem(b *testing.B) {
	c := fx("issued")
	p := RedeemParams{ID: "r1", Customer: "alice", Capacity: 0, Bill: decimal.NewFromInt(40), Currency: "EUR"}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, _, err := Redeem(c, later, p); err != nil {
			b.Fatal(err)
		}
	}
}
