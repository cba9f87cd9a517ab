package series

import "time"

// Closure says whether a series is open for work (issuing, redeeming,
// transferring) at an instant and, when it is not, why.
type Closure uint8

// The closures, in the order ClosedAt checks them.
const (
	// NotClosed: the series is open.
	NotClosed Closure = iota
	// ClosedEnded: its Status is Ended.
	ClosedEnded
	// ClosedPastEnd: its End has come.
	ClosedPastEnd
	// ClosedPaused: its Status is Paused.
	ClosedPaused
	// ClosedNotStarted: its Start has not come yet.
	ClosedNotStarted
)

// ClosedAt returns why the series is not open for work at at, or NotClosed
// when it is: ended by its status, then past its End, then paused, then not
// started (before its Start). The first that holds is the answer, so a
// series that is ended and paused is ended.
func (s *Series) ClosedAt(at time.Time) Closure {
	switch {
	case s.Status == Ended:
		return ClosedEnded
	case !s.End.IsZero() && !at.Before(s.End):
		return ClosedPastEnd
	case s.Status == Paused:
		return ClosedPaused
	case !s.Start.IsZero() && at.Before(s.Start):
		return ClosedNotStarted
	}
	return NotClosed
}

// Ended reports whether the closure is for good: the series is ended by its
// status or its End has come.
func (c Closure) Ended() bool { return c == ClosedEnded || c == ClosedPastEnd }
