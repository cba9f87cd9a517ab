package couponkit

import (
	"context"
	"slices"
	"strings"

	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// ReconcileRequest selects the tills' recorded uses to reconcile; empty
// fields select every till and every series.
type ReconcileRequest struct {
	Till     string `json:"till,omitempty"`
	SeriesID string `json:"series_id,omitempty"`
}

// Reconciliation is the report of one till's offline uses of one series:
// how many were recorded, how many the central would have refused, the
// discounts those gave (one sum per currency, by currency), and the
// conflicted entries themselves, with their reasons.
type Reconciliation struct {
	Till       string         `json:"till"`
	SeriesID   string         `json:"series_id"`
	Uses       int64          `json:"uses"`
	Conflicted int64          `json:"conflicted"`
	Exposure   []series.Money `json:"exposure,omitempty"`
	Conflicts  []lease.Entry  `json:"conflicts,omitempty"`
}

// Reconcile returns the reconciliation report of the recorded offline
// uses req selects: one Reconciliation per till and series, ordered by
// till, then series.
func (e *Engine) Reconcile(ctx context.Context, req ReconcileRequest) ([]Reconciliation, error) {
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
	return reconcile(entries), nil
}

// reconcile groups entries by till and series into their reports.
func reconcile(entries []lease.Entry) []Reconciliation {
	type group struct{ till, series string }
	at := map[group]int{}
	var out []Reconciliation
	for _, x := range entries {
		g := group{x.Till, x.SeriesID}
		i, ok := at[g]
		if !ok {
			i = len(out)
			at[g] = i
			out = append(out, Reconciliation{Till: x.Till, SeriesID: x.SeriesID})
		}
		r := &out[i]
		r.Uses++
		if !x.Conflicted() {
			continue
		}
		r.Conflicted++
		r.Conflicts = append(r.Conflicts, x)
		r.Exposure = addMoney(r.Exposure, x.Discount)
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
