package series_test

import (
	"testing"
	"time"

	"github.com/couponkit/couponkit/series"
)

func TestClosedAt(t *testing.T) {
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	mid := start.Add(24 * time.Hour)
	for _, tc := range []struct {
		name  string
		s     series.Series
		at    time.Time
		want  series.Closure
		ended bool
	}{
		{"active, no window", series.Series{Status: series.Active}, mid, series.NotClosed, false},
		{"active, inside the window", series.Series{Status: series.Active, Start: start, End: end}, mid, series.NotClosed, false},
		{"at its start", series.Series{Status: series.Active, Start: start}, start, series.NotClosed, false},
		{"before its start", series.Series{Status: series.Active, Start: start}, start.Add(-time.Nanosecond), series.ClosedNotStarted, false},
		{"at its end", series.Series{Status: series.Active, End: end}, end, series.ClosedPastEnd, true},
		{"just before its end", series.Series{Status: series.Active, End: end}, end.Add(-time.Nanosecond), series.NotClosed, false},
		{"paused", series.Series{Status: series.Paused}, mid, series.ClosedPaused, false},
		{"paused and not started: paused", series.Series{Status: series.Paused, Start: end}, mid, series.ClosedPaused, false},
		{"paused and past its end: past end", series.Series{Status: series.Paused, End: start}, mid, series.ClosedPastEnd, true},
		{"ended", series.Series{Status: series.Ended}, mid, series.ClosedEnded, true},
		{"ended and past its end: ended", series.Series{Status: series.Ended, End: start}, mid, series.ClosedEnded, true},
		{"ended before its start: ended", series.Series{Status: series.Ended, Start: end}, mid, series.ClosedEnded, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.s.ClosedAt(tc.at)
			if got != tc.want {
				t.Errorf("ClosedAt = %d, want %d", got, tc.want)
			}
			if got.Ended() != tc.ended {
				t.Errorf("Ended() = %v, want %v", got.Ended(), tc.ended)
			}
		})
	}
}
