package series_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
)

func TestReminderDueAt(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	utc := func(m time.Month, d, h, min int) time.Time { return time.Date(2030, m, d, h, min, 0, 0, time.UTC) }
	// In 2030 Berlin moves from UTC+1 to UTC+2 on 31 March at 02:00 local
	// (01:00 UTC) and back on 27 October at 03:00 local (01:00 UTC).
	endOf := func(m time.Month, d int) time.Time { return time.Date(2030, m, d+1, 0, 0, 0, 0, berlin) }
	cases := []struct {
		name    string
		r       series.Reminder
		expires time.Time
		loc     *time.Location
		want    time.Time
	}{
		{"0 days before, the day of the change to summer time", series.Reminder{At: series.At(10, 0)},
			endOf(time.March, 31), berlin, utc(time.March, 31, 8, 0)},
		{"1 day before, across the change to summer time", series.Reminder{DaysBefore: 1, At: series.At(10, 0)},
			endOf(time.March, 31), berlin, utc(time.March, 30, 9, 0)},
		{"3 days before, across the change to summer time", series.Reminder{DaysBefore: 3, At: series.At(10, 0)},
			endOf(time.April, 1), berlin, utc(time.March, 29, 9, 0)},
		{"a time the clocks skip lands as much later as they jumped", series.Reminder{At: series.At(2, 30)},
			endOf(time.March, 31), berlin, utc(time.March, 31, 1, 30)},
		{"the last minute before the skip", series.Reminder{At: series.At(1, 59)},
			endOf(time.March, 31), berlin, utc(time.March, 31, 0, 59)},
		{"the first minute after the skip", series.Reminder{At: series.At(3, 0)},
			endOf(time.March, 31), berlin, utc(time.March, 31, 1, 0)},
		{"0 days before, the day of the change to winter time", series.Reminder{At: series.At(10, 0)},
			endOf(time.October, 27), berlin, utc(time.October, 27, 9, 0)},
		{"1 day before, across the change to winter time", series.Reminder{DaysBefore: 1, At: series.At(10, 0)},
			endOf(time.October, 28), berlin, utc(time.October, 27, 9, 0)},
		{"2 days before, across the change to winter time", series.Reminder{DaysBefore: 2, At: series.At(10, 0)},
			endOf(time.October, 28), berlin, utc(time.October, 26, 8, 0)},
		{"a time the clocks show twice is its first occurrence", series.Reminder{At: series.At(2, 30)},
			endOf(time.October, 27), berlin, utc(time.October, 27, 0, 30)},
		{"0 days before at midnight: the start of the last day", series.Reminder{At: series.At(0, 0)},
			endOf(time.November, 12), berlin, utc(time.November, 11, 23, 0)},
		{"23:59 on the last day", series.Reminder{At: series.At(23, 59)},
			endOf(time.November, 12), berlin, utc(time.November, 12, 22, 59)},
		{"nil location is UTC", series.Reminder{DaysBefore: 3, At: series.At(10, 0)},
			utc(time.November, 13, 0, 0), nil, utc(time.November, 9, 10, 0)},
		{"a coupon that never expires gets no reminder", series.Reminder{At: series.At(10, 0)},
			time.Time{}, berlin, time.Time{}},
		// An offer ending at 15:00 Berlin time caps the expiry.
		{"the last day ends before the time of day", series.Reminder{At: series.At(18, 0)},
			time.Date(2030, 6, 10, 15, 0, 0, 0, berlin), berlin, time.Time{}},
		{"the last day ends at the time of day", series.Reminder{At: series.At(15, 0)},
			time.Date(2030, 6, 10, 15, 0, 0, 0, berlin), berlin, time.Time{}},
		{"the last day ends after the time of day", series.Reminder{At: series.At(14, 59)},
			time.Date(2030, 6, 10, 15, 0, 0, 0, berlin), berlin, utc(time.June, 10, 12, 59)},
		{"the day before a capped last day", series.Reminder{DaysBefore: 1, At: series.At(18, 0)},
			time.Date(2030, 6, 10, 15, 0, 0, 0, berlin), berlin, utc(time.June, 9, 16, 0)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.r.DueAt(tc.expires, tc.loc)
			if !got.Equal(tc.want) || got.IsZero() != tc.want.IsZero() {
				t.Errorf("%+v.DueAt(%v) = %v, want %v", tc.r, tc.expires, got, tc.want)
			}
		})
	}

	// With a series' own expiry: issued 7 January, 83 days, the last valid
	// day is 31 March.
	s := validSeries()
	s.End = time.Time{}
	s.Expiry = series.Expiry{Kind: series.DaysFromIssue, N: 83}
	exp := s.ExpiresAt(utc(time.January, 7, 10, 0), berlin)
	for _, tc := range []struct {
		r    series.Reminder
		want time.Time
	}{
		{series.Reminder{At: series.At(10, 0)}, utc(time.March, 31, 8, 0)},
		{series.Reminder{DaysBefore: 2, At: series.At(10, 0)}, utc(time.March, 29, 9, 0)},
		{series.Reminder{DaysBefore: 83, At: series.At(10, 0)}, utc(time.January, 7, 9, 0)},
	} {
		if got := tc.r.DueAt(exp, berlin); !got.Equal(tc.want) {
			t.Errorf("%+v.DueAt(%v) = %v, want %v", tc.r, exp, got, tc.want)
		}
	}
}

func TestTimeOfDayText(t *testing.T) {
	for _, s := range []string{"00:00", "09:05", "10:00", "23:59"} {
		v, err := series.ParseTimeOfDay(s)
		if err != nil {
			t.Errorf("ParseTimeOfDay(%q): %v", s, err)
			continue
		}
		if b, err := v.MarshalText(); err != nil || string(b) != s || v.String() != s {
			t.Errorf("ParseTimeOfDay(%q) = %+v, which marshals to %q, %v", s, v, b, err)
		}
	}
	for _, s := range []string{"", "9:00", "24:00", "10:60", "10-00", "10:00 ", "1000", "-1:00", "+1:00", "１0:00", "10:0a"} {
		v := series.At(7, 7)
		err := v.UnmarshalText([]byte(s))
		var ce *errcode.Error
		if !errors.As(err, &ce) || ce.Code != errcode.InvalidArgument || v != series.At(7, 7) {
			t.Errorf("UnmarshalText(%q) = %v, left %v; want InvalidArgument, unchanged", s, err, v)
		}
	}
	for _, v := range []series.TimeOfDay{series.At(24, 0), series.At(0, 60), series.At(-1, 0)} {
		if _, err := v.MarshalText(); errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("%v.MarshalText error = %v, want InvalidArgument", v, err)
		}
	}
}

func TestReminderJSON(t *testing.T) {
	r := series.Reminder{DaysBefore: 3, At: series.At(9, 30), Channel: "sms"}
	b, err := json.Marshal(r)
	if err != nil || string(b) != `{"days_before":3,"at":"09:30","channel":"sms"}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var got series.Reminder
	if err := json.Unmarshal(b, &got); err != nil || got != r {
		t.Errorf("Unmarshal(%s) = %+v, %v", b, got, err)
	}
	// The retired form, a lead duration, is refused rather than read as a
	// reminder at midnight of the last day.
	err = json.Unmarshal([]byte(`{"lead":86400000000000,"channel":"sms"}`), &got)
	if errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Errorf("Unmarshal of a lead reminder: %v, want InvalidArgument", err)
	}
	if err := json.Unmarshal([]byte(`{"days_before":1,"at":"25:00","channel":"sms"}`), &got); err == nil {
		t.Errorf("Unmarshal of a reminder at 25:00 succeeded: %+v", got)
	}
}
