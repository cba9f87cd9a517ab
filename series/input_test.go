package series_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
)

// TestValidateInput: every string of a series obeys the input rules (valid
// UTF-8, no control character, a maximum length) and every time is in the
// years 1900 through 2199; a breach is an InvalidConfig on the field.
func TestValidateInput(t *testing.T) {
	bad := map[string]string{
		"NUL": "a\x00b", "invalid UTF-8": "a\xffb", "C1": "a\u0085", "tab": "a\tb",
		"too long": strings.Repeat("n", 1025),
	}
	strs := []struct {
		field string
		set   func(*series.Series, string)
	}{
		{"ID", func(s *series.Series, v string) { s.ID = v }},
		{"Name", func(s *series.Series, v string) { s.Name = v }},
		{"TimeZone", func(s *series.Series, v string) { s.TimeZone = v }},
		{"Source.Prefix", func(s *series.Series, v string) { s.Source.Prefix = v }},
		{"Source.Suffix", func(s *series.Series, v string) { s.Source.Suffix = v }},
		{"Issuance.ExcludeSeries[1]", func(s *series.Series, v string) {
			s.Issuance.ExcludeSeries, s.Issuance.ExcludeWithinMonths = []string{"other", v}, 1
		}},
		{"Redemption.Places[0].ID", func(s *series.Series, v string) {
			s.Redemption.Places = limits.NewPlaceSet(limits.PlaceRef{Kind: limits.Store, ID: v})
		}},
		{"Reminders[0].Channel", func(s *series.Series, v string) {
			s.Reminders = []series.Reminder{{DaysBefore: 1, Channel: v}}
		}},
	}
	for _, c := range strs {
		for name, v := range bad {
			s := validSeries()
			c.set(&s, v)
			if got := fields(t, s.Validate()); !slices.Contains(got, c.field) {
				t.Errorf("%s %s: errors on %v, want one on %s", c.field, name, got, c.field)
			}
		}
	}
	for _, c := range []struct {
		field string
		set   func(*series.Series, time.Time)
	}{
		{"Start", func(s *series.Series, v time.Time) { s.Start, s.End = v, time.Time{} }},
		{"End", func(s *series.Series, v time.Time) { s.Start, s.End, s.Expiry.N = time.Time{}, v, 0 }},
		{"Redemption.Start", func(s *series.Series, v time.Time) { s.Redemption.Start = v }},
		{"Redemption.NewCustomers.RegisteredFrom", func(s *series.Series, v time.Time) { s.Redemption.NewCustomers.RegisteredFrom = v }},
		{"Redemption.NewCustomers.RegisteredTo", func(s *series.Series, v time.Time) { s.Redemption.NewCustomers.RegisteredTo = v }},
		{"CreatedAt", func(s *series.Series, v time.Time) { s.CreatedAt = v }},
		{"UpdatedAt", func(s *series.Series, v time.Time) { s.UpdatedAt = v }},
	} {
		for _, v := range []time.Time{
			time.Date(1899, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC),
			time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC),
		} {
			s := validSeries()
			c.set(&s, v)
			if got := fields(t, s.Validate()); !slices.Contains(got, c.field) {
				t.Errorf("%s at %v: errors on %v, want one on %s", c.field, v, got, c.field)
			}
		}
		for _, v := range []time.Time{time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2199, 12, 31, 23, 59, 59, 999999999, time.UTC)} {
			s := validSeries()
			c.set(&s, v)
			if c.field == "UpdatedAt" {
				s.CreatedAt = v
			}
			if got := fields(t, s.Validate()); slices.Contains(got, c.field) {
				t.Errorf("%s at %v, the edge of the range, is refused: %v", c.field, v, s.Validate())
			}
		}
	}
	s := validSeries()
	s.Name = "Été 🎉 " + strings.Repeat("é", 120)
	s.Reminders = []series.Reminder{{DaysBefore: 1, Channel: strings.Repeat("c", 64)}}
	if err := s.Validate(); err != nil {
		t.Errorf("a series with multi-byte strings at their maximum is refused: %v", err)
	}
}

// TestExpiresAtCapped: an expiry never passes 1 January 2200, the end of
// the years every store keeps.
func TestExpiresAtCapped(t *testing.T) {
	end := time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
	s := validSeries()
	s.End = time.Time{}
	for _, x := range []struct {
		expiry series.Expiry
		issued time.Time
		want   time.Time
	}{
		{series.Expiry{Kind: series.DaysFromIssue, N: series.MaxExpiryDays}, time.Date(2199, 6, 1, 12, 0, 0, 0, time.UTC), end},
		{series.Expiry{Kind: series.MonthEndsFromIssue, N: series.MaxExpiryMonths}, time.Date(2150, 6, 1, 12, 0, 0, 0, time.UTC), end},
		{series.Expiry{Kind: series.DaysFromIssue, N: 0}, time.Date(2199, 12, 31, 23, 0, 0, 0, time.UTC), end},
		{series.Expiry{Kind: series.DaysFromIssue, N: 1}, time.Date(2199, 12, 30, 8, 0, 0, 0, time.UTC), end},
		{series.Expiry{Kind: series.DaysFromIssue, N: 0}, time.Date(2199, 12, 30, 8, 0, 0, 0, time.UTC), end.AddDate(0, 0, -1)},
		{series.Expiry{Kind: series.Never}, time.Date(2199, 12, 30, 8, 0, 0, 0, time.UTC), time.Time{}},
	} {
		s.Expiry = x.expiry
		if got := s.ExpiresAt(x.issued, time.UTC); !got.Equal(x.want) {
			t.Errorf("%+v issued %v expires at %v, want %v", x.expiry, x.issued, got, x.want)
		}
	}
}
