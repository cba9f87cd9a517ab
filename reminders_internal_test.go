package couponkit

import (
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/couponkit/couponkit/series"
)

// The expiry windows RemindersDue reads are conservative: whenever a
// reminder of a coupon is due in (from, to], the coupon's expiry lies in
// one of the windows, which are disjoint and in order.
func TestReminderWindowsHoldEveryDueCoupon(t *testing.T) {
	zones := []string{"UTC", "Europe/Berlin", "America/Santiago", "Pacific/Apia", "Australia/Lord_Howe", "Asia/Kathmandu"}
	rapid.Check(t, func(t *rapid.T) {
		loc, err := time.LoadLocation(rapid.SampledFrom(zones).Draw(t, "zone"))
		if err != nil {
			t.Fatal(err)
		}
		var rs []series.Reminder
		for range rapid.IntRange(1, 4).Draw(t, "n") {
			rs = append(rs, series.Reminder{
				DaysBefore: rapid.OneOf(rapid.IntRange(0, 3), rapid.IntRange(0, series.MaxReminderDays)).Draw(t, "days"),
				At:         series.At(rapid.IntRange(0, 23).Draw(t, "hour"), rapid.IntRange(0, 59).Draw(t, "minute")),
			})
		}
		// Expiries around the clock changes of 2011 (Samoa skipped 30
		// December) and of any year to 2100, at any second.
		expires := time.Date(rapid.IntRange(2011, 2100).Draw(t, "year"), time.Month(rapid.IntRange(1, 12).Draw(t, "month")),
			rapid.IntRange(1, 31).Draw(t, "day"), 0, 0, rapid.IntRange(0, 86399).Draw(t, "second"), 0, loc)
		r := rapid.SampledFrom(rs).Draw(t, "due")
		due := r.DueAt(expires, loc)
		if due.IsZero() {
			t.Skip("no reminder")
		}
		from := due.Add(-time.Duration(rapid.Int64Range(1, int64(72*time.Hour)).Draw(t, "before")))
		to := due.Add(time.Duration(rapid.Int64Range(0, int64(72*time.Hour)).Draw(t, "after")))
		ws := reminderWindows(rs, from, to)
		in := false
		for i, w := range ws {
			if !w.before.After(w.after) || i > 0 && !w.after.After(ws[i-1].before) {
				t.Fatalf("windows %v are not disjoint and in order", ws)
			}
			in = in || expires.After(w.after) && !expires.After(w.before)
		}
		if !in {
			t.Fatalf("%+v is due at %v in (%v, %v] for expiry %v, outside the windows %v", r, due, from, to, expires, ws)
		}
	})
}
