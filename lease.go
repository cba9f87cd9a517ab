package couponkit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/internal/input"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/observe"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// Leases at the central: a till asks for a slice of a series' uses, which
// the engine counts against the series at once (a guarded bump of the
// series' use counter, in the same change that records the lease), so that
// the till can redeem offline within it while the series' limit holds
// whatever the tills do. Package lease holds the records, the rules and
// the invariants; these operations read, decide with it and write. They
// need a store that keeps leases (store.LeaseStore).

// LeaseRequest asks for a new lease of Uses uses of a series for a till,
// until End (the central's clock). Key is the call's idempotency key,
// unique per till: a repeat with the same parameters returns the first
// lease and changes nothing; with other parameters it is refused with an
// error matching errcode.ErrKeyMismatch.
//
// On a series with a budget (series.Budget.Total) the lease also holds a
// slice of the budget (lease.Slice.Money): Money when given (an amount in
// the series' currency, exact in its minor units), else the default of
// DefaultLeaseMoney; see lease_money.go.
type LeaseRequest struct {
	Till     string       `json:"till"`
	SeriesID string       `json:"series_id"`
	Key      string       `json:"key"`
	Uses     int64        `json:"uses"`
	Money    series.Money `json:"money,omitzero"`
	End      time.Time    `json:"end"`
}

// LeaseCall is a till's call on one of its leases: renew it to End, top
// it up or return Uses (and Money, of a lease that holds money). Key is
// the call's idempotency key, as in LeaseRequest. A lease of another till
// answers as one that does not exist.
type LeaseCall struct {
	Till    string       `json:"till"`
	LeaseID string       `json:"lease_id"`
	Key     string       `json:"key"`
	Uses    int64        `json:"uses,omitempty"`
	Money   series.Money `json:"money,omitzero"`
	End     time.Time    `json:"end,omitzero"`
}

// LeaseResult is the lease as the call left it, and whether the call was a
// repeat answered with its first result.
type LeaseResult struct {
	Lease    lease.Lease `json:"lease"`
	Replayed bool        `json:"replayed,omitempty"`
	// Remaining is how many uses the series had left after the call, by
	// its use limit (-1 for a series without one), for the till's lease
	// size policy.
	Remaining int64 `json:"remaining"`
	// MoneyRemaining is what the series' budget had left after the call,
	// in minor units of its currency (-1 for a series without a budget).
	MoneyRemaining int64 `json:"money_remaining,omitempty"`
}

func (r *LeaseRequest) validate() error {
	return first(
		required("Till", r.Till), input.Text("Till", input.ID, r.Till),
		required("SeriesID", r.SeriesID), idArg("SeriesID", r.SeriesID),
		required("Key", r.Key), input.Text("Key", input.Key, r.Key),
		positive("Uses", r.Uses), input.Time("End", r.End),
	)
}

func (r *LeaseCall) validate() error {
	return first(
		required("Till", r.Till), input.Text("Till", input.ID, r.Till),
		required("LeaseID", r.LeaseID), idArg("LeaseID", r.LeaseID),
		required("Key", r.Key), input.Text("Key", input.Key, r.Key),
		input.Time("End", r.End),
	)
}

func required(field, v string) error {
	if v == "" {
		return errcode.New(errcode.InvalidArgument, field, "is required")
	}
	return nil
}

func positive(field string, n int64) error {
	if n <= 0 {
		return errcode.New(errcode.InvalidArgument, field, "must be positive")
	}
	return nil
}

// leaseStore returns the engine's store as a store.LeaseStore, or an
// InvalidArgument error on "Store" when it keeps no leases.
func (e *Engine) leaseStore() (store.LeaseStore, error) {
	ls, ok := e.st.(store.LeaseStore)
	if !ok {
		return nil, errcode.New(errcode.InvalidArgument, "Store", "the store keeps no leases (store.LeaseStore)")
	}
	return ls, nil
}

// GrantLease grants a till a new lease of req.Uses uses of the series,
// counted against the series' use limit at once. The series must be
// active and open now; a request for more uses than the series has left
// is refused with an error matching errcode.ErrLimitReached that tells
// how many are left, and changes nothing.
func (e *Engine) GrantLease(ctx context.Context, req LeaseRequest) (_ LeaseResult, err error) {
	ctx, o := e.begin(ctx, observe.GrantLease, "")
	defer o.end(&err)
	if err := e.admit(req.validate()); err != nil {
		return LeaseResult{}, err
	}
	asked, err := askedMoney(req.Money)
	if err := e.admit(err); err != nil {
		return LeaseResult{}, err
	}
	want := lease.Op{Till: req.Till, Key: req.Key, Kind: lease.Grant, SeriesID: req.SeriesID, Slice: lease.Slice{Uses: req.Uses, Money: asked}, End: req.End}
	return e.leaseCall(ctx, &want, func(ctx context.Context, now time.Time) (lease.Lease, lease.Slice, error) {
		grant, cur, err := e.grantSlice(ctx, req.SeriesID, req.Uses, req.Money)
		if err != nil {
			return lease.Lease{}, grant, err
		}
		l, err := lease.New(lease.Params{ID: e.newID(), Till: req.Till, SeriesID: req.SeriesID, Currency: cur, Slice: grant, End: req.End}, now)
		return l, grant, err
	})
}

// RenewLease moves the End of one of the till's open leases to c.End,
// which must be later than both now and the lease's End.
func (e *Engine) RenewLease(ctx context.Context, c LeaseCall) (_ LeaseResult, err error) {
	ctx, o := e.begin(ctx, observe.RenewLease, "")
	defer o.end(&err)
	if err := e.admit(first(c.validate(), required("End", timeText(c.End)))); err != nil {
		return LeaseResult{}, err
	}
	want := lease.Op{Till: c.Till, Key: c.Key, Kind: lease.Renew, LeaseID: c.LeaseID, End: c.End}
	return e.onLease(ctx, &want, func(l lease.Lease, now time.Time) (lease.Lease, lease.Slice, error) {
		n, err := l.Renew(c.End, now)
		return n, lease.Slice{}, err
	})
}

// TopUpLease grants c.Uses more uses on one of the till's open leases
// that has not ended, counted against the series at once, as GrantLease
// counts them.
func (e *Engine) TopUpLease(ctx context.Context, c LeaseCall) (_ LeaseResult, err error) {
	ctx, o := e.begin(ctx, observe.TopUpLease, "")
	defer o.end(&err)
	if err := e.admit(first(c.validate(), positive("Uses", c.Uses))); err != nil {
		return LeaseResult{}, err
	}
	asked, err := askedMoney(c.Money)
	if err := e.admit(err); err != nil {
		return LeaseResult{}, err
	}
	want := lease.Op{Till: c.Till, Key: c.Key, Kind: lease.TopUp, LeaseID: c.LeaseID, Slice: lease.Slice{Uses: c.Uses, Money: asked}}
	return e.onLease(ctx, &want, func(l lease.Lease, now time.Time) (lease.Lease, lease.Slice, error) {
		add, cur, err := e.grantSlice(ctx, l.SeriesID, c.Uses, c.Money)
		if err != nil {
			return l, add, err
		}
		if l.Currency == "" && add.Money > 0 {
			l.Currency = cur // a lease granted before its series had a budget
		}
		n, err := l.TopUp(add, now)
		return n, add, err
	})
}

// ReturnLease gives c.Uses unused uses, and c.Money unspent money, of one
// of the till's open leases back to the series (a decrement of the
// series' use counter and budget counter). The lease must have that much
// left by the central's count; the till returns only what it knows it has
// not spent offline. A return that leaves the lease no use gives back all
// its money left too, which no use could spend.
func (e *Engine) ReturnLease(ctx context.Context, c LeaseCall) (_ LeaseResult, err error) {
	ctx, o := e.begin(ctx, observe.ReturnLease, "")
	defer o.end(&err)
	asked, err := askedMoney(c.Money)
	if err == nil && c.Uses <= 0 && asked <= 0 {
		err = positive("Uses", c.Uses)
	}
	if err := e.admit(first(c.validate(), nonNegative("Uses", c.Uses), err)); err != nil {
		return LeaseResult{}, err
	}
	want := lease.Op{Till: c.Till, Key: c.Key, Kind: lease.Return, LeaseID: c.LeaseID, Slice: lease.Slice{Uses: c.Uses, Money: asked}}
	return e.onLease(ctx, &want, func(l lease.Lease, now time.Time) (lease.Lease, lease.Slice, error) {
		back, err := returnSlice(&l, c.Uses, c.Money)
		if err != nil {
			return l, lease.Slice{}, err
		}
		n, err := l.Return(back, now)
		return n, lease.Slice{}.Sub(back), err
	})
}

func nonNegative(field string, n int64) error {
	if n < 0 {
		return errcode.New(errcode.InvalidArgument, field, "must not be negative")
	}
	return nil
}

// timeText is "" for the zero time, for required.
func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return "set"
}

// onLease runs a call on an existing lease of want.Till: decide gets the
// stored lease and returns it changed and the series' use counter's delta.
// A lease of another till is reported as not found.
func (e *Engine) onLease(ctx context.Context, want *lease.Op, decide func(lease.Lease, time.Time) (lease.Lease, lease.Slice, error)) (LeaseResult, error) {
	return e.leaseCall(ctx, want, func(ctx context.Context, now time.Time) (lease.Lease, lease.Slice, error) {
		ls, err := e.leaseStore()
		if err != nil {
			return lease.Lease{}, lease.Slice{}, err
		}
		l, err := ls.Lease(ctx, want.LeaseID)
		if err == nil && l.Till != want.Till {
			err = store.NotFound("lease", want.LeaseID)
		}
		if err != nil {
			return lease.Lease{}, lease.Slice{}, err
		}
		want.SeriesID = l.SeriesID
		n, delta, err := decide(l, now)
		return n, delta, err
	})
}

// leaseCall runs one exactly-once call of a till: a repeat of want's key
// is answered from its op (or refused when its parameters differ);
// otherwise decide returns the lease as the call leaves it (Version 1 for
// a new one) and the delta of the series' use counter, and the lease, the
// op and the bump are applied in one change. A grant or top-up that the
// series' limit cannot fit is refused with ErrLimitReached.
func (e *Engine) leaseCall(ctx context.Context, want *lease.Op, decide func(context.Context, time.Time) (lease.Lease, lease.Slice, error)) (LeaseResult, error) {
	ls, err := e.leaseStore()
	if err != nil {
		return LeaseResult{}, err
	}
	var out LeaseResult
	err = e.retry(ctx, func() error {
		if op, err := ls.LeaseOp(ctx, want.Till, want.Key); err == nil {
			if err := op.Same(want); err != nil {
				return err
			}
			out = LeaseResult{Lease: op.Lease, Replayed: true}
			out.Remaining, out.MoneyRemaining, err = e.remainingBoth(ctx, op.SeriesID)
			return err
		} else if !errors.Is(err, errcode.ErrNotFound) {
			return err
		}
		now := e.now()
		l, delta, err := decide(ctx, now)
		if err != nil {
			return err
		}
		ch, err := e.leaseChange(ctx, want, &l, delta, now)
		if err != nil {
			return err
		}
		if err := e.st.Apply(ctx, ch); err != nil {
			var ex *store.ExistsError
			if errors.As(err, &ex) && ex.Kind == "lease op" {
				// The same call committed meanwhile: the next attempt
				// replays it.
				return &store.ConflictError{Kind: ex.Kind, ID: ex.Key}
			}
			return err
		}
		out = LeaseResult{Lease: l}
		out.Remaining, out.MoneyRemaining, err = e.remainingBoth(ctx, l.SeriesID)
		return err
	})
	if err == nil && e.log != nil && !out.Replayed {
		e.logLease(ctx, "couponkit: lease "+want.Kind.String(), &out.Lease, slog.Int64("delta", want.Slice.Uses))
	}
	return out, err
}

// remaining returns how many uses the series has left by its use limit,
// as its counter reads now, or -1 when it has no limit.
func (e *Engine) remaining(ctx context.Context, seriesID string) (int64, error) {
	s, err := e.series(ctx, seriesID)
	if err != nil {
		return 0, err
	}
	m := s.Redemption.MaxPerSeries
	if m.Unlimited() {
		return -1, nil
	}
	var cur [1]store.Count
	if err := e.st.Counters(ctx, []store.CounterKey{{Counter: limits.SeriesUses, Series: seriesID}}, cur[:]); err != nil {
		return 0, err
	}
	return max(0, int64(m)-cur[0].N), nil
}

// leaseAllowance is the allowance of unverified uses the operator's
// policy gives uses granted of s.
func (e *Engine) leaseAllowance(s *series.Series, uses int64) int64 {
	if e.allowance == nil {
		return lease.DefaultAllowance(uses)
	}
	return max(0, e.allowance(s, uses))
}

// leaseChange builds the change of a lease call: the lease, the call's op
// and, when delta is not zero, the bump of the series' use counter, under
// the series' limit for an increment. An increment needs the series active
// and open at now, and fitting in what the series has left; it grows the
// lease's allowance by the operator's policy (Config.LeaseAllowance) for
// the uses it grants, in *l.
func (e *Engine) leaseChange(ctx context.Context, want *lease.Op, l *lease.Lease, delta lease.Slice, now time.Time) (*store.Change, error) {
	ch := &store.Change{}
	if delta.Uses != 0 {
		b, err := e.leaseBump(ctx, l, delta.Uses, now)
		if err != nil {
			return nil, err
		}
		ch.Bumps = []store.Bump{b}
	}
	if delta.Money != 0 {
		b, err := e.moneyBump(ctx, l.SeriesID, delta.Money, now)
		if err != nil {
			return nil, err
		}
		ch.Bumps = append(ch.Bumps, b)
	}
	op := *want
	op.LeaseID, op.SeriesID, op.At, op.Lease = l.ID, l.SeriesID, now, *l
	ch.Leases = []store.LeaseWrite{{Lease: *l, ExpectVersion: l.Version - 1}}
	ch.LeaseOps = []lease.Op{op}
	return ch, nil
}

// leaseBump is the bump of the series' use counter by delta that a lease
// call on l makes, checked as leaseChange says.
func (e *Engine) leaseBump(ctx context.Context, l *lease.Lease, delta int64, now time.Time) (store.Bump, error) {
	k := store.CounterKey{Counter: limits.SeriesUses, Series: l.SeriesID}
	b := store.Bump{Key: k, Delta: delta, At: now}
	if delta > 0 {
		s, err := e.series(ctx, l.SeriesID)
		if err != nil {
			return b, err
		}
		if err := leasable(s, now); err != nil {
			return b, err
		}
		b.Guard = limits.Guard{Counter: limits.SeriesUses, Limit: s.Redemption.MaxPerSeries}
		var cur [1]store.Count
		if err := e.st.Counters(ctx, []store.CounterKey{k}, cur[:]); err != nil {
			return b, err
		}
		if m := s.Redemption.MaxPerSeries; !m.Unlimited() && cur[0].N+delta > int64(m) {
			return b, errcode.New(errcode.LimitReached, "Uses",
				fmt.Sprintf("the series has %d uses left, fewer than the %d asked for", max(0, int64(m)-cur[0].N), delta))
		}
		*l = l.Allow(e.leaseAllowance(s, delta))
	}
	return b, nil
}

// leasable reports why uses of s cannot be leased at now: a series that is
// not active, or not open (before its start, after its end).
func leasable(s *series.Series, now time.Time) error {
	switch {
	case s.Status != series.Active:
		return errcode.New(errcode.SeriesPaused, "SeriesID", "the series is "+s.Status.String())
	case !s.Open(now):
		return errcode.New(errcode.SeriesExpired, "SeriesID", "the series is not open now")
	}
	return nil
}
