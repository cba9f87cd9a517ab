package lease

import (
	"fmt"
	"time"

	"github.com/couponkit/couponkit/errcode"
)

// Slice is a part of a series' limits: a number of uses and, for a series
// with a budget (series.Budget.Total), an amount of money. It is the unit
// of every quantity of a lease, and every rule applies to both parts
// alike.
//
// Money is in minor units of the series' currency (series.MinorUnits of
// its Discount.Currency; the lease's Currency), as the series' budget
// counter (limits.SeriesBudget) counts it: whole numbers, so that the sums
// of the invariants are exact. It is zero for a series without a budget,
// and then left out of the JSON form, which is the form of a slice before
// money joined it.
type Slice struct {
	Uses  int64 `json:"uses"`
	Money int64 `json:"money,omitempty"`
}

// Add returns s + o.
func (s Slice) Add(o Slice) Slice { return Slice{Uses: s.Uses + o.Uses, Money: s.Money + o.Money} }

// Sub returns s - o.
func (s Slice) Sub(o Slice) Slice { return Slice{Uses: s.Uses - o.Uses, Money: s.Money - o.Money} }

// IsZero reports whether s has no part.
func (s Slice) IsZero() bool { return s.Uses == 0 && s.Money == 0 }

// Negative reports whether a part of s is below zero.
func (s Slice) Negative() bool { return s.Uses < 0 || s.Money < 0 }

// Covers reports whether every part of s is at least that of o.
func (s Slice) Covers(o Slice) bool { return s.Uses >= o.Uses && s.Money >= o.Money }

// String is "n uses", with " and m money" when the slice holds money.
func (s Slice) String() string {
	if s.Money == 0 {
		return fmt.Sprintf("%d uses", s.Uses)
	}
	return fmt.Sprintf("%d uses and %d money", s.Uses, s.Money)
}

// Status is the life-cycle state of a lease. The zero value is not a valid
// status.
type Status uint8

const (
	// Open: the till may use what is left until End.
	Open Status = iota + 1
	// Closed: the central reclaimed what was left; nothing more is used
	// from it.
	Closed
)

// String returns "open" or "closed", or "Status(n)".
func (s Status) String() string {
	switch s {
	case Open:
		return "open"
	case Closed:
		return "closed"
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// Lease is a slice of one series' limits granted to one till, from Start
// to End (the central's clock). See the package documentation for its
// invariants.
type Lease struct {
	ID       string `json:"id"`
	Till     string `json:"till"`
	SeriesID string `json:"series_id"`
	// Currency is the currency of the money of the lease's slices (the
	// series' Discount.Currency), for a lease that holds money.
	Currency string    `json:"currency,omitempty"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	// Granted is what the central counted against the series for this
	// lease: the first grant and every top-up.
	Granted Slice `json:"granted"`
	// Used is what the till reported using, counted against the lease.
	Used Slice `json:"used"`
	// Returned is what the till gave back before End.
	Returned Slice `json:"returned"`
	// Reclaimed is what the central took back after the lease lapsed.
	Reclaimed Slice `json:"reclaimed"`
	// Allowance is how many uses the till may make of the lease offline
	// without being able to verify them (a code whose state it has not
	// synced), as the operator's policy at the central set it; Conflicted
	// is how many recorded uses of the lease the central would have
	// refused. Together they bound and show the lease's exposure.
	Allowance  int64  `json:"allowance,omitempty"`
	Conflicted int64  `json:"conflicted,omitempty"`
	Status     Status `json:"status"`
	// Version grows by one with every change of the lease; stores guard
	// updates by it.
	Version int64 `json:"version"`
	// Updated is when the lease last changed.
	Updated time.Time `json:"updated"`
}

// Left returns what the till may still use: Granted - Used - Returned -
// Reclaimed.
func (l *Lease) Left() Slice {
	return l.Granted.Sub(l.Used).Sub(l.Returned).Sub(l.Reclaimed)
}

// Outstanding returns what of the lease still counts against the series
// beyond the uses reported: the same as Left. The series' use counter
// holds the uses made centrally plus, for every lease, Granted - Returned
// - Reclaimed (which is Used + Left).
func (l *Lease) Outstanding() Slice { return l.Left() }

// UsableAt reports whether a till whose clock reads at may use the lease:
// it is open, has a use left, and at is more than skew before End.
// (Whether its money left covers a use's discount is the use's to judge.)
func (l *Lease) UsableAt(at time.Time, skew time.Duration) bool {
	return l.Status == Open && l.Left().Uses > 0 && at.Before(l.End.Add(-skew))
}

// LapsedAt reports whether the central, whose clock reads at, may reclaim
// the lease: it is open and at is skew or more past End.
func (l *Lease) LapsedAt(at time.Time, skew time.Duration) bool {
	return l.Status == Open && !at.Before(l.End.Add(skew))
}

// Check reports a lease that breaks an invariant: a negative part (or
// allowance, or conflicted count), parts
// that add up to more than was granted, a closed lease with something
// left, an End not after Start. The error matches
// errcode.ErrInvalidArgument.
func (l *Lease) Check() error {
	bad := func(field, msg string) error { return errcode.New(errcode.InvalidArgument, field, msg) }
	switch {
	case l.Granted.Negative() || l.Used.Negative() || l.Returned.Negative() || l.Reclaimed.Negative():
		return bad("Lease", "a part is negative")
	case l.Allowance < 0 || l.Conflicted < 0:
		return bad("Lease", "the allowance or the conflicted count is negative")
	case l.Left().Negative():
		return bad("Lease", "used, returned and reclaimed add up to more than was granted")
	case l.Status == Closed && !l.Left().IsZero():
		return bad("Lease.Status", "a closed lease has something left")
	case l.Status != Open && l.Status != Closed:
		return bad("Lease.Status", "is not a valid status")
	case !l.End.After(l.Start):
		return bad("Lease.End", "must be after Start")
	}
	return nil
}

// Params describe a new lease.
type Params struct {
	ID       string
	Till     string
	SeriesID string
	// Currency is the currency of Slice.Money; required when it is not
	// zero.
	Currency string
	Slice    Slice
	End      time.Time
}

// New returns the lease p describes, granted at at: open, Version 1. A
// slice of no use, a negative part, money without a currency or an End
// not after at is an errcode.InvalidArgument error.
func New(p Params, at time.Time) (Lease, error) {
	switch {
	case p.ID == "" || p.Till == "" || p.SeriesID == "":
		return Lease{}, errcode.New(errcode.InvalidArgument, "Lease", "needs an id, a till and a series")
	case p.Slice.Negative() || p.Slice.Uses == 0:
		return Lease{}, errcode.New(errcode.InvalidArgument, "Uses", "must be positive")
	case p.Slice.Money != 0 && p.Currency == "":
		return Lease{}, errcode.New(errcode.InvalidArgument, "Currency", "is required with money")
	case !p.End.After(at):
		return Lease{}, errcode.New(errcode.InvalidArgument, "End", "must be after now")
	}
	return Lease{
		ID: p.ID, Till: p.Till, SeriesID: p.SeriesID, Currency: p.Currency, Start: at, End: p.End,
		Granted: p.Slice, Status: Open, Version: 1, Updated: at,
	}, nil
}

// open returns an error unless l is open.
func (l *Lease) open() error {
	if l.Status != Open {
		return errcode.New(errcode.InvalidTransition, "Lease", "lease "+l.ID+" is "+l.Status.String())
	}
	return nil
}

// next returns l after a change at at: Version + 1, Updated at.
func (l Lease) next(at time.Time) Lease {
	l.Version++
	l.Updated = at
	return l
}

// Renew returns l with its End moved to end, at at. The lease must be
// open and end must be after both at and the current End (a renewal
// never shortens a lease, which the till may be using offline).
func (l Lease) Renew(end, at time.Time) (Lease, error) {
	if err := l.open(); err != nil {
		return l, err
	}
	if !end.After(l.End) || !end.After(at) {
		return l, errcode.New(errcode.InvalidArgument, "End", "must be after now and after the lease's end")
	}
	n := l.next(at)
	n.End = end
	return n, nil
}

// TopUp returns l with s granted on top, at at. The lease must be open
// and not past its End; s must have something (uses or money) and no
// negative part, and money only on a lease that has a Currency.
func (l Lease) TopUp(s Slice, at time.Time) (Lease, error) {
	if err := l.open(); err != nil {
		return l, err
	}
	if err := l.somePart(s); err != nil {
		return l, err
	}
	if !at.Before(l.End) {
		return l, errcode.New(errcode.InvalidTransition, "Lease", "lease "+l.ID+" has ended; renew it first")
	}
	n := l.next(at)
	n.Granted = n.Granted.Add(s)
	return n, nil
}

// somePart checks a slice to add or give back: something (uses or
// money), no negative part, and money only on a lease with a Currency.
func (l *Lease) somePart(s Slice) error {
	switch {
	case s.Negative() || s.IsZero():
		return errcode.New(errcode.InvalidArgument, "Uses", "must be positive (or the money)")
	case s.Money != 0 && l.Currency == "":
		return errcode.New(errcode.InvalidArgument, "Money", "lease "+l.ID+" holds no money")
	}
	return nil
}

// Return returns l with s given back, at at. The lease must be open and
// have at least s left; s must have something (uses or money) and no
// negative part.
func (l Lease) Return(s Slice, at time.Time) (Lease, error) {
	if err := l.open(); err != nil {
		return l, err
	}
	if err := l.somePart(s); err != nil {
		return l, err
	}
	if !l.Left().Covers(s) {
		return l, errcode.New(errcode.InvalidArgument, "Uses", fmt.Sprintf("lease %s has %v left", l.ID, l.Left()))
	}
	n := l.next(at)
	n.Returned = n.Returned.Add(s)
	return n, nil
}

// Reclaim returns l closed at at, with what was left reclaimed, and that
// slice. The lease must have lapsed: open and at at least skew past End.
func (l Lease) Reclaim(at time.Time, skew time.Duration) (Lease, Slice, error) {
	if err := l.open(); err != nil {
		return l, Slice{}, err
	}
	if !l.LapsedAt(at, skew) {
		return l, Slice{}, errcode.New(errcode.InvalidTransition, "Lease", "lease "+l.ID+" has not lapsed yet")
	}
	left := l.Left()
	n := l.next(at)
	n.Reclaimed = n.Reclaimed.Add(left)
	n.Status = Closed
	return n, left, nil
}

// Use returns l with s counted as used, at at: a use the till made within
// the lease and reported, with the money its discount took. The lease
// must be open and have at least s left, uses and money; a use that does
// not fit is not the lease's to count.
func (l Lease) Use(s Slice, at time.Time) (Lease, error) {
	if err := l.open(); err != nil {
		return l, err
	}
	if s.Negative() || !l.Left().Covers(s) {
		return l, errcode.New(errcode.LimitReached, "Lease", fmt.Sprintf("lease %s has %v left", l.ID, l.Left()))
	}
	n := l.next(at)
	n.Used = n.Used.Add(s)
	return n, nil
}

// Conflict returns l with one more conflicted use recorded, at at, and
// whether that use passed the lease's allowance (Conflicted > Allowance
// after it): a use the lease could not take (it was reclaimed, or had
// nothing left), counted on the series but on its lease's exposure all
// the same. It applies to a lease of any status.
func (l Lease) Conflict(at time.Time) (Lease, bool) {
	n := l.next(at)
	n.Conflicted++
	return n, n.Conflicted > n.Allowance
}

// UseConflicted is Use of a use the central would have refused, in one
// transition: s counted as used and one more conflicted use recorded. It
// reports whether that use passed the lease's allowance.
func (l Lease) UseConflicted(s Slice, at time.Time) (Lease, bool, error) {
	n, err := l.Use(s, at)
	if err != nil {
		return l, false, err
	}
	n.Conflicted++
	return n, n.Conflicted > n.Allowance, nil
}

// Allow returns l with n more uses allowed unverified (n <= 0 adds
// nothing). Grants and top-ups call it with the operator's policy's
// allowance for the uses they add; it changes no version, being part of
// the transition that adds the uses.
func (l Lease) Allow(n int64) Lease {
	if n > 0 {
		l.Allowance += n
	}
	return l
}

// DefaultAllowance is the allowance of unverified uses a lease gets for
// uses granted when the operator sets no policy: a tenth of them, rounded
// up, so that every lease allows at least one.
func DefaultAllowance(uses int64) int64 {
	if uses <= 0 {
		return 0
	}
	return (uses + 9) / 10
}
