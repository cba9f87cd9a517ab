package series_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
)

// An exclusion window of MaxInt months overflowed the date arithmetic: the
// window's start came out after now, so the exclusion silently stopped
// applying. It is refused, naming the field.
func TestExcludeWithinMonthsMaxInt(t *testing.T) {
	s := validSeries()
	s.Issuance.ExcludeSeries, s.Issuance.ExcludeWithinMonths = []string{"winter"}, math.MaxInt
	err := s.Validate()
	var ce *errcode.Error
	if !errors.As(err, &ce) || ce.Code != errcode.InvalidConfig || ce.Field != "Issuance.ExcludeWithinMonths" || len(errcode.All(err)) != 1 {
		t.Errorf("Validate = %v, want one InvalidConfig error on Issuance.ExcludeWithinMonths", err)
	}
}

// figures draws the figures of one series, each from 0 to its bound (a
// small one, one at the bound, or any between), except the one named wild,
// which may be any non-negative number: Validate must refuse it or, if it
// let it through, nothing may overflow.
type figures struct {
	t    *rapid.T
	wild string
}

// wildFigures are the names of the figures drawFigures draws; "" (as often
// as all of them together) means none is wild.
var wildFigures = []string{"issueMaxPerCustomer", "issueMaxTotal", "issueMinGap", "notify", "excludeMonths",
	"maxPerCode", "maxPerCustomer", "maxPerSeries", "redeemMinGap", "maxTransactions", "days", "months", "daysBefore",
	"", "", "", "", "", "", "", "", "", "", "", "", ""}

func (f figures) draw(name string, bound int64) int64 {
	if name == f.wild {
		return rapid.OneOf(rapid.Int64Range(bound+1, bound+3), rapid.Int64Range(0, math.MaxInt64)).Draw(f.t, name)
	}
	return rapid.OneOf(
		rapid.Int64Range(0, min(40, bound)),
		rapid.Int64Range(max(0, bound-2), bound),
		rapid.Int64Range(0, bound),
	).Draw(f.t, name)
}

// drawFigures sets every count, duration and month or day figure of a
// generated-code series, keeping the rules between them; see figures.
func drawFigures(t *rapid.T, s *series.Series) {
	f := figures{t: t, wild: rapid.SampledFrom(wildFigures).Draw(t, "wild")}
	s.End = time.Time{}
	if rapid.Bool().Draw(t, "end") {
		s.End = time.Date(2024+rapid.IntRange(0, 150).Draw(t, "endYear"), 6, 15, 13, 0, 0, 0, time.UTC)
	}
	s.TimeZone = rapid.SampledFrom([]string{"UTC", "Europe/Berlin", "America/Santiago", "Pacific/Apia", "Australia/Lord_Howe"}).Draw(t, "tz")
	is := &s.Issuance
	is.MaxPerCustomer = limits.Limit(f.draw("issueMaxPerCustomer", int64(limits.MaxLimit)))
	is.MaxTotal = limits.Limit(f.draw("issueMaxTotal", int64(limits.MaxLimit)))
	is.MinGap = time.Duration(f.draw("issueMinGap", int64(limits.MaxDuration)))
	if is.MaxTotal > 0 {
		is.NotifyRemaining = f.draw("notify", max(0, int64(is.MaxTotal)-1))
	}
	is.ExcludeSeries = []string{"winter"}
	is.ExcludeWithinMonths = max(1, int(f.draw("excludeMonths", series.MaxExcludeMonths)))
	r := &s.Redemption
	r.AnyoneMayRedeem, r.Repeat = true, true
	r.MaxPerCode = limits.Limit(f.draw("maxPerCode", int64(limits.MaxLimit)))
	r.MaxPerCustomer = limits.Limit(f.draw("maxPerCustomer", int64(limits.MaxLimit)))
	r.MaxPerSeries = limits.Limit(f.draw("maxPerSeries", int64(limits.MaxLimit)))
	if r.MaxPerCustomer != 1 {
		r.MinGap = time.Duration(f.draw("redeemMinGap", int64(limits.MaxDuration)))
	}
	r.NewCustomers.LimitTransactions = true
	r.NewCustomers.MaxTransactions = f.draw("maxTransactions", int64(limits.MaxLimit))
	kind := rapid.SampledFrom([]series.ExpiryKind{series.DaysFromIssue, series.MonthEndsFromIssue, series.WithOffer, series.Never}).Draw(t, "expiry")
	s.Expiry = series.Expiry{Kind: kind}
	maxDays := int64(series.MaxReminderDays)
	switch kind {
	case series.DaysFromIssue:
		s.Expiry.N = int(f.draw("days", series.MaxExpiryDays))
		maxDays = min(maxDays, int64(s.Expiry.N))
	case series.MonthEndsFromIssue:
		s.Expiry.N = int(f.draw("months", series.MaxExpiryMonths))
	case series.WithOffer:
		if s.End.IsZero() {
			s.End = summer
		}
	}
	s.Reminders = nil
	for i := range rapid.IntRange(0, 3).Draw(t, "reminders") {
		s.Reminders = append(s.Reminders, series.Reminder{
			DaysBefore: int(f.draw("daysBefore", maxDays)),
			At:         series.At(rapid.IntRange(0, 23).Draw(t, "hour"), rapid.IntRange(0, 59).Draw(t, "minute")),
			Channel:    string(rune('a' + i)),
		})
	}
}

// A figure past its bound is refused, naming its field, whatever the other
// figures are.
func TestFiguresPastBoundsRefused(t *testing.T) {
	type bounded struct {
		field string
		bound int64
		set   func(*series.Series, int64)
	}
	all := []bounded{
		{"Issuance.MaxPerCustomer", int64(limits.MaxLimit), func(s *series.Series, v int64) { s.Issuance.MaxPerCustomer = limits.Limit(v) }},
		{"Issuance.MaxTotal", int64(limits.MaxLimit), func(s *series.Series, v int64) { s.Issuance.MaxTotal = limits.Limit(v) }},
		{"Issuance.MinGap", int64(limits.MaxDuration), func(s *series.Series, v int64) { s.Issuance.MinGap = time.Duration(v) }},
		{"Issuance.ExcludeWithinMonths", series.MaxExcludeMonths, func(s *series.Series, v int64) { s.Issuance.ExcludeWithinMonths = int(v) }},
		{"Redemption.MaxPerCode", int64(limits.MaxLimit), func(s *series.Series, v int64) { s.Redemption.MaxPerCode = limits.Limit(v) }},
		{"Redemption.MaxPerCustomer", int64(limits.MaxLimit), func(s *series.Series, v int64) { s.Redemption.MaxPerCustomer = limits.Limit(v) }},
		{"Redemption.MaxPerSeries", int64(limits.MaxLimit), func(s *series.Series, v int64) { s.Redemption.MaxPerSeries = limits.Limit(v) }},
		{"Redemption.MinGap", int64(limits.MaxDuration), func(s *series.Series, v int64) { s.Redemption.MinGap = time.Duration(v) }},
		{"Redemption.NewCustomers.MaxTransactions", int64(limits.MaxLimit), func(s *series.Series, v int64) { s.Redemption.NewCustomers.MaxTransactions = v }},
		{"Expiry.N", series.MaxExpiryMonths, func(s *series.Series, v int64) { s.Expiry = series.Expiry{Kind: series.MonthEndsFromIssue, N: int(v)} }},
		{"Reminders[0].DaysBefore", series.MaxReminderDays, func(s *series.Series, v int64) {
			s.Expiry = series.Expiry{Kind: series.Never}
			s.Reminders = []series.Reminder{{DaysBefore: int(v), Channel: "z"}}
		}},
	}
	rapid.Check(t, func(t *rapid.T) {
		s := validSeries()
		drawFigures(t, &s)
		b := rapid.SampledFrom(all).Draw(t, "figure")
		b.set(&s, rapid.OneOf(rapid.Int64Range(b.bound+1, b.bound+3), rapid.Int64Range(b.bound+1, math.MaxInt64)).Draw(t, "value"))
		found := false
		for _, e := range errcode.All(s.Validate()) {
			if e.Field == b.field && e.Code == errcode.InvalidConfig {
				found = true
			}
		}
		if !found {
			t.Fatalf("%s past its bound %d: Validate = %v", b.field, b.bound, s.Validate())
		}
	})
}

// Any series that passes Validate computes its expiry, exclusion and
// reminder times without overflow: each result lies in a sane range and
// moves the right way as its input moves.
func TestValidSeriesTimesDoNotOverflow(t *testing.T) {
	const day = 24 * time.Hour
	const century = 101 * 366 * day // more than any bound allows
	rapid.Check(t, func(t *rapid.T) {
		s := validSeries()
		drawFigures(t, &s)
		if s.Validate() != nil {
			t.Skip("invalid")
		}
		loc, err := s.Location()
		if err != nil {
			t.Fatal(err)
		}
		now := time.Date(rapid.IntRange(1970, 2199).Draw(t, "year"), time.Month(rapid.IntRange(1, 12).Draw(t, "month")),
			rapid.IntRange(1, 31).Draw(t, "day"), rapid.IntRange(0, 23).Draw(t, "hour"), 0, 0, 0, loc)
		later := now.Add(time.Duration(rapid.Int64Range(0, int64(400*day)).Draw(t, "later")))

		// Expiry: after the issue (unless the offer ended before it), never
		// after the offer's end, within a century of the issue unless it is
		// the offer's end, and not earlier for a later issue.
		exp, exp2 := s.ExpiresAt(now, loc), s.ExpiresAt(later, loc)
		switch {
		case exp.IsZero():
			if !s.End.IsZero() || !exp2.IsZero() {
				t.Fatalf("expiry of an issue at %v is never, at %v it is %v", now, later, exp2)
			}
		case s.Expiry.Kind == series.WithOffer || !now.Before(s.End) && !s.End.IsZero():
			if !exp.Equal(s.End) {
				t.Fatalf("issued at %v, expiry %v with the offer's end %v: expires %v", now, s.Expiry.Kind, s.End, exp)
			}
		case !exp.After(now) || (!s.End.IsZero() && exp.After(s.End)) || exp.Sub(now) > century && !exp.Equal(s.End):
			t.Fatalf("issued at %v: expires %v (offer end %v)", now, exp, s.End)
		}
		if !exp.IsZero() && exp2.Before(exp) {
			t.Fatalf("issued later (%v), expires earlier: %v before %v", later, exp2, exp)
		}

		// Exclusion: the window starts before now, within a century, and a
		// longer window starts no later. This is the engine's arithmetic.
		months := s.Issuance.ExcludeWithinMonths
		since := now.AddDate(0, -months, 0)
		if since.After(now) || now.Sub(since) > century {
			t.Fatalf("an exclusion of %d months at %v starts at %v", months, now, since)
		}
		if months > 0 && now.AddDate(0, -(months-1), 0).Before(since) {
			t.Fatalf("an exclusion of %d months starts after one of %d", months, months-1)
		}

		// Reminders: due before the expiry, within their days (and more
		// for the time of day and clock changes) of it, and not earlier for
		// a later expiry or a day fewer.
		for _, r := range s.Reminders {
			due, due2 := r.DueAt(exp, loc), r.DueAt(exp2, loc)
			if due.IsZero() {
				continue
			}
			if !due.Before(exp) || exp.Sub(due) > time.Duration(r.DaysBefore+3)*day {
				t.Fatalf("%+v of a coupon expiring %v: due %v", r, exp, due)
			}
			if !due2.IsZero() && due2.Before(due) {
				t.Fatalf("%+v: expiring later (%v) it is due earlier: %v before %v", r, exp2, due2, due)
			}
			earlier := r
			earlier.DaysBefore++
			if d := earlier.DueAt(exp, loc); d.IsZero() || !d.Before(due) {
				t.Fatalf("%+v is due at %v, a day further back at %v", r, due, d)
			}
		}

	})
}
