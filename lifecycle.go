package couponkit

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/internal/input"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// TransferRequest moves an issued coupon to another customer.
type TransferRequest struct {
	Code string `json:"code"`
	// SeriesID names the series; needed only when the code exists in
	// several series.
	SeriesID string `json:"series_id,omitempty"`
	// From is required and must be the coupon's holder: a back-office
	// transfer passes the holder it shows.
	From   CustomerRef `json:"from"`
	To     CustomerRef `json:"to"`
	Actor  string      `json:"actor,omitempty"`
	Reason string      `json:"reason,omitempty"`
}

// Transfer moves an Issued coupon to another customer, if the series allows
// transfers. Both customers' histories get an event: TransferredOut for the
// old holder, TransferReceived for the new one.
//
// Who may call it: the holder, or a back office acting for them. From must
// name the current holder; a code From does not hold is refused as an
// unknown code is (ErrCouponNotFound), and the coupon stays where it was.
func (e *Engine) Transfer(ctx context.Context, req TransferRequest) (coupon.Coupon, error) {
	if err := e.admit(req.validate()); err != nil {
		return coupon.Coupon{}, err
	}
	if req.From.IsZero() {
		return coupon.Coupon{}, errcode.New(errcode.InvalidArgument, "From", "is required: name the coupon's current holder")
	}
	to, err := e.customers.Resolve(ctx, req.To)
	if err != nil {
		return coupon.Coupon{}, err
	}
	f, err := e.customers.Resolve(ctx, req.From)
	if err != nil {
		return coupon.Coupon{}, err
	}
	from := f.ID
	var out coupon.Coupon
	err = e.retry(ctx, func() error {
		c, s, err := e.couponOf(ctx, req.SeriesID, req.Code, from)
		if err != nil {
			return err
		}
		if c.Holder != from {
			return codeNotFound(req.Code)
		}
		now := e.now()
		loc, err := e.location(s)
		if err != nil {
			return err
		}
		if err := checkOpen(s, now.In(loc)); err != nil {
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
		out = moved.In(loc)
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
	Code string `json:"code"`
	// SeriesID names the series; needed only when the code exists in
	// several series.
	SeriesID string `json:"series_id,omitempty"`
	// Notify records that the holder is to be sent the new code.
	Notify bool   `json:"notify,omitempty"`
	Actor  string `json:"actor,omitempty"`
}

// ReissueResult is the replaced coupon and its replacement.
type ReissueResult struct {
	Old coupon.Coupon `json:"old"`
	New coupon.Coupon `json:"new"`
}

// Reissue replaces a coupon its holder can no longer use (expired, revoked
// or fully redeemed) by a fresh code of the same series, once per coupon.
// The old code stays for audit but no longer belongs to the customer; the
// event records old and new code, actor and Notify. Errors: StillUsable,
// AlreadyReissued, ExternalProvider (third-party codes), PoolEmpty.
func (e *Engine) Reissue(ctx context.Context, req ReissueRequest) (ReissueResult, error) {
	if err := e.admit(req.validate()); err != nil {
		return ReissueResult{}, err
	}
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
	if err := e.admit(nil); err != nil {
		return 0, err
	}
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
	SeriesID  string          `json:"series_id"`
	Coupon    coupon.Coupon   `json:"coupon"`
	Reminder  series.Reminder `json:"reminder"`
	DueAt     time.Time       `json:"due_at"`
	ExpiresAt time.Time       `json:"expires_at"`
}

// RemindersDue returns the expiry reminders due in (from, to]: for each
// active series with reminders, each Issued coupon and each reminder of the
// series whose due time, series.Reminder.DueAt of the coupon's ExpiresAt in
// the series' time zone, falls in the window. A coupon that never expires
// gets none. Ordered by due time, then coupon id, then the reminder's place
// in the series.
//
// It reads, per series, only the coupons whose expiry lies in a window
// around (from, to] shifted by each reminder's days (a day either side, and
// two more for clock changes), then keeps exactly the reminders due in
// (from, to].
func (e *Engine) RemindersDue(ctx context.Context, from, to time.Time) ([]ReminderDue, error) {
	if err := e.admit(first(input.Time("From", from), input.Time("To", to))); err != nil {
		return nil, err
	}
	if !to.After(from) {
		return nil, nil
	}
	all, err := e.st.ListSeries(ctx, store.SeriesQuery{Status: series.Active})
	if err != nil {
		return nil, err
	}
	var out []ReminderDue
	for i := range all {
		s := &all[i]
		if len(s.Reminders) == 0 {
			continue
		}
		loc, err := e.location(s)
		if err != nil {
			return nil, err
		}
		for _, w := range reminderWindows(s.Reminders, from, to) {
			cs, err := e.st.ListCoupons(ctx, store.CouponQuery{CouponFilter: store.CouponFilter{
				SeriesID: s.ID, States: []coupon.State{coupon.Issued},
				ExpiresAfter: w.after, ExpiresBefore: w.before,
			}})
			if err != nil {
				return nil, err
			}
			for _, c := range cs {
				for _, r := range s.Reminders {
					if due := r.DueAt(c.ExpiresAt, loc); due.After(from) && !due.After(to) {
						out = append(out, ReminderDue{SeriesID: s.ID, Coupon: c, Reminder: r, DueAt: due, ExpiresAt: c.ExpiresAt})
					}
				}
			}
		}
	}
	// Stable: a coupon's reminders due at one instant keep the series' order.
	slices.SortStableFunc(out, func(a, b ReminderDue) int {
		if c := a.DueAt.Compare(b.DueAt); c != 0 {
			return c
		}
		return strings.Compare(a.Coupon.ID, b.Coupon.ID)
	})
	return out, nil
}

// expiryWindow is the expiries (after, before] of coupons to read.
type expiryWindow struct{ after, before time.Time }

// reminderWindows returns disjoint windows of expiry, in order, that hold
// the expiry of every coupon with a reminder of rs due in (from, to]. A
// reminder DaysBefore = N days before the last valid day is due on the
// local date N days before the date of the instant before expiry, so expiry
// lies more than N-1 and at most N+1 days after it; two days more each
// side cover clock changes (the largest skipped a whole day).
func reminderWindows(rs []series.Reminder, from, to time.Time) []expiryWindow {
	const day, margin = 24 * time.Hour, 48 * time.Hour
	ws := make([]expiryWindow, 0, len(rs))
	for _, r := range rs {
		n := time.Duration(min(max(r.DaysBefore, 0), series.MaxReminderDays))
		ws = append(ws, expiryWindow{after: from.Add((n-1)*day - margin), before: to.Add((n+1)*day + margin)})
	}
	slices.SortFunc(ws, func(a, b expiryWindow) int { return a.after.Compare(b.after) })
	out := ws[:1]
	for _, w := range ws[1:] {
		last := &out[len(out)-1]
		if w.after.After(last.before) {
			out = append(out, w)
		} else if w.before.After(last.before) {
			last.before = w.before
		}
	}
	return out
}
