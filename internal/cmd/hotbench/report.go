package main

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
)

// printExactness writes the exactness table: one line per contender, with
// a failure or, for the unsafe contender, the overshoot as a warning.
func printExactness(w io.Writer, xs []exactness, attempts, clients int) {
	if len(xs) == 0 {
		return
	}
	fmt.Fprintf(w, "\nexactness: limit %d, %d attempts on distinct coupons, %d clients (redeemed and stored must equal the limit)\n",
		xs[0].limit, attempts, clients)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "contender\tredeemed\tstored\trefused\tredeemed/s over the race\t\n")
	for _, x := range xs {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.0f\t  %s\n", x.name, x.ok, x.stored, x.refused, x.rateWhileRacing, verdict(x))
	}
	tw.Flush()
}

// verdict is the result column of an exactness line.
func verdict(x exactness) string {
	switch {
	case x.err != nil:
		return "FAILED: " + x.err.Error()
	case x.exact():
		return "exact"
	case x.unsafe:
		over := max(x.ok, x.stored) - int64(x.limit)
		return fmt.Sprintf("WARNING: overshoot %d (%.1f%% over the limit), as expected of this pattern", over, 100*float64(over)/float64(x.limit))
	default:
		return "NOT EXACT"
	}
}

// printRates writes the throughput table: each timed contender's median
// rate over the rounds and its spread, the ratio of couponkit's median on
// the same database to its median, and the median over the rounds of the
// ratio within each round (each contender runs once per round, so
// rates[name][r] is round r's: the machine's load drifts less within a
// round than across rounds).
func printRates(w io.Writer, cs []contender, rates map[string][]float64, unit string) {
	ck := map[string]string{}
	for _, c := range cs {
		if c.couponkit {
			ck[c.db] = c.name
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "contender\t%s (median)\tmin\tmax\tcouponkit ÷ contender\tper-round ratio (median)\t\n", unit)
	for _, c := range cs {
		rs := rates[c.name]
		if len(rs) == 0 {
			continue
		}
		ratio, paired := "—", "—"
		if base := rates[ck[c.db]]; !c.couponkit && c.versus == "" && len(base) == len(rs) {
			ratio = fmt.Sprintf("%.2f", median(base)/median(rs))
			per := make([]float64, len(rs))
			for r := range rs {
				per[r] = base[r] / rs[r]
			}
			paired = fmt.Sprintf("%.2f", median(per))
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.0f\t%s\t%s\t\n", c.name, median(rs), slices.Min(rs), slices.Max(rs), ratio, paired)
	}
	tw.Flush()
}

// printVariants writes, for each timed contender that is a variant of
// another (versus), the ratio of its median rate to the other's and the
// median over the rounds of the ratio within each round: for couponkit
// with a money budget, budget ÷ no budget, 1 when the budget costs
// nothing. Nothing is written without such contenders.
func printVariants(w io.Writer, cs []contender, rates map[string][]float64) {
	var tw *tabwriter.Writer
	for _, c := range cs {
		rs, base := rates[c.name], rates[c.versus]
		if c.versus == "" || len(rs) == 0 || len(base) != len(rs) {
			continue
		}
		if tw == nil {
			fmt.Fprintln(w)
			tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintf(tw, "variant\tversus\tvariant ÷ versus, rates' medians\tper-round ratio (median)\t\n")
		}
		per := make([]float64, len(rs))
		for r := range rs {
			per[r] = rs[r] / base[r]
		}
		fmt.Fprintf(tw, "%s\t%s\t%.3f\t%.3f\t\n", c.name, c.versus, median(rs)/median(base), median(per))
	}
	if tw != nil {
		tw.Flush()
	}
}

// printCPU writes, for the contenders on database db, a CPU time per
// redemption over the rounds (the median, its spread), what, and the
// ratio contender ÷ couponkit of the medians: at least 1 when couponkit
// uses no more CPU per redemption. The process's CPU time is, on SQLite,
// which runs in the process, every contender's whole cost; the machine's
// is, on PostgreSQL on the same machine, the client's and the server's
// work together. Either depends less on the machine's other load than the
// rates do. Nothing is written without such runs.
func printCPU(w io.Writer, cs []contender, cpu map[string][]float64, db, what string) {
	ck := ""
	for _, c := range cs {
		if c.couponkit && c.db == db {
			ck = c.name
		}
	}
	if len(cpu[ck]) == 0 || median(cpu[ck]) <= 0 {
		return
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "contender	%s µs/redemption (median)	min	max	contender ÷ couponkit	\n", what)
	for _, c := range cs {
		xs := cpu[c.name]
		if c.db != db || len(xs) == 0 {
			continue
		}
		ratio := "—"
		if !c.couponkit {
			ratio = fmt.Sprintf("%.2f", median(xs)/median(cpu[ck]))
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.0f\t%s\t\n", c.name, median(xs), slices.Min(xs), slices.Max(xs), ratio)
	}
	tw.Flush()
}
