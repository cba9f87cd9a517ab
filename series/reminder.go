package series

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/couponkit/couponkit/errcode"
)

// MaxReminderDays bounds Reminder.DaysBefore: about a hundred years, like
// MaxExpiryDays.
const MaxReminderDays = MaxExpiryDays

// Reminder is one expiry reminder: a message on Channel (for example "sms"
// or "email") sent DaysBefore days before the coupon's last valid day, at
// the local time of day At, in the series' time zone. In JSON:
// {"days_before": 3, "at": "10:00", "channel": "sms"}. See [Reminder.DueAt]
// for the instant it is due.
type Reminder struct {
	// DaysBefore counts calendar days back from the coupon's last valid
	// day: 0 is that day itself, 1 the day before. 0 to MaxReminderDays;
	// with expiry DaysFromIssue N it is at most N (a reminder further back
	// would be due before the issue day).
	DaysBefore int `json:"days_before"`
	// At is the local time of day the reminder goes out, "HH:MM".
	At TimeOfDay `json:"at"`
	// Channel names the channel; it is required.
	Channel string `json:"channel"`
}

// DueAt is the instant the reminder is due for a coupon expiring at expires
// (the exclusive instant of [Series.ExpiresAt], or the coupon's own
// ExpiresAt), read in loc, the series' location (nil means UTC).
//
// The coupon's last valid day is the local date of the last instant before
// expires: for the usual end-of-day expiry, the day whose end expires is
// (a coupon expiring at the end of 12 Nov, that is at the start of 13 Nov,
// has 12 Nov as its last day). The reminder is due at the local time At on
// the date DaysBefore calendar days before that day: with the expiry above,
// {DaysBefore: 0, At: 10:00} is due on 12 Nov at 10:00 and {DaysBefore: 3,
// At: 10:00} on 9 Nov at 10:00, whatever clock change lies between. A local
// time the clocks skip (02:30 on the day they jump from 02:00 to 03:00) is
// read with the offset in force before the change, so it lands as much later
// as the clocks jumped (03:30); a local time the clocks show twice (02:30 on
// the day they fall back from 03:00 to 02:00) is its first occurrence.
//
// The result is zero, meaning no reminder, when expires is zero (the coupon
// never expires) or when the instant is not before expires (the last day
// ends before At, as when an offer ending at 15:00 caps the expiry and the
// reminder is at 18:00 on that day).
func (r Reminder) DueAt(expires time.Time, loc *time.Location) time.Time {
	if expires.IsZero() {
		return time.Time{}
	}
	if loc == nil {
		loc = time.UTC
	}
	y, m, d := expires.Add(-time.Nanosecond).In(loc).Date()
	due := localInstant(y, m, d-r.DaysBefore, r.At.Hour, r.At.Minute, loc)
	if !due.Before(expires) {
		return time.Time{}
	}
	return due
}

// localInstant returns the instant at which the clocks of loc show the wall
// time y-m-d h:mi (normalised as time.Date does). A wall time the clocks
// skip is read with the offset in force before the skip; a wall time they
// show twice is its first occurrence. (time.Date leaves both cases
// unspecified.) It assumes, as holds for every real zone, that loc changes
// its offset at most once within a day either side.
func localInstant(y int, m time.Month, d, h, mi int, loc *time.Location) time.Time {
	wall := time.Date(y, m, d, h, mi, 0, 0, time.UTC)
	_, before := wall.Add(-24 * time.Hour).In(loc).Zone()
	_, after := wall.Add(24 * time.Hour).In(loc).Zone()
	var best time.Time
	for _, off := range [2]int{before, after} {
		t := wall.Add(-time.Duration(off) * time.Second)
		if _, o := t.In(loc).Zone(); o == off && (best.IsZero() || t.Before(best)) {
			best = t
		}
	}
	if best.IsZero() { // skipped: no offset of either side reads as wall
		best = wall.Add(-time.Duration(before) * time.Second)
	}
	return best.In(loc)
}

// UnmarshalJSON reads a reminder. A document of the retired form, a lead
// duration before the expiry instant ({"lead": ...}), is refused rather than
// read as a reminder at midnight of the last day: its meaning cannot be
// carried over exactly.
func (r *Reminder) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	type plain Reminder
	var v struct {
		plain
		Lead json.RawMessage `json:"lead"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v.Lead != nil {
		return errcode.New(errcode.InvalidArgument, "Reminder.Lead",
			`a reminder is "days_before" and "at" (a time of day), no longer a lead before the expiry instant`)
	}
	*r = Reminder(v.plain)
	return nil
}

func (s *Series) validateReminders(f *errcode.Fields) {
	if len(s.Reminders) == 0 {
		return
	}
	switch {
	case s.Source.Kind == ThirdParty:
		f.Add(errcode.InvalidConfig, "Reminders", "reminder settings do not apply to third-party codes")
	case s.Expiry.Kind == Never && s.End.IsZero():
		f.Add(errcode.InvalidConfig, "Reminders", "coupons of this series never expire")
	}
	seen := make(map[Reminder]bool, len(s.Reminders))
	for i, r := range s.Reminders {
		p := fmt.Sprintf("Reminders[%d].", i)
		switch {
		case r.DaysBefore < 0:
			f.Add(errcode.InvalidConfig, p+"DaysBefore", "must not be negative")
		case r.DaysBefore > MaxReminderDays:
			f.Add(errcode.InvalidConfig, p+"DaysBefore", fmt.Sprintf("%d is above %d", r.DaysBefore, MaxReminderDays))
		case s.Expiry.Kind == DaysFromIssue && r.DaysBefore > s.Expiry.N:
			f.Add(errcode.InvalidConfig, p+"DaysBefore", fmt.Sprintf(
				"%d is above the expiry's %d days: the last valid day is at most %d days after the issue day, so the reminder would be due before it",
				r.DaysBefore, s.Expiry.N, s.Expiry.N))
		}
		if !r.At.Valid() {
			f.Add(errcode.InvalidConfig, p+"At", fmt.Sprintf("%s is not a time of day from 00:00 to 23:59", r.At))
		}
		if strings.TrimSpace(r.Channel) == "" {
			f.Add(errcode.InvalidConfig, p+"Channel", "is required")
		}
		if seen[r] {
			f.Add(errcode.InvalidConfig, fmt.Sprintf("Reminders[%d]", i), "repeats an earlier reminder")
		}
		seen[r] = true
	}
}

// TimeOfDay is a local time of day to the minute, 00:00 to 23:59. Its text
// form (and JSON) is "HH:MM", two digits each.
type TimeOfDay struct {
	Hour   int // 0 to 23
	Minute int // 0 to 59
}

// At returns the time of day h:m. It does not check the range; see
// [TimeOfDay.Valid].
func At(h, m int) TimeOfDay { return TimeOfDay{Hour: h, Minute: m} }

// Valid reports whether t is within 00:00 to 23:59.
func (t TimeOfDay) Valid() bool { return 0 <= t.Hour && t.Hour < 24 && 0 <= t.Minute && t.Minute < 60 }

// String returns "HH:MM"; an invalid value prints its fields as numbers,
// such as "25:61".
func (t TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d", t.Hour, t.Minute) }

// MarshalText implements encoding.TextMarshaler; an invalid time of day
// fails with an InvalidArgument error.
func (t TimeOfDay) MarshalText() ([]byte, error) {
	if !t.Valid() {
		return nil, errcode.New(errcode.InvalidArgument, "TimeOfDay",
			fmt.Sprintf("%s is not a time of day from 00:00 to 23:59", t))
	}
	return []byte(t.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler: exactly "HH:MM", from
// 00:00 to 23:59. Anything else is an InvalidArgument error and leaves t
// unchanged.
func (t *TimeOfDay) UnmarshalText(b []byte) error {
	v, ok := parseTimeOfDay(b)
	if !ok {
		return errcode.New(errcode.InvalidArgument, "TimeOfDay",
			fmt.Sprintf(`%q is not a time of day "HH:MM" from 00:00 to 23:59`, b))
	}
	*t = v
	return nil
}

// ParseTimeOfDay parses "HH:MM", from 00:00 to 23:59, as UnmarshalText
// does.
func ParseTimeOfDay(s string) (TimeOfDay, error) {
	var t TimeOfDay
	err := t.UnmarshalText([]byte(s))
	return t, err
}

func parseTimeOfDay(b []byte) (TimeOfDay, bool) {
	if len(b) != 5 || b[2] != ':' {
		return TimeOfDay{}, false
	}
	digit := func(c byte) (int, bool) { return int(c - '0'), '0' <= c && c <= '9' }
	h1, ok1 := digit(b[0])
	h2, ok2 := digit(b[1])
	m1, ok3 := digit(b[3])
	m2, ok4 := digit(b[4])
	t := TimeOfDay{Hour: h1*10 + h2, Minute: m1*10 + m2}
	return t, ok1 && ok2 && ok3 && ok4 && t.Valid()
}
