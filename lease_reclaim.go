package couponkit

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/observe"
	"github.com/couponkit/couponkit/store"
)

// DefaultLeaseSkew is the clock-skew allowance ReclaimLapsed uses when a
// request gives none.
const DefaultLeaseSkew = 5 * time.Minute

// ReclaimRequest asks the central to reclaim lapsed leases.
type ReclaimRequest struct {
	// Skew is the clock-skew allowance: a lease is reclaimed only once the
	// central's clock is Skew or more past its End (DefaultLeaseSkew when
	// zero). Tills stop using a lease the same allowance before its End
	// by their own clocks, so a till whose clock is off by less never uses
	// a lease that has been reclaimed. Negative is an InvalidArgument
	// error.
	Skew time.Duration `json:"skew,omitempty"`
	// SeriesID, when set, reclaims only that series' leases.
	SeriesID string `json:"series_id,omitempty"`
	// Limit caps how many leases one call reclaims; 0 means no cap.
	Limit int `json:"limit,omitempty"`
}

// ReclaimLapsed closes every open lease whose End plus the allowance has
// passed, giving what each had left back to its series (a decrement of the
// series' use counter in the same change that closes it), and returns the
// leases it closed, ordered by id. A lease renewed or closed meanwhile is
// left alone. A reclaim is guarded by the lease's version, so two
// centrals reclaiming at once reclaim each lease once.
func (e *Engine) ReclaimLapsed(ctx context.Context, req ReclaimRequest) (_ []lease.Lease, err error) {
	ctx, o := e.begin(ctx, observe.ReclaimLapsed, "")
	defer o.end(&err)
	var bad error
	if req.Skew < 0 {
		bad = errcode.New(errcode.InvalidArgument, "Skew", "must not be negative")
	} else if req.Limit < 0 {
		bad = errcode.New(errcode.InvalidArgument, "Limit", "must not be negative")
	}
	if err := e.admit(first(bad, idArg("SeriesID", req.SeriesID))); err != nil {
		return nil, err
	}
	ls, err := e.leaseStore()
	if err != nil {
		return nil, err
	}
	skew := req.Skew
	if skew == 0 {
		skew = DefaultLeaseSkew
	}
	due, err := ls.Leases(ctx, store.LeaseQuery{SeriesID: req.SeriesID, Status: lease.Open, EndsBefore: e.now().Add(-skew), Limit: req.Limit})
	if err != nil {
		return nil, err
	}
	var out []lease.Lease
	for _, d := range due {
		l, ok, err := e.reclaim(ctx, ls, d.ID, skew)
		if err != nil {
			return out, err
		}
		if ok {
			out = append(out, l)
		}
	}
	return out, nil
}

// reclaim reclaims one lease if it has lapsed by the time it is read, and
// reports whether it did.
func (e *Engine) reclaim(ctx context.Context, ls store.LeaseStore, id string, skew time.Duration) (lease.Lease, bool, error) {
	var out lease.Lease
	var done bool
	err := e.retry(ctx, func() error {
		l, err := ls.Lease(ctx, id)
		if err != nil {
			return err
		}
		now := e.now()
		if !l.LapsedAt(now, skew) {
			done = false
			return nil
		}
		n, left, err := l.Reclaim(now, skew)
		if err != nil {
			return err
		}
		ch := &store.Change{Leases: []store.LeaseWrite{{Lease: n, ExpectVersion: l.Version}}}
		if left.Uses != 0 {
			ch.Bumps = []store.Bump{{Key: store.CounterKey{Counter: limits.SeriesUses, Series: l.SeriesID}, Delta: -left.Uses, At: now}}
		}
		if left.Money != 0 { // the unspent money goes back to the series' budget
			ch.Bumps = append(ch.Bumps, store.Bump{Key: store.CounterKey{Counter: limits.SeriesBudget, Series: l.SeriesID}, Delta: -left.Money, At: now})
		}
		if err := e.st.Apply(ctx, ch); err != nil {
			return err
		}
		out, done = n, true
		return nil
	})
	if done && err == nil && e.log != nil {
		e.logLease(ctx, "couponkit: lease reclaimed", &out, slog.Int64("delta", out.Reclaimed.Uses))
	}
	if errors.Is(err, errcode.ErrNotFound) {
		return out, false, nil
	}
	return out, done, err
}
