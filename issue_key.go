package couponkit

import (
	"context"
	"errors"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// issueKeyKind is the Kind of the *store.ExistsError of a coupon whose
// (series, IssueKey) another coupon has.
const issueKeyKind = "issue"

// mayRepeat reports whether an issue that failed with err may be the
// repeat of one its idempotency key made: any refusal or collision. A
// store that fails, a context that ends, and a stale snapshot (which the
// next attempt reads again) say nothing of the key.
func mayRepeat(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	switch errcode.CodeOf(err) {
	case errcode.Unavailable, errcode.Conflict, errcode.GuardFailed:
		return false
	}
	return true
}

// replayIssue looks for the coupon of series s that the idempotency key of
// req issued. When there is one it reports true and either sets *out to
// that first result, as the coupon is now, or, when the key was used with
// other parameters, returns the ErrKeyMismatch that says so.
func (e *Engine) replayIssue(ctx context.Context, s *series.Series, req *IssueRequest, customer string, out *IssueResult) (bool, error) {
	cs, err := e.st.ListCoupons(ctx, store.CouponQuery{
		CouponFilter: store.CouponFilter{SeriesID: s.ID, IssueKeys: []string{req.IdempotencyKey}}, Limit: 1})
	if err != nil || len(cs) == 0 {
		return false, err
	}
	if err := e.sameIssue(ctx, s, &cs[0], req.Code, customer); err != nil {
		return true, err
	}
	*out, err = e.replayedIssue(s, cs[0])
	return true, err
}

// replayedIssue is the result of a request that repeats the issue of c.
func (e *Engine) replayedIssue(s *series.Series, c coupon.Coupon) (IssueResult, error) {
	loc, err := e.location(s)
	if err != nil {
		return IssueResult{}, err
	}
	return IssueResult{Coupon: c.In(loc), Replayed: true}, nil
}

// sameIssue checks that a request for customer, naming code (or none), is
// the issue that gave c its IssueKey: the same customer, the one c was
// first issued to, and, when the request names a code, c's.
func (e *Engine) sameIssue(ctx context.Context, s *series.Series, c *coupon.Coupon, code, customer string) error {
	first, err := e.issuedTo(ctx, c)
	if err != nil {
		return err
	}
	if first != customer {
		return keyMismatch("Customer", "another customer")
	}
	if code == "" {
		return nil
	}
	if canon, err := e.canonical(s, code); err != nil || canon != c.Canonical {
		return keyMismatch("Code", "another code")
	}
	return nil
}

// firstEvents is how many of a coupon's first events issuedTo reads before
// it reads them all: the issue is the first or second (after the coupon
// was made for a pool).
const firstEvents = 8

// issuedTo returns the customer c was first issued to. While the issue is
// the only change c had since it was made (Version 2), that is its holder;
// after a transfer or a reissue it is the customer its first Issued event
// names, read from its history.
func (e *Engine) issuedTo(ctx context.Context, c *coupon.Coupon) (string, error) {
	if c.Version == 2 && c.Holder != "" {
		return c.Holder, nil
	}
	q := store.EventQuery{CouponID: c.ID, Limit: firstEvents}
	for {
		evs, err := e.st.Events(ctx, q)
		if err != nil {
			return "", err
		}
		for _, ev := range evs {
			if ev.Kind == coupon.EventIssued {
				return ev.Customer, nil
			}
		}
		if q.Limit == 0 || len(evs) < q.Limit {
			// No Issued event (a coupon stored issued, without its
			// history): its holder is all there is to compare.
			return c.Holder, nil
		}
		q.Limit = 0
	}
}
