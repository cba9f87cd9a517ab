package couponkit

import (
	"context"
	"errors"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/store"
)

// Reversals in a till's journal: an entry with Reverses set gives back
// the whole use the till recorded under that key. The use goes back to the
// series and to its code and customer levels, as Engine.Reverse gives
// back a redemption, never to the lease: the lease's Used counts the uses
// the till reported, and the series' use counter, which counted the lease
// when it was granted, is given the use back directly. Hence, for every
// series, at every moment:
//
//	series use counter = unreversed uses counted on the series
//	                   + Σ over leases (Granted - Returned - Reclaimed)
//	                   - reversed uses counted on leases
//
// where a use is a redemption (central, or of a till's recorded entry) or
// a till's conflicted entry, which has no redemption.

// checkReversal refuses a reversal x whose use is neither recorded nor
// among uses (the uses earlier in its batch), or that names another
// reversal, or a use of another code or customer.
func checkReversal(ctx context.Context, ls store.LeaseStore, till string, x *JournalEntry, uses map[string]*JournalEntry) error {
	code, customer := "", ""
	t, err := ls.TillEntry(ctx, till, x.Reverses)
	switch {
	case err == nil && t.Reverses != "":
		return errcode.New(errcode.InvalidArgument, "Reverses", "names a reversal, "+x.Reverses+", not a use")
	case err == nil:
		code, customer = t.Code, t.Customer
	case !errors.Is(err, errcode.ErrNotFound):
		return err
	case uses[x.Reverses] == nil:
		return errcode.New(errcode.NotFound, "Reverses", "the till recorded no use under key "+x.Reverses)
	default:
		code, customer = uses[x.Reverses].Code, uses[x.Reverses].Customer
	}
	if code != x.Code || customer != x.Customer {
		return errcode.New(errcode.InvalidArgument, "Reverses", "names a use of another code or customer")
	}
	return nil
}

// reversalChange builds the change that records the reversal x on lease l:
// the use recorded under x.Reverses given back (giveBackEntry) and marked
// Reversed, and the reversal's own record. A use given back already (by
// another reversal, or its redemption by an operator's Reverse) is not
// given back again: the reversal is recorded with an AlreadyReversed
// conflict saying so.
func (e *Engine) reversalChange(ctx context.Context, till string, x *JournalEntry, l *lease.Lease) (*store.Change, lease.Entry, error) {
	ls, err := e.leaseStore()
	if err != nil {
		return nil, lease.Entry{}, err
	}
	t, err := ls.TillEntry(ctx, till, x.Reverses)
	if err != nil {
		return nil, lease.Entry{}, err
	}
	now := e.now()
	rec := lease.Entry{Till: till, Key: x.Key, LeaseID: x.LeaseID, SeriesID: l.SeriesID, Code: x.Code, Customer: x.Customer,
		Bill: x.Bill, Discount: t.Discount, At: x.At, Applied: now, Counted: t.Counted, RedemptionID: t.RedemptionID, Reverses: x.Reverses}
	ch := &store.Change{}
	if t.Reversed.IsZero() {
		given, err := e.giveBackEntry(ctx, ch, &t, till, x.Key, now)
		if err != nil {
			return nil, rec, err
		}
		if !given {
			rec.Conflicts = alreadyReversed("its redemption was reversed at the central already")
		}
		marked := t
		marked.Reversed = now
		ch.TillEntryUpdates = []store.TillEntryUpdate{{Entry: marked}}
	} else {
		rec.Conflicts = alreadyReversed("the use was given back already")
	}
	ch.TillEntries = []lease.Entry{rec}
	return ch, rec, nil
}

func alreadyReversed(msg string) []refusal.Refusal {
	return []refusal.Refusal{{Code: errcode.AlreadyReversed, Message: msg}}
}

// giveBackEntry adds to ch what gives back the recorded use t at now, and
// reports whether it gave anything back: its redemption reversed as
// Engine.Reverse reverses it (every level it took, the series' included),
// or, for a conflicted use, which took only the series' use counter, that
// one use. A redemption reversed already gives nothing back.
func (e *Engine) giveBackEntry(ctx context.Context, ch *store.Change, t *lease.Entry, till, key string, now time.Time) (bool, error) {
	if t.RedemptionID == "" {
		k := store.CounterKey{Counter: limits.SeriesUses, Series: t.SeriesID}
		ch.Bumps = []store.Bump{{Key: k, Delta: -1, At: now}}
		giveBackLeaseMoney(ch, t, store.Bump{At: now})
		return true, nil
	}
	r, c, _, err := e.redemption(ctx, t.RedemptionID)
	if err != nil {
		return false, err
	}
	if r.Status == coupon.StatusReversed {
		return false, nil
	}
	w, err := reverseWrite(&r, &c, now, "till "+till, "reversed at the till (key "+key+")")
	if err != nil {
		return false, err
	}
	g, err := e.readGiveBack(ctx, &r, &c)
	if err != nil {
		return false, err
	}
	w.bumps = giveBackBumps(&g, &r, now)
	wc := w.change(e)
	ch.Coupons, ch.Redemptions, ch.Bumps, ch.Events = wc.Coupons, wc.Redemptions, wc.Bumps, wc.Events
	return true, nil
}
