package storetest

import (
	"strings"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
)

// The model's rest of a coupon's life: revocation, transfer, reissue and
// expiry.

// ---- revoke ----

type revokeWant struct {
	want    want
	total   int
	revoked []revokedRec
	failed  map[errcode.Code][]string
}

type revokedRec struct{ CouponID, Code, Holder string }

func (m *model) revoke(c *coupon.Coupon, now time.Time) {
	setState(c, coupon.Revoked, now)
	c.Version++
	m.event(c, evRec{Kind: coupon.EventRevoked, Customer: c.Holder, At: now})
}

// revokeCode runs Revoke of one code typed as typed, without series.
func (m *model) revokeCode(typed string, now time.Time) revokeWant {
	cs := m.byCode(typed)
	if len(cs) > 0 && m.series[cs[0].SeriesID].shared() {
		return revokeWant{want: fail(errcode.GenericNotSupported)}
	}
	out := revokeWant{want: ok(), total: 1, failed: map[errcode.Code][]string{}}
	shown := strings.ToUpper(typed)
	if len(cs) == 0 {
		out.failed[errcode.CouponNotFound] = []string{shown}
		return out
	}
	c := cs[0]
	if c.Holds > 0 {
		m.releaseLapsed(now, func(r *coupon.Redemption) bool { return r.CouponID == c.ID })
	}
	switch {
	case c.State == coupon.Revoked:
		out.failed[errcode.CouponNotFound] = []string{shown}
	case c.Redemptions > 0 || c.State == coupon.Redeemed || c.Holds > 0:
		out.failed[errcode.Redeemed] = []string{shown}
	default:
		m.revoke(c, now)
		out.revoked = []revokedRec{{c.ID, strings.ToUpper(c.Code), c.Holder}}
	}
	return out
}

// revokeCustomer runs Revoke of a customer's unredeemed coupons of s.
func (m *model) revokeCustomer(s *mseries, cust string, now time.Time) revokeWant {
	cs := m.sortedCoupons(func(c *coupon.Coupon) bool {
		return c.SeriesID == s.id() && c.Holder == cust && c.Redemptions == 0 && c.Holds == 0 &&
			(c.State == coupon.Available || c.State == coupon.Issued || c.State == coupon.Expired)
	})
	out := revokeWant{want: ok(), total: len(cs), failed: map[errcode.Code][]string{}}
	for _, c := range cs {
		m.revoke(c, now)
		out.revoked = append(out.revoked, revokedRec{c.ID, strings.ToUpper(c.Code), cust})
	}
	return out
}

// ---- transfer, reissue, expiry ----

// transfer runs Transfer of code from one customer to another.
func (m *model) transfer(code, from, to string, now time.Time) (want, *coupon.Coupon) {
	cs := m.byCode(code)
	if len(cs) == 0 {
		return fail(errcode.CouponNotFound), nil
	}
	s := m.series[cs[0].SeriesID]
	c := cs[0]
	if s.shared() {
		c = nil
		for _, x := range cs {
			if x.Holder == from {
				c = x
				break
			}
		}
		if c == nil {
			return fail(errcode.CouponNotFound), nil
		}
	} else if c.Holder != from {
		return fail(errcode.CouponNotFound), nil
	}
	if st := stateAt(c, now); st != coupon.Issued {
		return fail(stateCode(st)), nil
	}
	switch {
	case !s.s.Transferable:
		return fail(errcode.TransferNotAllowed), nil
	case c.Holds > 0:
		return fail(errcode.InvalidTransition), nil
	case to == c.Holder:
		return fail(errcode.InvalidArgument), nil
	}
	if s.shared() {
		for _, x := range cs {
			if x.Holder == to {
				return fail(errcode.CommonCodeIssued), nil
			}
		}
	}
	m.event(c, evRec{Kind: coupon.EventTransferredOut, Customer: c.Holder, Counterparty: to, At: now})
	old := c.Holder
	c.Holder = to
	c.Version++
	m.event(c, evRec{Kind: coupon.EventTransferReceived, Customer: to, Counterparty: old, At: now})
	return ok(), c
}

// reissueOutcome is what a reissue should do: on success, fresh is "mint"
// or "pool" (any of pool).
type reissueOutcome struct {
	want  want
	old   *coupon.Coupon
	s     *mseries
	fresh string
	pool  []*coupon.Coupon
}

func (m *model) planReissue(code string, now time.Time) reissueOutcome {
	cs := m.byCode(code)
	if len(cs) == 0 {
		return reissueOutcome{want: fail(errcode.CouponNotFound)}
	}
	s := m.series[cs[0].SeriesID]
	old := cs[0]
	if s.shared() {
		return reissueOutcome{want: fail(errcode.PoolEmpty)}
	}
	switch st := stateAt(old, now); {
	case st == coupon.Issued:
		return reissueOutcome{want: fail(errcode.StillUsable)}
	case st == coupon.Available:
		return reissueOutcome{want: fail(errcode.NotIssued)}
	case old.ReissuedTo != "" || old.ReissuedFrom != "":
		return reissueOutcome{want: fail(errcode.AlreadyReissued)}
	case old.Holder == "":
		return reissueOutcome{want: fail(errcode.NotIssued)}
	}
	if s.s.Source.Kind == series.Generated {
		if pool := m.poolCandidates(s, now); len(pool) > 0 {
			return reissueOutcome{want: ok(), old: old, s: s, fresh: "pool", pool: pool}
		}
		return reissueOutcome{want: ok(), old: old, s: s, fresh: "mint"}
	}
	pool := m.poolCandidates(s, now)
	if len(pool) == 0 {
		return reissueOutcome{want: fail(errcode.PoolEmpty)}
	}
	return reissueOutcome{want: ok(), old: old, s: s, fresh: "pool", pool: pool}
}

// applyReissue records the reissue of o.old by got (the engine's fresh
// coupon, already checked to be an allowed choice).
func (m *model) applyReissue(o reissueOutcome, got coupon.Coupon, notify bool, now time.Time) (*coupon.Coupon, *coupon.Coupon) {
	old := o.old
	var fresh *coupon.Coupon
	if o.fresh == "pool" {
		fresh = m.coupons[got.ID]
	} else {
		fresh = &coupon.Coupon{ID: got.ID, SeriesID: o.s.id(), Code: got.Code, Canonical: got.Canonical,
			State: coupon.Available, CreatedAt: now, LastStatusChange: now, Version: 1}
		m.coupons[fresh.ID] = fresh
	}
	m.event(old, evRec{Kind: coupon.EventReissued, Customer: old.Holder, NewCouponID: fresh.ID, At: now})
	holder := old.Holder
	st := stateAt(old, now)
	old.Holder, old.ReissuedTo = "", fresh.ID
	setState(old, st, now)
	old.Version++
	fresh.Holder, fresh.IssuedAt, fresh.ReissuedFrom = holder, now, old.ID
	fresh.ExpiresAt = earliest(fresh.ExpiresAt, o.s.expiry(now))
	setState(fresh, coupon.Issued, now)
	fresh.Version++
	return old, fresh
}

// expireDue runs the expiry sweep and returns how many coupons it marks.
func (m *model) expireDue(now time.Time) int {
	cs := m.sortedCoupons(func(c *coupon.Coupon) bool {
		return (c.State == coupon.Available || c.State == coupon.Issued) && !c.ExpiresAt.IsZero() && !c.ExpiresAt.After(now)
	})
	for _, c := range cs {
		setState(c, coupon.Expired, now)
		c.Version++
		m.event(c, evRec{Kind: coupon.EventExpired, Customer: c.Holder, At: now})
	}
	return len(cs)
}
