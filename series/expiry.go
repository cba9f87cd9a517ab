package series

import (
	"cmp"
	"fmt"
	"time"

	"github.com/couponkit/couponkit/errcode"
)

// ExpiryKind is how an issued coupon's expiry is computed. The zero value is
// not a kind.
type ExpiryKind uint8

// The expiry kinds.
const (
	// WithOffer: the coupon expires when the offer ends (Series.End, which
	// must be set).
	WithOffer ExpiryKind = iota + 1
	// DaysFromIssue: at the end of the N-th day after the issue day (N = 0:
	// the end of the issue day).
	DaysFromIssue
	// MonthEndsFromIssue: at the end of the last day of the N-th month after
	// the issue month (N = 0: the end of the issue month).
	MonthEndsFromIssue
	// Never: the coupon does not expire before the offer ends.
	Never
)

var expiryKindNames = []string{
	WithOffer: "with_offer", DaysFromIssue: "days_from_issue",
	MonthEndsFromIssue: "month_ends_from_issue", Never: "never",
}

// String returns "with_offer", "days_from_issue", "month_ends_from_issue" or
// "never", or "ExpiryKind(n)".
func (v ExpiryKind) String() string { return enumString(expiryKindNames, v, "ExpiryKind") }

// MarshalText implements encoding.TextMarshaler; an unknown kind fails.
func (v ExpiryKind) MarshalText() ([]byte, error) {
	return enumText(expiryKindNames, v, "ExpiryKind")
}

// UnmarshalText implements encoding.TextUnmarshaler, ignoring the case of
// ASCII letters.
func (v *ExpiryKind) UnmarshalText(b []byte) error {
	return parseEnum(expiryKindNames, b, "ExpiryKind", v)
}

// Bounds on Expiry.N: about a hundred years.
const (
	MaxExpiryDays   = 36600
	MaxExpiryMonths = 1200
)

// Expiry is the expiry policy of a series. N counts days or month ends for
// DaysFromIssue and MonthEndsFromIssue and is zero for the other kinds.
type Expiry struct {
	Kind ExpiryKind `json:"kind,omitzero"`
	N    int        `json:"n,omitempty"`
}

func (e *Expiry) validateInto(f *errcode.Fields, p string, end time.Time) {
	switch e.Kind {
	case WithOffer:
		if end.IsZero() {
			f.Add(errcode.InvalidConfig, p+"Kind", "expiry with the offer needs the offer's End")
		}
	case DaysFromIssue, MonthEndsFromIssue, Never:
	default:
		checkEnum(f, p+"Kind", expiryKindNames, e.Kind, "expiry kind")
		return
	}
	limit := 0
	switch e.Kind {
	case DaysFromIssue:
		limit = MaxExpiryDays
	case MonthEndsFromIssue:
		limit = MaxExpiryMonths
	}
	switch {
	case e.N < 0:
		f.Add(errcode.InvalidConfig, p+"N", "must not be negative")
	case limit == 0 && e.N != 0:
		f.Add(errcode.InvalidConfig, p+"N", fmt.Sprintf("does not apply to expiry %s", e.Kind))
	case e.N > limit:
		f.Add(errcode.InvalidConfig, p+"N", fmt.Sprintf("%d is above %d", e.N, limit))
	}
}

// ExpiresAt is the expiry of a coupon issued at issued: the exclusive
// instant at which it stops being usable (it is expired when now >= the
// result). The zero time means it never expires.
//
// Days are read in loc, which should be the series' location (see
// [Series.Location]); nil means UTC. The end of a local day is the first
// instant of the next local day, normally its midnight; when a clock change
// skips midnight it is the instant the next day begins, and when midnight
// occurs twice it is the first.
//
//   - WithOffer: End.
//   - DaysFromIssue N: the end of the day N days after the issue day.
//     Issued 12 Nov: N=0 gives the end of 12 Nov, N=1 the end of 13 Nov.
//   - MonthEndsFromIssue N: the end of the last day of the month N months
//     after the issue month. Issued 12 Nov: N=0 gives the end of 30 Nov,
//     N=1 the end of 31 Dec; issued 31 Jan 2028, N=1 the end of 29 Feb.
//   - Never: zero.
//
// Every result is capped by End when End is set (a coupon never outlives
// its offer), so a coupon issued at or after End expires at End; and by 1
// January 2200, 00:00 UTC, the end of the years couponkit keeps (see
// [Series]). An unknown kind is treated as Never.
func (s *Series) ExpiresAt(issued time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	var t time.Time
	y, m, d := issued.In(loc).Date()
	switch s.Expiry.Kind {
	case WithOffer:
		return s.End
	case DaysFromIssue:
		t = startOfDay(y, m, d+s.Expiry.N+1, loc)
	case MonthEndsFromIssue:
		t = startOfDay(y, m+time.Month(s.Expiry.N)+1, 1, loc)
	}
	if !s.End.IsZero() && (t.IsZero() || t.After(s.End)) {
		return s.End
	}
	return capExpiry(t)
}

// startOfDay returns the first instant, in loc, of the local day y-m-d
// (normalised as time.Date does, so 32 Jan is 1 Feb and month 13 is January
// of the next year).
func startOfDay(y int, m time.Month, d int, loc *time.Location) time.Time {
	y, m, d = time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Date()
	t := time.Date(y, m, d, 0, 0, 0, 0, loc)
	// Usually t is the day's midnight and the instant before it is in the
	// day before. time.Date does not promise which instant it picks when a
	// clock change skips or repeats midnight; then search for the boundary.
	if dateCmp(t, y, m, d) == 0 && dateCmp(t.Add(-time.Nanosecond), y, m, d) < 0 {
		return t
	}
	return firstInstantOfDay(y, m, d, loc)
}

// firstInstantOfDay finds, by bisection over seconds, the first instant
// whose date in loc is y-m-d or later. UTC offsets lie within ±18 hours and
// zone transitions fall on whole seconds.
func firstInstantOfDay(y int, m time.Month, d int, loc *time.Location) time.Time {
	base := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	lo := base.Add(-36 * time.Hour).Unix() // date in loc is before y-m-d
	hi := base.Add(36 * time.Hour).Unix()  // date in loc is y-m-d or later
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if dateCmp(time.Unix(mid, 0).In(loc), y, m, d) >= 0 {
			hi = mid
		} else {
			lo = mid
		}
	}
	return time.Unix(hi, 0).In(loc)
}

// dateCmp compares t's date in its location with y-m-d.
func dateCmp(t time.Time, y int, m time.Month, d int) int {
	ty, tm, td := t.Date()
	if c := cmp.Compare(ty, y); c != 0 {
		return c
	}
	if c := cmp.Compare(tm, m); c != 0 {
		return c
	}
	return cmp.Compare(td, d)
}
