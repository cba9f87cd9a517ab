package couponkit

import (
	"context"
	"slices"
	"strings"

	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/observe"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// ReconcileRequest selects the tills' recorded uses to reconcile; empty
// fields select every till and every series.
type ReconcileRequest struct {
	Till     string `json:"till,omitempty"`
	SeriesID string `json:"series_id,omitempty"`
}

// Reconciliation is the report of one till's uses of one series
// recorded from its journal or online: how many were recorded, how many
// the central would have refused, the discounts those gave (one sum per
// currency, by currency), and the conflicted entries themselves, with
// their reasons; the reversals recorded and the uses they gave back; and
// the exposure the operator allowed: the till's leases of the series with
// each one's allowance of unverified uses and how many it took, and their
// sum.
type Reconciliation struct {
	Till       string         `json:"till"`
	SeriesID   string         `json:"series_id"`
	Uses       int64          `json:"uses"`
	Conflicted int64          `json:"conflicted"`
	Exposure   []series.Money `json:"exposure,omitempty"`
	Conflicts  []lease.Entry  `json:"conflicts,omitempty"`
	// Reversals is how many reversal entries were recorded; Reversed how
	// many of the uses were given back.
	Reversals int64 `json:"reversals,omitempty"`
	Reversed  int64 `json:"reversed,omitempty"`
	// Allowance is the sum of the allowances of the till's leases of the
	// series, and Leases each lease's part, ordered by lease id.
	Allowance int64           `json:"allowance,omitempty"`
	Leases    []LeaseExposure `json:"leases,omitempty"`
}

// LeaseExposure is one lease's allowance of unverified uses and the
// conflicted uses recorded on it (lease.Lease.Allowance, Conflicted): a
// lease whose Conflicted passed its Allowance had uses flagged
// errcode.AllowanceExceeded.
type LeaseExposure struct {
	LeaseID    string       `json:"lease_id"`
	Status     lease.Status `json:"status"`
	Allowance  int64        `json:"allowance"`
	Conflicted int64        `json:"conflicted"`
}

// Reconcile returns the reconciliation report of the recorded uses and
// the leases req selects: one Reconciliation per till and series that has
// either, ordered by till, then series.
func (e *Engine) Reconcile(ctx context.Context, req ReconcileRequest) (_ []Reconciliation, err error) {
	ctx, o := e.begin(ctx, observe.Reconcile, "")
	defer o.end(&err)
	if err := e.admit(first(idArg("Till", req.Till), idArg("SeriesID", req.SeriesID))); err != nil {
		return nil, err
	}
	ls, err := e.leaseStore()
	if err != nil {
		return nil, err
	}
	entries, err := ls.TillEntries(ctx, store.TillEntryQuery{Till: req.Till, SeriesID: req.SeriesID})
	if err != nil {
		return nil, err
	}
	leases, err := ls.Leases(ctx, store.LeaseQuery{Till: req.Till, SeriesID: req.SeriesID})
	if err != nil {
		return nil, err
	}
	return reconcile(entries, leases), nil
}

// reconcile groups entries and leases by till and series into their
// reports.
func reconcile(entries []lease.Entry, leases []lease.Lease) []Reconciliation {
	type group struct{ till, series string }
	at := map[group]int{}
	var out []Reconciliation
	report := func(till, seriesID string) *Reconciliation {
		g := group{till, seriesID}
		i, ok := at[g]
		if !ok {
			i = len(out)
			at[g] = i
			out = append(out, Reconciliation{Till: till, SeriesID: seriesID})
		}
		return &out[i]
	}
	for _, x := range entries {
		r := report(x.Till, x.SeriesID)
		switch {
		case x.Reverses != "":
			r.Reversals++
			continue
		case !x.Reversed.IsZero():
			r.Reversed++
		}
		r.Uses++
		if !x.Conflicted() {
			continue
		}
		r.Conflicted++
		r.Conflicts = append(r.Conflicts, x)
		r.Exposure = addMoney(r.Exposure, x.Discount)
	}
	for _, l := range leases {
		r := report(l.Till, l.SeriesID)
		r.Allowance += l.Allowance
		r.Leases = append(r.Leases, LeaseExposure{LeaseID: l.ID, Status: l.Status, Allowance: l.Allowance, Conflicted: l.Conflicted})
	}
	slices.SortFunc(out, func(a, b Reconciliation) int {
		if c := strings.Compare(a.Till, b.Till); c != 0 {
			return c
		}
		return strings.Compare(a.SeriesID, b.SeriesID)
	})
	return out
}

// addMoney adds m to the sum of its currency in sums, kept by currency.
func addMoney(sums []series.Money, m series.Money) []series.Money {
	i, found := slices.BinarySearchFunc(sums, m.Currency, func(s series.Money, c string) int { return strings.Compare(s.Currency, c) })
	if found {
		sums[i].Amount = sums[i].Amount.Add(m.Amount)
		return sums
	}
	return slices.Insert(sums, i, m)
}
