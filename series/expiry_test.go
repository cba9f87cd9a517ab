package series_test

import (
	"testing"
	"time"
	_ "time/tzdata" // the zones below, whatever the machine has

	"pgregory.net/rapid"

	"github.com/couponkit/couponkit/series"
)

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("LoadLocation(%q): %v", name, err)
	}
	return loc
}

func TestExpiresAt(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	newYork := mustLoad(t, "America/New_York")
	santiago := mustLoad(t, "America/Santiago")
	havana := mustLoad(t, "America/Havana")
	beirut := mustLoad(t, "Asia/Beirut")
	apia := mustLoad(t, "Pacific/Apia")
	utc := time.UTC
	at := func(loc *time.Location, y int, m time.Month, d, h, min int) time.Time {
		return time.Date(y, m, d, h, min, 0, 0, loc)
	}
	z := func(s string) time.Time { // an instant in UTC, RFC 3339
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	days := func(n int) series.Expiry { return series.Expiry{Kind: series.DaysFromIssue, N: n} }
	months := func(n int) series.Expiry { return series.Expiry{Kind: series.MonthEndsFromIssue, N: n} }

	cases := []struct {
		name   string
		expiry series.Expiry
		end    time.Time
		loc    *time.Location
		issued time.Time
		want   time.Time
	}{
		// Issued on 12 November: 0 days from issue expire at the end of
		// 12 Nov, 1 day at the end of 13 Nov; 0 month-ends at the end of
		// 30 Nov, 1 month-end at the end of 31 Dec.
		{"12 Nov + 0 days is 12 Nov EOD", days(0), time.Time{}, berlin, at(berlin, 2024, 11, 12, 15, 0), at(berlin, 2024, 11, 13, 0, 0)},
		{"12 Nov + 1 day is 13 Nov EOD", days(1), time.Time{}, berlin, at(berlin, 2024, 11, 12, 15, 0), at(berlin, 2024, 11, 14, 0, 0)},
		{"12 Nov + 0 month ends is 30 Nov EOD", months(0), time.Time{}, berlin, at(berlin, 2024, 11, 12, 15, 0), at(berlin, 2024, 12, 1, 0, 0)},
		{"12 Nov + 1 month end is 31 Dec EOD", months(1), time.Time{}, berlin, at(berlin, 2024, 11, 12, 15, 0), at(berlin, 2025, 1, 1, 0, 0)},

		// Month lengths, leap years, year rollover.
		{"31 Jan 2028 + 1 month end is 29 Feb", months(1), time.Time{}, utc, at(utc, 2028, 1, 31, 9, 0), at(utc, 2028, 3, 1, 0, 0)},
		{"31 Jan 2027 + 1 month end is 28 Feb", months(1), time.Time{}, utc, at(utc, 2027, 1, 31, 9, 0), at(utc, 2027, 3, 1, 0, 0)},
		{"28 Feb 2028 + 1 day is 29 Feb", days(1), time.Time{}, utc, at(utc, 2028, 2, 28, 9, 0), at(utc, 2028, 3, 1, 0, 0)},
		{"28 Feb 2027 + 1 day is 1 Mar", days(1), time.Time{}, utc, at(utc, 2027, 2, 28, 9, 0), at(utc, 2027, 3, 2, 0, 0)},
		{"31 Dec + 0 days", days(0), time.Time{}, utc, at(utc, 2024, 12, 31, 9, 0), at(utc, 2025, 1, 1, 0, 0)},
		{"31 Dec + 1 day", days(1), time.Time{}, utc, at(utc, 2024, 12, 31, 9, 0), at(utc, 2025, 1, 2, 0, 0)},
		{"12 Nov + 14 month ends", months(14), time.Time{}, utc, at(utc, 2024, 11, 12, 9, 0), at(utc, 2026, 2, 1, 0, 0)},
		{"12 Nov + 365 days", days(365), time.Time{}, utc, at(utc, 2024, 11, 12, 9, 0), at(utc, 2025, 11, 13, 0, 0)},

		// The time of day and the zone of the issue.
		{"issued 23:59:59 local", days(0), time.Time{}, berlin,
			time.Date(2024, 11, 12, 23, 59, 59, 999999999, berlin), at(berlin, 2024, 11, 13, 0, 0)},
		{"issued 00:00 local", days(0), time.Time{}, berlin, at(berlin, 2024, 11, 13, 0, 0), at(berlin, 2024, 11, 14, 0, 0)},
		{"issued late UTC is the next day in Berlin", days(0), time.Time{}, berlin,
			z("2024-11-12T23:30:00Z"), at(berlin, 2024, 11, 14, 0, 0)},
		{"issued late UTC, UTC series", days(0), time.Time{}, utc, z("2024-11-12T23:30:00Z"), z("2024-11-13T00:00:00Z")},
		{"nil location is UTC", days(0), time.Time{}, nil, z("2024-11-12T23:30:00Z"), z("2024-11-13T00:00:00Z")},

		// DST changes on or around the expiry night: the result is still the
		// local midnight, not a multiple of 24 hours.
		{"Berlin spring forward", days(1), time.Time{}, berlin, at(berlin, 2024, 3, 30, 10, 0), z("2024-03-31T22:00:00Z")},
		{"Berlin fall back", days(1), time.Time{}, berlin, at(berlin, 2024, 10, 26, 10, 0), z("2024-10-27T23:00:00Z")},
		{"Berlin midnight before spring forward", days(0), time.Time{}, berlin, at(berlin, 2024, 3, 30, 10, 0), z("2024-03-30T23:00:00Z")},
		{"New York spring forward", days(0), time.Time{}, newYork, at(newYork, 2024, 3, 10, 12, 0), z("2024-03-11T04:00:00Z")},
		{"New York fall back", days(0), time.Time{}, newYork, at(newYork, 2024, 11, 3, 12, 0), z("2024-11-04T05:00:00Z")},
		{"New York month end across fall back", months(0), time.Time{}, newYork, at(newYork, 2024, 10, 15, 12, 0), z("2024-11-01T04:00:00Z")},
		// Santiago skips midnight on 8 Sep 2024 (00:00 -04 becomes 01:00
		// -03): 7 Sep ends when 8 Sep begins, at 01:00 local.
		{"Santiago midnight skipped", days(0), time.Time{}, santiago, at(santiago, 2024, 9, 7, 12, 0), z("2024-09-08T04:00:00Z")},
		{"Santiago day after skipped midnight", days(1), time.Time{}, santiago, at(santiago, 2024, 9, 7, 12, 0), z("2024-09-09T03:00:00Z")},
		// Santiago falls back at midnight on 7 Apr 2024 (00:00 -03 becomes
		// 23:00 -04 on 6 Apr): 6 Apr has 25 hours.
		{"Santiago fall back at midnight", days(0), time.Time{}, santiago, at(santiago, 2024, 4, 6, 12, 0), z("2024-04-07T04:00:00Z")},
		// Havana skips midnight on 10 Mar 2024 and repeats the hour after
		// midnight on 3 Nov 2024 (01:00 -04 becomes 00:00 -05): 3 Nov begins
		// at the first midnight.
		{"Havana midnight skipped", days(0), time.Time{}, havana, at(havana, 2024, 3, 9, 12, 0), z("2024-03-10T05:00:00Z")},
		{"Havana midnight repeated", days(0), time.Time{}, havana, at(havana, 2024, 11, 2, 12, 0), z("2024-11-03T04:00:00Z")},
		{"Havana day of repeated midnight", days(0), time.Time{}, havana, at(havana, 2024, 11, 3, 12, 0), z("2024-11-04T05:00:00Z")},
		{"Beirut midnight skipped", days(0), time.Time{}, beirut, at(beirut, 2024, 3, 30, 12, 0), z("2024-03-30T22:00:00Z")},
		// Samoa skipped all of 30 Dec 2011: 29 Dec ends when 31 Dec begins.
		{"Apia skipped day", days(0), time.Time{}, apia, at(apia, 2011, 12, 29, 12, 0), z("2011-12-30T10:00:00Z")},
		{"Apia end of skipped day", days(1), time.Time{}, apia, at(apia, 2011, 12, 29, 12, 0), z("2011-12-30T10:00:00Z")},
		{"Apia after skipped day", days(2), time.Time{}, apia, at(apia, 2011, 12, 29, 12, 0), z("2011-12-31T10:00:00Z")},

		// Never later than the offer's end.
		{"days capped by end", days(30), at(berlin, 2024, 11, 20, 12, 0), berlin, at(berlin, 2024, 11, 12, 15, 0), at(berlin, 2024, 11, 20, 12, 0)},
		{"days before end", days(3), at(berlin, 2024, 11, 20, 12, 0), berlin, at(berlin, 2024, 11, 12, 15, 0), at(berlin, 2024, 11, 16, 0, 0)},
		{"days ending exactly at end", days(3), at(berlin, 2024, 11, 16, 0, 0), berlin, at(berlin, 2024, 11, 12, 15, 0), at(berlin, 2024, 11, 16, 0, 0)},
		{"month ends capped by end", months(1), at(berlin, 2024, 12, 24, 0, 0), berlin, at(berlin, 2024, 11, 12, 15, 0), at(berlin, 2024, 12, 24, 0, 0)},
		{"with offer", series.Expiry{Kind: series.WithOffer}, at(berlin, 2024, 12, 24, 0, 0), berlin, at(berlin, 2024, 11, 12, 15, 0), at(berlin, 2024, 12, 24, 0, 0)},
		{"never with end", series.Expiry{Kind: series.Never}, at(berlin, 2024, 12, 24, 0, 0), berlin, at(berlin, 2024, 11, 12, 15, 0), at(berlin, 2024, 12, 24, 0, 0)},
		{"never", series.Expiry{Kind: series.Never}, time.Time{}, berlin, at(berlin, 2024, 11, 12, 15, 0), time.Time{}},
		{"unknown kind is never", series.Expiry{}, time.Time{}, berlin, at(berlin, 2024, 11, 12, 15, 0), time.Time{}},
		{"issued after the end", days(1), at(berlin, 2024, 11, 1, 0, 0), berlin, at(berlin, 2024, 11, 12, 15, 0), at(berlin, 2024, 11, 1, 0, 0)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := series.Series{Expiry: tc.expiry, End: tc.end}
			got := s.ExpiresAt(tc.issued, tc.loc)
			if !got.Equal(tc.want) {
				t.Errorf("ExpiresAt(%v) = %v (%v), want %v (%v)", tc.issued, got, got.UTC(), tc.want, tc.want.UTC())
			}
			if !got.IsZero() && tc.loc != nil && !tc.end.Equal(got) && got.Location() != tc.loc {
				t.Errorf("ExpiresAt location = %v, want %v", got.Location(), tc.loc)
			}
		})
	}
}

var propertyZones = []struct {
	name     string
	skipsDay bool // a whole local day was skipped (so expiries can coincide)
}{
	{"UTC", false}, {"Europe/Berlin", false}, {"America/New_York", false},
	{"America/Santiago", false}, {"America/Havana", false}, {"Asia/Beirut", false},
	{"Australia/Lord_Howe", false}, {"Asia/Kathmandu", false}, {"Pacific/Apia", true},
}

// For random issue times and N: the expiry is the first instant of a local
// day (the day the policy names, or the first day after it when that day
// was skipped), it is after the issue, it grows with N, and End caps it.
func TestExpiresAtProperties(t *testing.T) {
	locs := make(map[string]*time.Location)
	for _, z := range propertyZones {
		locs[z.name] = mustLoad(t, z.name)
	}
	rapid.Check(t, func(t *rapid.T) {
		zone := rapid.SampledFrom(propertyZones).Draw(t, "zone")
		loc := locs[zone.name]
		issued := time.Unix(rapid.Int64Range(946684800, 2208988800).Draw(t, "issued"), 0) // 2000..2040
		kind := rapid.SampledFrom([]series.ExpiryKind{series.DaysFromIssue, series.MonthEndsFromIssue}).Draw(t, "kind")
		n := rapid.IntRange(0, 400).Draw(t, "n")
		if _, next := issued.In(loc).ZoneBounds(); !next.IsZero() && kind == series.DaysFromIssue && rapid.Bool().Draw(t, "nearChange") {
			// Put the expiry night next to a clock change of the zone.
			jitter := time.Duration(rapid.Int64Range(-36, 36).Draw(t, "jitter")) * time.Hour
			issued = next.Add(-time.Duration(n+1)*24*time.Hour + jitter)
		}
		s := series.Series{Expiry: series.Expiry{Kind: kind, N: n}}
		exp := s.ExpiresAt(issued, loc)

		y, m, d := issued.In(loc).Date()
		var target time.Time // noon UTC of the local day the expiry begins
		if kind == series.DaysFromIssue {
			target = time.Date(y, m, d+n+1, 12, 0, 0, 0, time.UTC)
		} else {
			target = time.Date(y, m+time.Month(n)+1, 1, 12, 0, 0, 0, time.UTC)
		}
		day := func(t time.Time) time.Time { // a local date as noon UTC
			y, m, d := t.In(loc).Date()
			return time.Date(y, m, d, 12, 0, 0, 0, time.UTC)
		}
		if got, before := day(exp), day(exp.Add(-time.Nanosecond)); !got.After(before) {
			t.Fatalf("expiry %v is not the first instant of a local day", exp)
		}
		if got := day(exp); got.Before(target) || (!zone.skipsDay && !got.Equal(target)) {
			t.Fatalf("expiry %v begins local day %v, want %v", exp, got, target)
		}
		if !exp.After(issued) {
			t.Fatalf("expiry %v is not after issue %v", exp, issued)
		}
		s.Expiry.N = n + 1
		next := s.ExpiresAt(issued, loc)
		if next.Before(exp) || (!zone.skipsDay && !next.After(exp)) {
			t.Fatalf("N=%d gives %v, N=%d gives %v", n, exp, n+1, next)
		}
		s.Expiry.N = n
		s.End = issued.Add(time.Duration(rapid.Int64Range(1, 800*24*3600).Draw(t, "end")) * time.Second)
		capped := s.ExpiresAt(issued, loc)
		want := exp
		if s.End.Before(exp) {
			want = s.End
		}
		if !capped.Equal(want) {
			t.Fatalf("with End %v: %v, want %v", s.End, capped, want)
		}
	})
}

func BenchmarkExpiresAt(b *testing.B) {
	loc := mustLoad(b, "Europe/Berlin")
	s := series.Series{Expiry: series.Expiry{Kind: series.MonthEndsFromIssue, N: 1}}
	issued := time.Date(2024, 11, 12, 15, 0, 0, 0, loc)
	b.ReportAllocs()
	for b.Loop() {
		_ = s.ExpiresAt(issued, loc)
	}
}

func BenchmarkExpiresAtSkippedMidnight(b *testing.B) {
	loc := mustLoad(b, "America/Santiago")
	s := series.Series{Expiry: series.Expiry{Kind: series.DaysFromIssue}}
	issued := time.Date(2024, 9, 7, 12, 0, 0, 0, loc)
	b.ReportAllocs()
	for b.Loop() {
		_ = s.ExpiresAt(issued, loc)
	}
}
