package couponkit

import (
	"context"
	"fmt"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/internal/input"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/observe"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// EventsAfter reads the event feed of the engine's store: at most limit
// events after the position after, in position order, and the position to
// resume from (that of the last event returned, or after when none is).
// Every change the engine makes appends its events atomically with it, so
// the feed is the durable record of everything that happened; a reader
// that resumes from the last position it handled never misses an event,
// however many engines write concurrently (see store.Store.EventsAfter).
// Package feed follows it with checkpoints and delivers each event at
// least once across crashes.
//
// A limit of 0 means store.DefaultFeedLimit; a negative one is an
// InvalidArgument error on "Limit", and a position past the store's last
// event a *store.FuturePositionError (errcode.ErrFuturePosition).
//
// Besides the history of every coupon and customer, the feed carries the
// notifications (coupon.Event.Notification): the issuance threshold
// (IssuanceThreshold, written by the issue that reached it), a reissue
// whose caller asked to notify the holder (Reissued with Notify), and
// expiry reminders that came due (ReminderDue, written by
// SweepReminders).
func (e *Engine) EventsAfter(ctx context.Context, after store.Position, limit int) (_ []store.FeedEvent, _ store.Position, err error) {
	ctx, o := e.begin(ctx, observe.EventsAfter, "")
	defer o.end(&err)
	if _, err := store.FeedLimit(limit); err != nil {
		return nil, after, err
	}
	return e.st.EventsAfter(ctx, after, limit)
}

// thresholdNotice is the notice that an issue of s at now carries when the
// series asks to be told that Issuance.NotifyRemaining coupons are left to
// issue: its IssuanceThreshold event, with an id from ids, written when the
// series' issued counter reaches MaxTotal less the threshold. Counters
// move one change at a time, so exactly one issue writes it, in its own
// atomic step. Nil when the series asks for no notification.
func thresholdNotice(s *series.Series, now time.Time, ids idSource) []store.Notice {
	n, max := s.Issuance.NotifyRemaining, int64(s.Issuance.MaxTotal)
	if n <= 0 || max <= 0 || n >= max {
		return nil
	}
	ev := coupon.ThresholdEvent(s.ID, n, now)
	ev.ID = ids.nextID()
	return []store.Notice{{Key: issueKeys(s.ID, "")[0], Reach: max - n, Event: ev}}
}

// reminderBatch is how many reminders SweepReminders records per change.
const reminderBatch = 500

// SweepReminders records on the event feed every expiry reminder that
// came due in (from, now]: one ReminderDue event (coupon.ReminderEvent)
// per coupon and reminder, for the coupon's holder, at the instant it
// came due, on the reminder's channel. It returns how many it recorded.
//
// Each coupon's reminder is recorded once, however often the sweep runs
// and however many engines run it at once: the change that records it
// also bumps a ReminderSent counter of the coupon and reminder guarded at
// one, so a second sweep over the same window adds nothing. Run it on a
// schedule, each time from a little before the previous run (an overlap
// costs a read, never a second reminder), and let a feed consumer send
// what it records. Which reminders are due is RemindersDue's rule: Issued
// coupons of active series, in the series' time zone.
func (e *Engine) SweepReminders(ctx context.Context, from time.Time) (_ int, err error) {
	ctx, o := e.begin(ctx, observe.SweepReminders, "")
	defer o.end(&err)
	if err := e.admit(input.Time("From", from)); err != nil {
		return 0, err
	}
	now := e.now()
	due, err := e.remindersDue(ctx, from, now)
	if err != nil {
		return 0, err
	}
	n := 0
	for start := 0; start < len(due); start += reminderBatch {
		k, err := e.recordReminders(ctx, due[start:min(start+reminderBatch, len(due))])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// recordReminders records the reminders of due that no change recorded
// before, in one change: it reads their ReminderSent counters, decides
// (reminderChange) and writes, again from the read when a concurrent
// sweep recorded some of them meanwhile.
func (e *Engine) recordReminders(ctx context.Context, due []ReminderDue) (int, error) {
	keys := make([]store.CounterKey, len(due))
	for i := range due {
		keys[i] = reminderKey(&due[i])
	}
	counts := make([]store.Count, len(keys))
	n := 0
	err := e.retry(ctx, func() error {
		if err := e.st.Counters(ctx, keys, counts); err != nil {
			return err
		}
		ch := reminderChange(due, keys, counts, e.now(), e)
		n = len(ch.Events)
		if n == 0 {
			return nil
		}
		return e.st.Apply(ctx, ch)
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// reminderChange is the change that records, at now, the reminders of due
// whose counters (keys, read as counts) show them unrecorded: for each, a
// ReminderDue event with an id from ids and a bump of its counter guarded
// at one. A reminder listed twice is recorded once.
func reminderChange(due []ReminderDue, keys []store.CounterKey, counts []store.Count, now time.Time, ids idSource) *store.Change {
	ch := &store.Change{}
	seen := make(map[store.CounterKey]bool, len(due))
	for i := range due {
		d := &due[i]
		if counts[i].N > 0 || seen[keys[i]] {
			continue
		}
		seen[keys[i]] = true
		r := d.Reminder
		ev := coupon.ReminderEvent(&d.Coupon, d.DueAt, r.Channel,
			fmt.Sprintf("expiry reminder %d days before the last valid day, at %02d:%02d", r.DaysBefore, r.At.Hour, r.At.Minute))
		ev.ID = ids.nextID()
		ch.Events = append(ch.Events, ev)
		ch.Bumps = append(ch.Bumps, store.Bump{Key: keys[i], Delta: 1, At: now,
			Guard: limits.Guard{Counter: limits.ReminderSent, Limit: 1}})
	}
	return ch
}

// reminderKey is the ReminderSent counter of a due reminder: its series,
// and the coupon id, a NUL byte and the reminder (days before, time of
// day, channel) as its code scope.
func reminderKey(d *ReminderDue) store.CounterKey {
	r := d.Reminder
	return store.CounterKey{Counter: limits.ReminderSent, Series: d.SeriesID,
		Code: fmt.Sprintf("%s\x00%d/%02d:%02d/%s", d.Coupon.ID, r.DaysBefore, r.At.Hour, r.At.Minute, r.Channel)}
}
