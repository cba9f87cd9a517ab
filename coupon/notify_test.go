package coupon

import (
	"testing"
	"time"
)

// Exactly the notification kinds, and a reissue whose caller asked for a
// notification, are notifications; the notification events carry what a
// sender needs and stay out of every customer's history but the holder's.
func TestNotifications(t *testing.T) {
	at := time.Date(2030, 1, 7, 10, 0, 0, 0, time.UTC)
	for k := EventKind(1); k.Valid(); k++ {
		e := Event{Kind: k}
		want := k == EventIssuanceThreshold || k == EventReminderDue
		if got := e.Notification(); got != want {
			t.Errorf("an event of kind %s: Notification() = %v; want %v", k, got, want)
		}
	}
	if (&Event{Kind: EventReissued}).Notification() || !(&Event{Kind: EventReissued, Notify: true}).Notification() {
		t.Error("a reissue is a notification exactly when Notify is set")
	}

	th := ThresholdEvent("s1", 3, at)
	if th.Kind != EventIssuanceThreshold || th.SeriesID != "s1" || th.Remaining != 3 || !th.At.Equal(at) ||
		th.CouponID != "" || th.Customer != "" || !th.Notification() {
		t.Errorf("ThresholdEvent = %+v", th)
	}

	c := Coupon{ID: "c1", SeriesID: "s1", Code: "ABC", Holder: "alice"}
	r := ReminderEvent(&c, at, "sms", "3 days before")
	if r.Kind != EventReminderDue || r.CouponID != "c1" || r.SeriesID != "s1" || r.Code != "ABC" || r.Customer != "alice" ||
		r.Channel != "sms" || r.Reason != "3 days before" || !r.At.Equal(at) || r.Actor != "" || !r.Notification() {
		t.Errorf("ReminderEvent = %+v", r)
	}
}
