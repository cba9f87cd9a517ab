package limits

import "time"

// calendarHorizon bounds how far NextOpen searches: the calendar of weekdays
// and days of the month repeats within 28 years, but a window further away
// than this is of no use to a customer at a till.
const calendarHorizon = 8 * 366

// NextOpen returns the first instant at or after at when the redemption
// calendar allows a redemption: not before Start, on an allowed weekday and
// day of the month, in an allowed hour. at must be in the series' time zone;
// the result is too. Days and hours are local, so a window that opens at
// 10:00 opens at 10:00 on both sides of a daylight-saving change. It returns
// at itself when the calendar allows at, and the zero time when no allowed
// instant comes within eight years.
func (r *RedemptionRules) NextOpen(at time.Time) time.Time {
	if !r.Start.IsZero() && at.Before(r.Start) {
		at = r.Start.In(at.Location())
	}
	if r.Weekdays == 0 && r.MonthDays == 0 && len(r.Hours) == 0 {
		return at
	}
	loc := at.Location()
	y, m, d := at.Date()
	for i := 0; i < calendarHorizon; i++ {
		day := time.Date(y, m, d+i, 0, 0, 0, 0, loc)
		if !r.Weekdays.Has(day.Weekday()) || !r.MonthDays.Has(day.Day()) {
			continue
		}
		from := 0
		if i == 0 {
			from = at.Hour()
		}
		h, ok := r.firstHour(from)
		if !ok {
			continue
		}
		t := time.Date(day.Year(), day.Month(), day.Day(), h, 0, 0, 0, loc)
		if i == 0 && h == at.Hour() {
			return at // already inside an allowed hour
		}
		if t.Before(at) {
			continue // a daylight-saving jump moved the hour before at
		}
		return t
	}
	return time.Time{}
}

// firstHour returns the first hour of the day at or after from that the
// hour windows allow (every hour when there are none).
func (r *RedemptionRules) firstHour(from int) (int, bool) {
	if len(r.Hours) == 0 {
		return from, true
	}
	best, ok := 24, false
	for _, w := range r.Hours {
		h := max(from, w.From)
		if h < w.To && h < best {
			best, ok = h, true
		}
	}
	return best, ok
}
