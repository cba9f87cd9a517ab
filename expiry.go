package couponkit

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/internal/input"
	"github.com/couponkit/couponkit/observe"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// expireBatch is how many coupons the expiry sweep updates per store call.
const expireBatch = 1000

// ExpireDue marks every Available or Issued coupon whose expiry has passed
// as Expired, in batches, with an Expired event each, and returns how many
// it marked. A coupon's state is already Expired from the clock's point of
// view (coupon.StateAt); the sweep makes the stored state and the history
// say so. It is safe to run concurrently and to resume after a crash.
func (e *Engine) ExpireDue(ctx context.Context) (_ int, err error) {
	ctx, o := e.begin(ctx, observe.ExpireDue, "")
	defer o.end(&err)
	if err := e.admit(nil); err != nil {
		return 0, err
	}
	f, u := expireDue(e.now(), e)
	n := 0
	for {
		var out []coupon.Coupon
		err := e.rerun(ctx, func() (err error) {
			out, err = e.st.UpdateWhere(ctx, f, u)
			return err
		})
		n += len(out)
		if err != nil || len(out) < expireBatch {
			return n, err
		}
	}
}

// expireDue is the sweep of ExpireDue at now, one batch at a time: which
// coupons it takes (Available or Issued, expired before now), and the
// update to Expired with its event, whose ids start with an id from ids.
func expireDue(now time.Time, ids idSource) (store.CouponFilter, store.BulkUpdate) {
	f := store.CouponFilter{States: []coupon.State{coupon.Available, coupon.Issued}, ExpiresBefore: now}
	u := store.BulkUpdate{
		To: coupon.Expired, At: now, Limit: expireBatch,
		Event:         coupon.Event{Kind: coupon.EventExpired, At: now, Reason: "expiry passed"},
		EventIDPrefix: ids.nextID() + "-",
	}
	return f, u
}

// ReminderDue is an expiry reminder to send: which coupon, which reminder of
// its series, and when it is due, with times in the series' time zone.
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
	ctx, o := e.begin(ctx, observe.RemindersDue, "")
	due, err := e.remindersDue(ctx, from, to)
	o.end(&err)
	return due, err
}

// remindersDue is RemindersDue, unobserved: SweepReminders reads with it.
func (e *Engine) remindersDue(ctx context.Context, from, to time.Time) ([]ReminderDue, error) {
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
			out = appendDue(out, s, loc, cs, from, to)
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

// appendDue appends to out the reminders of series s, whose time zone is
// loc, due in (from, to] for the coupons cs: each reminder of the series
// whose due time, series.Reminder.DueAt of the coupon's expiry, falls in
// the window.
func appendDue(out []ReminderDue, s *series.Series, loc *time.Location, cs []coupon.Coupon, from, to time.Time) []ReminderDue {
	for _, c := range cs {
		for _, r := range s.Reminders {
			if due := r.DueAt(c.ExpiresAt, loc); due.After(from) && !due.After(to) {
				out = append(out, ReminderDue{SeriesID: s.ID, Coupon: c.In(loc), Reminder: r, DueAt: due, ExpiresAt: c.ExpiresAt.In(loc)})
			}
		}
	}
	return out
}
