package tillproc

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/till"
)

// sizer is the till's lease size policy (till.Config.Size): LeaseUses
// uses (no more than the series has left), halved after each grant or top-up the series could not fit, and
// back to LeaseUses after one it did. Till.Sync calls it from the one
// goroutine that syncs.
type sizer struct {
	full, cap, last int64
	done            bool // the till has finished selling: it asks for none
}

func newSizer(uses int64) *sizer { return &sizer{full: max(uses, 1), cap: max(uses, 1)} }

// size is the policy: the current cap, or what the series had left by
// the central's last answer when that is less (at least 1, so that a
// till learns when the offer is sold out: a call the series cannot fit is
// refused, and halves the cap).
func (s *sizer) size(in lease.SizeInput) int64 {
	if s.done {
		return 0
	}
	s.last = s.cap
	if in.Remaining >= 0 && in.Remaining < s.last {
		s.last = max(in.Remaining, 1)
	}
	return s.last
}

// sync runs Till.Sync: it uploads the journal, settles the sales in
// doubt, grants, renews, tops up or returns leases by the size policy,
// and reads the feed. A grant or top-up refused for lack of uses halves
// the policy's size; one refused for a single use marks the offer sold
// out. Failures to reach the central are not returned: the till sells on.
func (n *node) sync(ctx context.Context) error {
	n.lastSync = time.Now()
	_, err := n.tillSync(ctx)
	if err == nil || !errors.Is(err, errcode.ErrLimitReached) || !refusedBy(err) {
		return nil
	}
	if n.size.last <= 1 {
		n.soldOut = true
		n.lg.Printf("the offer is sold out")
		return nil
	}
	n.size.cap = max(1, n.size.last/2)
	return nil
}

// tillSync runs Till.Sync and logs what it did.
func (n *node) tillSync(ctx context.Context) (till.SyncReport, error) {
	rep, err := n.t.Sync(ctx)
	for _, a := range rep.Leases {
		n.lg.Printf("%s of lease %s: %d uses, until %s", a.Kind, a.LeaseID, a.Uses, a.End.Format(time.TimeOnly))
		if a.Kind == lease.Grant || a.Kind == lease.TopUp {
			n.size.cap = n.size.full
		}
	}
	if rep.Voided > 0 || rep.InDoubt > 0 {
		n.lg.Printf("sales in doubt: %d voided (used at the central and given back), %d still in doubt", rep.Voided, rep.InDoubt)
	}
	return rep, err
}

// finish syncs (Till.Sync) until the till holds no sale in doubt, syncs
// the whole journal, then returns what the till has left of each lease,
// trying until o.Finish has passed. The size policy asks for no more
// uses meanwhile.
func (n *node) finish(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, n.o.Finish)
	defer cancel()
	n.size.done = true
	for {
		err := n.settle(ctx)
		if err == nil {
			err = n.syncAll(ctx)
		}
		if err == nil {
			err = n.returnLeftovers(ctx)
		}
		if err == nil || refusedBy(err) && !errors.Is(err, errcode.ErrUnavailable) {
			return err
		}
		if ctx.Err() != nil {
			return fmt.Errorf("tillproc: the central stayed out of reach: %w", err)
		}
		_ = sleep(ctx, 100*time.Millisecond)
	}
}

// settle runs Till.Sync, which settles the sales in doubt, and fails
// (errcode.Unavailable) while the journal holds one: the central did not
// answer about it. Another failure of the sync is left to syncAll and
// returnLeftovers.
func (n *node) settle(ctx context.Context) error {
	_, err := n.tillSync(ctx)
	ds, derr := n.j.Doubts(context.WithoutCancel(ctx)) // a local read, to say why
	if derr != nil {
		return derr
	}
	if len(ds) > 0 {
		return errcode.Wrap(errcode.Unavailable, err, fmt.Sprintf("%d sales are in doubt", len(ds)))
	}
	return nil
}

// syncAll uploads the journal until nothing is pending.
func (n *node) syncAll(ctx context.Context) error {
	if _, err := n.j.Sync(ctx, n.o.Till, n.c, 100); err != nil {
		return err
	}
	left, err := n.j.Pending(ctx, 0, 1)
	if err == nil && len(left) > 0 {
		err = errcode.New(errcode.Unavailable, "", "entries are still pending")
	}
	return err
}

// returnLeftovers gives back the uses the till has not made of each
// lease. Each return is first written down, with its uses set aside in the
// journal (ReserveReturn) so that the till no longer uses them, then sent;
// a restarted till sends it again with the same key.
func (n *node) returnLeftovers(ctx context.Context) error {
	ls, err := n.j.Leases(ctx)
	if err != nil {
		return err
	}
	for _, l := range ls {
		left := l.Left()
		if left <= 0 || l.Closed {
			continue
		}
		// Unusable here first, then written down: a till killed in
		// between never returns those uses, and the central reclaims
		// them once the lease lapses; it never returns a use it made.
		if err := n.j.ReserveReturn(ctx, l.ID, left, "return-"+l.ID); err != nil {
			return err
		}
		if err := saveCall(ctx, n.db, call{key: "return-" + l.ID, leaseID: l.ID, uses: left}); err != nil {
			return err
		}
	}
	calls, err := pendingCalls(ctx, n.db)
	if err != nil {
		return err
	}
	for _, c := range calls {
		if err := n.sendReturn(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// sendReturn sends a written-down return; a refused one (the lease was
// reclaimed meanwhile) is dropped: the central took the uses back itself.
func (n *node) sendReturn(ctx context.Context, c call) error {
	res, err := n.c.ReturnLease(ctx, couponkit.LeaseCall{Till: n.o.Till, LeaseID: c.leaseID, Key: c.key, Uses: c.uses})
	switch {
	case err == nil:
		// The answer ends the journal's reservation and keeps the lease,
		// in one transaction.
		if err := n.j.SettleCall(ctx, c.key, &res.Lease); err != nil {
			return err
		}
		n.returned += c.uses
		n.lg.Printf("returned %d uses of lease %s", c.uses, c.leaseID)
	case refusedBy(err):
		n.lg.Printf("return of %d uses of lease %s refused: %v", c.uses, c.leaseID, err)
	default:
		return err
	}
	return dropCall(ctx, n.db, c.key)
}
