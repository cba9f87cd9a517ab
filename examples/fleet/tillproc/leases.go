package tillproc

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
)

// lease gets the till a new lease: it first sends again a grant asked
// before a restart and never answered, then asks for LeaseUses uses, half
// as many after each refusal for lack of uses. A grant refused for one
// use marks the offer sold out.
func (n *node) lease(ctx context.Context) error {
	calls, err := pendingCalls(ctx, n.db, "grant")
	if err != nil {
		return err
	}
	var c call
	if len(calls) > 0 {
		c = calls[0]
	} else if c, err = n.newGrant(ctx, n.o.LeaseUses); err != nil {
		return err
	}
	for {
		res, err := n.c.GrantLease(ctx, couponkit.LeaseRequest{Till: n.o.Till, SeriesID: n.o.SeriesID, Key: c.key, Uses: c.uses, End: c.end})
		if err == nil {
			if err := n.keep(ctx, res.Lease); err != nil {
				return err
			}
			n.lg.Printf("lease %s: %d uses until %s", res.Lease.ID, res.Lease.Granted.Uses, res.Lease.End.Format(time.TimeOnly))
			return dropCall(ctx, n.db, c.key)
		}
		if !refusedBy(err) {
			return err // out of reach: the call is sent again next time
		}
		if err := dropCall(ctx, n.db, c.key); err != nil {
			return err
		}
		if !errors.Is(err, errcode.ErrLimitReached) {
			return err
		}
		if c.uses == 1 {
			n.soldOut = true
			n.lg.Printf("the offer is sold out")
			return err
		}
		if c, err = n.newGrant(ctx, c.uses/2); err != nil {
			return err
		}
	}
}

// newGrant writes down a new grant call of uses before it is sent.
func (n *node) newGrant(ctx context.Context, uses int64) (call, error) {
	key, err := newKey(ctx, n.db, "grant-")
	if err != nil {
		return call{}, err
	}
	c := call{key: key, kind: "grant", uses: max(uses, 1), end: time.Now().Add(n.o.LeaseFor).UTC().Truncate(time.Microsecond)}
	return c, saveCall(ctx, n.db, c)
}

// keep records the central's answer about a lease, in the journal and in
// the till's own table.
func (n *node) keep(ctx context.Context, l lease.Lease) error {
	if err := n.j.PutLease(ctx, l); err != nil {
		return err
	}
	return saveLease(ctx, n.db, l)
}

// finish syncs the whole journal, learns the answers of grants it never
// had, then returns what the till has left of each lease, trying until
// o.Finish has passed.
func (n *node) finish(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, n.o.Finish)
	defer cancel()
	for {
		err := n.syncAll(ctx)
		if err == nil {
			err = n.resendGrants(ctx)
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

// resendGrants sends again the grants asked and never answered, so that
// the till learns of a lease the central granted before the till was
// killed, and returns it with the others.
func (n *node) resendGrants(ctx context.Context) error {
	calls, err := pendingCalls(ctx, n.db, "grant")
	if err != nil {
		return err
	}
	for _, c := range calls {
		res, err := n.c.GrantLease(ctx, couponkit.LeaseRequest{Till: n.o.Till, SeriesID: n.o.SeriesID, Key: c.key, Uses: c.uses, End: c.end})
		if err == nil {
			err = n.keep(ctx, res.Lease)
		}
		if err != nil && !refusedBy(err) {
			return err
		}
		if err := dropCall(ctx, n.db, c.key); err != nil {
			return err
		}
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
	ls, err := leases(ctx, n.db)
	if err != nil {
		return err
	}
	for _, l := range ls {
		left, err := n.j.Left(ctx, l.ID)
		if err != nil {
			return err
		}
		if left <= 0 || l.Status != lease.Open {
			continue
		}
		// Unusable here first, then written down: a till killed in
		// between never returns those uses, and the central reclaims
		// them once the lease lapses; it never returns a use it made.
		if err := n.j.ReserveReturn(ctx, l.ID, left, "return-"+l.ID); err != nil {
			return err
		}
		if err := saveCall(ctx, n.db, call{key: "return-" + l.ID, kind: "return", leaseID: l.ID, uses: left}); err != nil {
			return err
		}
	}
	calls, err := pendingCalls(ctx, n.db, "return")
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
		// The answer ends the journal's reservation and keeps the lease
		// in one transaction.
		if err := n.j.SettleCall(ctx, c.key, &res.Lease); err != nil {
			return err
		}
		if err := saveLease(ctx, n.db, res.Lease); err != nil {
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
