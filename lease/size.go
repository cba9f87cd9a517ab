package lease

import (
	"math"
	"time"
)

// SizeInput is what a till knows when it chooses how many uses to lease.
type SizeInput struct {
	// Remaining is how many uses the series has left by the central's
	// count (couponkit.LeaseResult.Remaining); -1 for a series without a
	// use limit.
	Remaining int64
	// RatePerHour is the till's recent uses of the series per hour.
	RatePerHour float64
	// Duration is how long the lease runs.
	Duration time.Duration
	// Tills is how many tills share the series, this one included; 0
	// counts as 1.
	Tills int
}

// SizePolicy chooses how many uses a till asks for in a lease (or a
// top-up) from a SizeInput. A policy returns at most Remaining (when the
// series has a limit), and at least 1 when anything remains.
type SizePolicy func(SizeInput) int64

// Headroom is how much more than its expected uses DefaultSize asks for,
// so that a busier hour than usual does not run the lease dry.
const Headroom = 1.5

// DefaultSize is the default SizePolicy. It asks for the uses the till
// expects to make while the lease runs (RatePerHour over Duration) times
// Headroom, rounded up, at least 1; and, on a series with a use limit, for
// no more than a fair share of what is left: Remaining / (Tills + 1),
// rounded down but at least 1, so that the other tills and the central's
// own redemptions keep room. It returns 0 when nothing remains. It grows
// with the rate until it reaches the share.
func DefaultSize(in SizeInput) int64 {
	if in.Remaining == 0 {
		return 0
	}
	want := int64(1)
	if rate := in.RatePerHour; rate > 0 && in.Duration > 0 {
		f := math.Ceil(rate * in.Duration.Hours() * Headroom)
		switch {
		case f >= math.MaxInt64/2 || math.IsNaN(f):
			want = math.MaxInt64 / 2
		case f > 1:
			want = int64(f)
		}
	}
	if in.Remaining < 0 {
		return want
	}
	tills := int64(max(in.Tills, 1))
	share := max(in.Remaining/(tills+1), 1)
	return min(want, share)
}
