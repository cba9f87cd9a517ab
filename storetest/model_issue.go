package storetest

import (
	"slices"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
)

// The model's issue: the issuance rules, which coupon an issue gives (a
// fresh code, a pool coupon, the common code or, when the customer
// qualifies again, the coupon they hold), and what it changes.

func (m *model) issueReasons(s *mseries, cust string, now time.Time) []limits.Reason {
	is := s.s.Issuance
	var rs []limits.Reason
	issued := m.count(key(limits.SeriesIssued, s.id(), "", "")).N
	mine := m.count(key(limits.CustomerIssued, s.id(), "", cust))
	if s.shared() {
		if mine.N >= 1 {
			rs = append(rs, limits.CommonCodeIssued)
		}
	} else if !under(mine.N, int64(is.MaxPerCustomer)) {
		rs = append(rs, limits.CustomerIssueLimit)
	}
	if is.MinGap > 0 && mine.N > 0 && now.Sub(mine.Last) < is.MinGap {
		rs = append(rs, limits.IssueGap)
	}
	if !under(issued, int64(is.MaxTotal)) {
		rs = append(rs, limits.SeriesIssueLimit)
	}
	return sortedReasons(rs)
}

// firstUsable is the customer's first (by id) coupon of s usable now.
func (m *model) firstUsable(s *mseries, cust string, now time.Time) *coupon.Coupon {
	for _, c := range m.sortedCoupons(func(c *coupon.Coupon) bool { return c.SeriesID == s.id() && c.Holder == cust }) {
		if c.State == coupon.Issued && stateAt(c, now) == coupon.Issued {
			return c
		}
	}
	return nil
}

// poolCandidates are the coupons of s an issue may draw: Available and not
// past their own expiry.
func (m *model) poolCandidates(s *mseries, now time.Time) []*coupon.Coupon {
	return m.sortedCoupons(func(c *coupon.Coupon) bool {
		return c.SeriesID == s.id() && c.State == coupon.Available && stateAt(c, now) == coupon.Available
	})
}

// issueOutcome is what an issue should do. For success, fresh says where
// the coupon comes from: "mint" (a new code), "pool" (any of pool), or
// "common" (the common code).
type issueOutcome struct {
	want   want
	resent *coupon.Coupon
	fresh  string
	pool   []*coupon.Coupon
}

func (m *model) planIssue(s *mseries, cust string, now time.Time) issueOutcome {
	rs := m.issueReasons(s, cust, now)
	if s.shared() && len(rs) == 0 && len(m.sortedCoupons(func(c *coupon.Coupon) bool { return c.SeriesID == s.id() && c.Holder == cust })) > 0 {
		// The customer holds the common code without having been issued
		// it (it was transferred to them): it is still a second issue.
		rs = []limits.Reason{limits.CommonCodeIssued}
	}
	if len(rs) > 0 {
		if s.s.Issuance.OnQualifyAgain == series.SendExisting &&
			(slices.Contains(rs, limits.CustomerIssueLimit) || slices.Contains(rs, limits.CommonCodeIssued)) {
			if c := m.firstUsable(s, cust, now); c != nil {
				return issueOutcome{want: ok(), resent: c}
			}
		}
		return issueOutcome{want: denied(rs)}
	}
	switch s.s.Source.Kind {
	case series.Common:
		return issueOutcome{want: ok(), fresh: "common"}
	case series.Generated:
		return issueOutcome{want: ok(), fresh: "mint"}
	}
	pool := m.poolCandidates(s, now)
	if len(pool) == 0 {
		return issueOutcome{want: fail(errcode.PoolEmpty)}
	}
	return issueOutcome{want: ok(), fresh: "pool", pool: pool}
}

// applyIssue records the issue of got (the engine's coupon, already checked
// to be an allowed choice) to cust.
func (m *model) applyIssue(s *mseries, cust string, got coupon.Coupon, fresh string, now time.Time) *coupon.Coupon {
	var c *coupon.Coupon
	switch fresh {
	case "pool":
		c = m.coupons[got.ID]
	default:
		code, canon := got.Code, got.Canonical
		if fresh == "common" {
			code, canon = s.s.Source.Code, canonical(s.s.Source.Code)
		}
		c = &coupon.Coupon{ID: got.ID, SeriesID: s.id(), Code: code, Canonical: canon, Shared: s.shared(),
			State: coupon.Available, CreatedAt: now, LastStatusChange: now, Version: 1}
		m.coupons[c.ID] = c
	}
	c.Holder, c.IssuedAt = cust, now
	c.ExpiresAt = earliest(c.ExpiresAt, s.expiry(now))
	setState(c, coupon.Issued, now)
	c.Version++
	m.event(c, evRec{Kind: coupon.EventIssued, Customer: cust, At: now})
	m.bump(key(limits.SeriesIssued, s.id(), "", ""), 1, now)
	m.bump(key(limits.CustomerIssued, s.id(), "", cust), 1, now)
	if n, max := s.s.Issuance.NotifyRemaining, int64(s.s.Issuance.MaxTotal); n > 0 && max > 0 &&
		max-m.count(key(limits.SeriesIssued, s.id(), "", "")).N == n {
		m.notified++
	}
	return c
}
