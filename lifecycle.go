package couponkit

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// TransferRequest moves an issued coupon to another customer.
type TransferRequest struct {
	Code     string
	SeriesID string
	// From, when set, must be the coupon's holder.
	From   CustomerRef
	To     CustomerRef
	Actor  string
	Reason string
}

// Transfer moves an Issued coupon to another customer, if the series allows
// transfers. Both customers' histories get an event: TransferredOut for the
// old holder, TransferReceived for the new one.
func (e *Engine) Transfer(ctx context.Context, req TransferRequest) (coupon.Coupon, error) {
	to, err := e.customers.Resolve(ctx, req.To)
	if err != nil {
		return coupon.Coupon{}, err
	}
	from := ""
	if !req.From.IsZero() {
		f, err := e.customers.Resolve(ctx, req.From)
		if err != nil {
			return coupon.Coupon{}, err
		}
		from = f.ID
	}
	var out coupon.Coupon
	err = e.retry(ctx, func() error {
		c, s, err := e.couponOf(ctx, req.SeriesID, req.Code, from)
		if err != nil {
			return err
		}
		if from != "" && c.Holder != from {
			return errcode.New(errcode.NotHolder, "From", "the coupon is not held by "+req.From.String())
		}
		now := e.now()
		if err := checkOpen(s, now); err != nil {
			return err
		}
		moved, evs, err := coupon.Transfer(c, to.ID, now, req.Actor, s.Transferable)
		if err != nil {
			return err
		}
		for i := range evs {
			evs[i].ID, evs[i].Reason = e.newID(), req.Reason
		}
		err = e.st.Apply(ctx, &store.Change{Coupons: []store.CouponUpdate{{Coupon: moved, ExpectVersion: c.Version}}, Events: evs})
		if errors.Is(err, errcode.ErrAlreadyExists) {
			return errcode.New(errcode.CommonCodeIssued, "To", "the customer already holds this common code")
		}
		out = moved
		return err
	})
	return out, err
}

// couponOf finds the one coupon a code names: for a common code, the
// holder's (holder must then be given).
func (e *Engine) couponOf(ctx context.Context, seriesID, code, holder string) (coupon.Coupon, *series.Series, error) {
	cs, sp, err := e.lookupCode(ctx, seriesID, code, nil)
	if err != nil {
		return coupon.Coupon{}, nil, err
	}
	s, err := e.single(ctx, cs, sp, code)
	if err != nil {
		return coupon.Coupon{}, nil, err
	}
	if !s.Source.SharedCode() {
		return cs[0], s, nil
	}
	if holder == "" {
		return coupon.Coupon{}, nil, errcode.New(errcode.GenericNotSupported, "Customer", "a common code names one coupon per customer; give the customer")
	}
	for _, c := range cs {
		if c.Holder == holder {
			return c, s, nil
		}
	}
	return coupon.Coupon{}, nil, codeNotFound(code)
}

// ReissueRequest asks for a replacement of an unusable coupon.
type ReissueRequest struct {
	Code     string
	SeriesID string
	// Notify records that the holder is to be sent the new code.
	Notify bool
	Actor  string
}

// ReissueResult is the replaced coupon and its replacement.
type ReissueResult struct {
	Old, New coupon.Coupon
}

// Reissue replaces a coupon its holder can no longer use (expired, revoked
// or fully redeemed) by a fresh code of the same series, once per coupon.
// The old code stays for audit but no longer belongs to the customer; the
// event records old and new code, actor and Notify. Errors: StillUsable,
// AlreadyReissued, ExternalProvider (third-party codes), PoolEmpty.
func (e *Engine) Reissue(ctx context.Context, req ReissueRequest) (ReissueResult, error) {
	var out ReissueResult
	err := e.retry(ctx, func() error {
		cs, sp, err := e.lookupCode(ctx, req.SeriesID, req.Code, nil)
		if err != nil {
			return err
		}
		s, err := e.single(ctx, cs, sp, req.Code)
		if err != nil {
			return err
		}
		old := cs[0]
		now := e.now()
		if s.Source.External() {
			return errcode.New(errcode.ExternalProvider, "Code", "codes from an outside provider cannot be reissued")
		}
		if s.Source.SharedCode() {
			return errcode.New(errcode.PoolEmpty, "SeriesID", "a common code has no pool to draw a replacement from")
		}
		// Refuse before drawing a code when the old coupon cannot be reissued.
		if _, _, _, err := coupon.Reissue(old, coupon.Coupon{}, now, coupon.ReissueParams{}); err != nil && !errors.Is(err, errcode.ErrInvalidArgument) {
			return err
		}
		fresh, minted, claim, err := e.freshCoupon(ctx, s, "", req.Actor)
		if err != nil {
			return err
		}
		defer claim.release()
		loc, err := e.location(s)
		if err != nil {
			return err
		}
		o, n, ev, err := coupon.Reissue(old, fresh, now, coupon.ReissueParams{
			Actor: req.Actor, Notify: req.Notify, ExpiresAt: s.ExpiresAt(now, loc)})
		if err != nil {
			return err
		}
		ev.ID = e.newID()
		ch := &store.Change{Coupons: []store.CouponUpdate{{Coupon: o, ExpectVersion: old.Version}}, Events: []coupon.Event{ev}, Sequence: claim.advance()}
		if minted {
			ch.NewCoupons = []coupon.Coupon{n}
		} else {
			ch.Coupons = append(ch.Coupons, store.CouponUpdate{Coupon: n, ExpectVersion: fresh.Version})
		}
		out = ReissueResult{Old: o, New: n}
		return e.st.Apply(ctx, ch)
	})
	return out, err
}

// expireBatch is how many coupons the expiry sweep updates per store call.
const expireBatch = 1000

// ExpireDue marks every Available or Issued coupon whose expiry has passed
// as Expired, in batches, with an Expired event each, and returns how many
// it marked. A coupon's state is already Expired from the clock's point of
// view (coupon.StateAt); the sweep makes the stored state and the history
// say so. It is safe to run concurrently and to resume after a crash.
func (e *Engine) ExpireDue(ctx context.Context) (int, error) {
	now := e.now()
	f := store.CouponFilter{States: []coupon.State{coupon.Available, coupon.Issued}, ExpiresBefore: now}
	u := store.BulkUpdate{
		To: coupon.Expired, At: now, Limit: expireBatch,
		Event:         coupon.Event{Kind: coupon.EventExpired, At: now, Reason: "expiry passed"},
		EventIDPrefix: e.newID() + "-",
	}
	n := 0
	for {
		out, err := e.st.UpdateWhere(ctx, f, u)
		n += len(out)
		if err != nil || len(out) < expireBatch {
			return n, err
		}
	}
}

// ReminderDue is an expiry reminder to send: which coupon, which reminder of
// its series, and when it is due.
type ReminderDue struct {
	SeriesID  string
	Coupon    coupon.Coupon
	Reminder  series.Reminder
	DueAt     time.Time
	ExpiresAt time.Time
}

// RemindersDue returns the expiry reminders due in (from, to]: for each
// active series with reminders, each Issued coupon whose reminder time
// (expiry minus lead) falls in the window. Ordered by due time, then coupon
// id.
func (e *Engine) RemindersDue(ctx context.Context, from, to time.Time) ([]ReminderDue, error) {
	all, err := e.st.ListSeries(ctx, store.SeriesQuery{Status: series.Active})
	if err != nil {
		return nil, err
	}
	var out []ReminderDue
	for _, s := range all {
		for _, r := range s.Reminders {
			cs, err := e.st.ListCoupons(ctx, store.CouponQuery{CouponFilter: store.CouponFilter{
				SeriesID: s.ID, States: []coupon.State{coupon.Issued},
				ExpiresAfter: from.Add(r.Lead), ExpiresBefore: to.Add(r.Lead),
			}})
			if err != nil {
				return nil, err
			}
			for _, c := range cs {
				out = append(out, ReminderDue{SeriesID: s.ID, Coupon: c, Reminder: r, DueAt: r.DueAt(c.ExpiresAt), ExpiresAt: c.ExpiresAt})
			}
		}
	}
	slices.SortFunc(out, func(a, b ReminderDue) int {
		if c := a.DueAt.Compare(b.DueAt); c != 0 {
			return c
		}
		return strings.Compare(a.Coupon.ID, b.Coupon.ID)
	})
	return out, nil
}
