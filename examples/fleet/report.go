package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/examples/fleet/central"
	"github.com/couponkit/couponkit/store"
)

// report prints the reconciliation report of series id and the audit of
// its books, and returns an error when the audit found a problem.
func report(ctx context.Context, w io.Writer, st store.Store, id string) error {
	eng, err := couponkit.New(couponkit.Config{Store: st})
	if err != nil {
		return err
	}
	rep, err := eng.Reconcile(ctx, couponkit.ReconcileRequest{SeriesID: id})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "reconciliation of series %s:\n", id)
	for _, r := range rep {
		fmt.Fprintf(w, "  till %-3s %4d uses recorded, %d conflicted%s\n", r.Till, r.Uses, r.Conflicted, exposure(r))
		for i, c := range r.Conflicts {
			if i == 3 {
				fmt.Fprintf(w, "      ... and %d more\n", len(r.Conflicts)-3)
				break
			}
			fmt.Fprintf(w, "      %s: %s for %s: %s\n", c.Key, c.Code, c.Customer, c.Conflicts[0].Message)
		}
	}
	a, err := central.Check(ctx, st, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "books of series %s:\n", id)
	fmt.Fprintf(w, "  use counter %d of a limit of %d\n", a.Counter, a.Limit)
	fmt.Fprintf(w, "  %d leases (%d open): granted %d = used %d + returned %d + reclaimed %d + left %d\n",
		a.Leases, a.Open, a.Granted, a.Used, a.Returned, a.Reclaimed, a.Left)
	fmt.Fprintf(w, "  %d uses recorded (%d decided online, %d from journals; %d on leases, %d on the series), %d conflicted\n",
		a.Entries, a.Online, a.Entries-a.Online, a.OnLease, a.OnSeries, a.Conflicted)
	fmt.Fprintf(w, "  %d reversals gave back %d uses (%d counted on leases, %d on the series); %d redemptions stand, %d reversed\n",
		a.Reversals, a.ReversedOnLease+a.ReversedOnSeries, a.ReversedOnLease, a.ReversedOnSeries, a.Redemptions, a.Reversed)
	fmt.Fprintf(w, "  use counter %d = %d unreversed uses on the series + %d held by leases - %d reversed uses on leases\n",
		a.Counter, a.OnSeries-a.ReversedOnSeries, a.Granted-a.Returned-a.Reclaimed, a.ReversedOnLease)
	if len(a.Problems) > 0 {
		return fmt.Errorf("the books do not hold:\n  %s", strings.Join(a.Problems, "\n  "))
	}
	fmt.Fprintf(w, "  the limit held, and the counters equal the records\n")
	return nil
}

// exposure is ", exposure 10 EUR" for a report with conflicts.
func exposure(r couponkit.Reconciliation) string {
	var parts []string
	for _, m := range r.Exposure {
		parts = append(parts, m.Amount.String()+" "+m.Currency)
	}
	if len(parts) == 0 {
		return ""
	}
	return ", exposure " + strings.Join(parts, " + ")
}
