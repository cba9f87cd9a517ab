package tillproc

import (
	"context"
	"database/sql"
	"errors"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/refusal"
)

// A sale the till asked the central in vain (its answer lost, or past the
// deadline) and then refused or declined offline may have been used at the
// central all the same: the central made the use, and the till, which
// gave no discount, holds none. The till settles such a sale later: it
// asks for the sale again under its key (Till.Redeem: the central answers
// with the use it made, or makes it now; or the till decides it offline)
// and gives the use back at once (Journal.Reverse). Either way the
// central and the till end with the same use, given back, recorded once.
// A sale the central refuses then was never used there: it is settled
// with nothing to give back.

// settle settles the unsettled attempts and gives back the voided ones,
// and returns how many are left to settle (the central out of reach).
func (n *node) settle(ctx context.Context) (int, error) {
	as, err := unsettled(ctx, n.db)
	if err != nil {
		return 0, err
	}
	left := 0
	for _, a := range as {
		o, err := outcomeOf(ctx, n.db, a)
		if err != nil {
			return left, err
		}
		if o != voided {
			used, done, err := n.void(ctx, a)
			if err != nil {
				return left, err
			}
			if !done {
				left++
			}
			if !used {
				continue
			}
		}
		err = n.giveBack(ctx, n.use(a).Key)
		if errors.Is(err, errcode.ErrUnavailable) {
			left++ // no lease yet to report the reversal under
			continue
		}
		if err != nil {
			return left, err
		}
		n.lg.Printf("sale %s voided: used under its key and given back", n.use(a).Key)
	}
	return left, nil
}

// void asks for unsettled attempt a again under its key, and reports
// whether the use was made (to be given back) and whether the attempt is
// settled.
func (n *node) void(ctx context.Context, a int) (used, done bool, err error) {
	u := n.use(a)
	n.c.asking()
	_, err = n.t.Redeem(ctx, u, func(tx *sql.Tx) error { return recordVoid(ctx, tx, a, voided, n.c.answered == u.Key) })
	var re *refusal.Error
	switch {
	case err == nil:
		return true, true, nil
	case n.c.refused == u.Key && (errors.As(err, &re) || errors.Is(err, errcode.ErrLimitReached)):
		// The central's refusal: it never made the use.
		return false, true, recordVoid(ctx, n.db, a, "", false)
	case errors.As(err, &re), errors.Is(err, errcode.ErrLimitReached), errors.Is(err, errcode.ErrNoLease),
		errors.Is(err, errcode.ErrUnavailable), errors.Is(err, errcode.ErrAllowanceExceeded):
		return false, false, nil // asked in vain again, and refused or declined offline
	}
	return false, false, err
}
