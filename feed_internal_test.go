package couponkit

import (
	"context"
	"testing"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/memstore"
)

// An issue carries the threshold notice exactly when its series asks for
// one: on the series' issued counter, at MaxTotal less the threshold.
func TestThresholdNotice(t *testing.T) {
	s := decideSeries(series.Generated, limits.RedemptionRules{})
	if got := thresholdNotice(s, decideNow, &seqIDs{}); got != nil {
		t.Errorf("a series without NotifyRemaining: %+v", got)
	}
	s.Issuance.MaxTotal, s.Issuance.NotifyRemaining = 100, 10
	got := thresholdNotice(s, decideNow, &seqIDs{})
	want := store.CounterKey{Counter: limits.SeriesIssued, Series: s.ID}
	if len(got) != 1 || got[0].Key != want || got[0].Reach != 90 || got[0].Event.ID != "id-1" ||
		got[0].Event.Kind != coupon.EventIssuanceThreshold || got[0].Event.Remaining != 10 || !got[0].Event.At.Equal(decideNow) {
		t.Errorf("thresholdNotice = %+v", got)
	}
}

// The reminder sweep's change records the reminders whose counters read
// zero, once each, each with a bump guarded at one; a reminder read as
// recorded, or listed twice, is left out.
func TestReminderChange(t *testing.T) {
	r := series.Reminder{DaysBefore: 2, At: series.At(9, 30), Channel: "sms"}
	c := func(id string) coupon.Coupon {
		return coupon.Coupon{ID: id, SeriesID: "s1", Code: "C-" + id, Holder: "h-" + id}
	}
	due := []ReminderDue{
		{SeriesID: "s1", Coupon: c("a"), Reminder: r, DueAt: decideNow},
		{SeriesID: "s1", Coupon: c("b"), Reminder: r, DueAt: decideNow},
		{SeriesID: "s1", Coupon: c("a"), Reminder: r, DueAt: decideNow},
		{SeriesID: "s1", Coupon: c("c"), Reminder: r, DueAt: decideNow},
	}
	keys := make([]store.CounterKey, len(due))
	for i := range due {
		keys[i] = reminderKey(&due[i])
	}
	if keys[0] == keys[1] || keys[0] != keys[2] {
		t.Fatalf("a reminder's key is per coupon and reminder: %q %q %q", keys[0].Code, keys[1].Code, keys[2].Code)
	}
	other := due[0]
	other.Reminder.Channel = "email"
	if reminderKey(&other) == keys[0] {
		t.Fatal("two reminders of one coupon on two channels share a key")
	}
	counts := []store.Count{{}, {N: 1}, {}, {}} // b was recorded before
	ch := reminderChange(due, keys, counts, decideNow, &seqIDs{})
	if len(ch.Events) != 2 || len(ch.Bumps) != 2 {
		t.Fatalf("the change records %d events with %d bumps; want a and c", len(ch.Events), len(ch.Bumps))
	}
	for i, id := range []string{"a", "c"} {
		ev, b := ch.Events[i], ch.Bumps[i]
		if ev.Kind != coupon.EventReminderDue || ev.CouponID != id || ev.Customer != "h-"+id || ev.Channel != "sms" ||
			!ev.At.Equal(decideNow) || ev.Reason != "expiry reminder 2 days before the last valid day, at 09:30" {
			t.Errorf("event %d: %+v", i, ev)
		}
		if b.Delta != 1 || b.Guard.Limit != 1 || b.Guard.Counter != limits.ReminderSent || b.Key.Counter != limits.ReminderSent {
			t.Errorf("bump %d: %+v", i, b)
		}
	}
}

// The sweep and the engine's feed reader refuse bad input before the
// store sees it.
func TestFeedInput(t *testing.T) {
	e, err := New(Config{Store: memstore.New(), Now: func() time.Time { return decideNow }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := e.SweepReminders(ctx, time.Date(1800, 1, 1, 0, 0, 0, 0, time.UTC)); errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Errorf("SweepReminders from 1800 = %v; want InvalidArgument", err)
	}
	if n, err := e.SweepReminders(ctx, decideNow.Add(time.Hour)); err != nil || n != 0 {
		t.Errorf("SweepReminders from the future = %d, %v; want nothing", n, err)
	}
	if _, _, err := e.EventsAfter(ctx, store.Position{}, -5); errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Errorf("EventsAfter with a negative limit = %v; want InvalidArgument", err)
	}
}
