package limits

import (
	"testing"
	"time"

	"pgregory.net/rapid"
)

func TestNextOpen(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, berlin) }
	// Monday 7 January 2030, 10:30.
	now := at(2030, time.January, 7, 10, 30)
	for _, tc := range []struct {
		name  string
		rules RedemptionRules
		want  time.Time
	}{
		{"no calendar", RedemptionRules{}, now},
		{"inside the hours", RedemptionRules{Hours: []HourRange{{9, 12}}}, now},
		{"later today", RedemptionRules{Hours: []HourRange{{14, 16}, {20, 22}}}, at(2030, time.January, 7, 14, 0)},
		{"tomorrow's window", RedemptionRules{Hours: []HourRange{{8, 10}}}, at(2030, time.January, 8, 8, 0)},
		{"next Saturday", RedemptionRules{Weekdays: WeekdaysOf(time.Saturday)}, at(2030, time.January, 12, 0, 0)},
		{"the 31st", RedemptionRules{MonthDays: MonthDaysOf(31)}, at(2030, time.January, 31, 0, 0)},
		{"a 31st that is a Sunday", RedemptionRules{MonthDays: MonthDaysOf(31), Weekdays: WeekdaysOf(time.Sunday)}, at(2030, time.March, 31, 0, 0)},
		{"start later", RedemptionRules{Start: at(2030, time.February, 1, 9, 15)}, at(2030, time.February, 1, 9, 15)},
		{"start then hours", RedemptionRules{Start: at(2030, time.February, 1, 9, 15), Hours: []HourRange{{10, 11}}}, at(2030, time.February, 1, 10, 0)},
		// 31 March 2030 in Berlin: 02:00 jumps to 03:00; a window from 2 opens at 03:00.
		{"the 31st at 10", RedemptionRules{MonthDays: MonthDaysOf(31), Hours: []HourRange{{10, 11}}}, at(2030, time.January, 31, 10, 0)},
		{"never", RedemptionRules{MonthDays: MonthDaysOf(30), Weekdays: 0, Hours: []HourRange{{0, 0}}}, time.Time{}},
	} {
		if got := tc.rules.NextOpen(now); !got.Equal(tc.want) {
			t.Errorf("%s: NextOpen = %v, want %v", tc.name, got, tc.want)
		}
	}
	// After the spring change, a 10:00 window still opens at 10:00 local.
	march := at(2030, time.March, 30, 12, 0)
	r := RedemptionRules{Hours: []HourRange{{10, 11}}}
	if got := r.NextOpen(march); got.Hour() != 10 || got.Day() != 31 {
		t.Errorf("the window opens at 10:00 local on 31 March: %v", got)
	}
}

// TestNextOpenProperty: the instant NextOpen returns is allowed by the
// calendar, is not before at, and no whole hour between at and it is.
func TestNextOpenProperty(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	rapid.Check(t, func(t *rapid.T) {
		at := time.Date(2030, time.January, 1, 0, 0, 0, 0, berlin).Add(time.Duration(rapid.Int64Range(0, 2*365*24*3600).Draw(t, "seconds")) * time.Second)
		r := RedemptionRules{
			Weekdays:  Weekdays(rapid.Uint8Range(0, 127).Draw(t, "weekdays")),
			MonthDays: MonthDays(rapid.Uint32Range(0, 1<<31-1).Draw(t, "month days") &^ 1),
		}
		if rapid.Bool().Draw(t, "hours") {
			from := rapid.IntRange(0, 23).Draw(t, "from")
			r.Hours = []HourRange{{from, rapid.IntRange(from+1, 24).Draw(t, "to")}}
		}
		allowed := func(x time.Time) bool {
			return r.Weekdays.Has(x.Weekday()) && r.MonthDays.Has(x.Day()) && (len(r.Hours) == 0 || inHours(r.Hours, x.Hour()))
		}
		got := r.NextOpen(at)
		if got.IsZero() {
			return // no window within the horizon: rare masks (the 31st on a weekday set)
		}
		if got.Before(at) || !allowed(got) {
			t.Fatalf("NextOpen(%v) = %v: before at or not allowed", at, got)
		}
		if !got.Equal(at) && allowed(at) {
			t.Fatalf("at %v is allowed, NextOpen gave %v", at, got)
		}
		// No whole hour strictly between at and got is allowed.
		for h := at.Truncate(time.Hour).Add(time.Hour); h.Before(got) && h.Sub(at) < 40*24*time.Hour; h = h.Add(time.Hour) {
			if allowed(h) {
				t.Fatalf("NextOpen(%v) = %v, but %v is allowed", at, got, h)
			}
		}
	})
}
