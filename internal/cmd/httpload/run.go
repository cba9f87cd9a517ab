package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
)

// contender is one way of redeeming that the program times.
type contender struct {
	name   string
	redeem redeemer
}

// run times every contender cfg.rounds times, rotating which goes first
// from round to round, and writes the rates of each round and the summary
// to w: each contender's median, least and greatest rate, and the ratio of
// each HTTP contender to the engine in-process. With cfg.daemon it stops
// couponkitd with SIGTERM at the end and writes how it exited.
func run(ctx context.Context, cfg config, w io.Writer) (err error) {
	b, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, b.close()) }()
	cs := []contender{{"in-process", b.inProcess}, {"http", b.overHTTP}}
	if b.daemon != nil {
		cs = append(cs, contender{"couponkitd", b.overDaemon})
	}
	fmt.Fprintf(w, "PostgreSQL, %d clients, %d redemptions per run, %d rounds\n", cfg.clients, cfg.n, cfg.rounds)
	rates, err := rounds(ctx, b, cfg, cs, w)
	if err != nil {
		return err
	}
	summary(w, cs, rates)
	if cfg.daemon {
		exit, err := b.stopDaemon()
		fmt.Fprintf(w, "couponkitd stopped with SIGTERM: %s\n", exit)
		if err != nil {
			return err
		}
	}
	return nil
}

// rounds times the contenders cfg.rounds times; round r starts with
// contender r mod len(cs) and goes on in order, so that each contender
// goes first as often as the others over len(cs) rounds. It answers the
// rates, by contender then round.
func rounds(ctx context.Context, b *bench, cfg config, cs []contender, w io.Writer) ([][]float64, error) {
	rates := make([][]float64, len(cs))
	for r := range cfg.rounds {
		for k := range cs {
			c := (r + k) % len(cs)
			rate, err := b.timed(ctx, cs[c].redeem, cfg.clients, cfg.n)
			if err != nil {
				return nil, fmt.Errorf("round %d, %s: %w", r+1, cs[c].name, err)
			}
			rates[c] = append(rates[c], rate)
			fmt.Fprintf(w, "round %d  %-10s  %8.0f redemptions/s\n", r+1, cs[c].name, rate)
		}
	}
	return rates, nil
}

// summary writes each contender's median, least and greatest rate, and
// the ratio of each contender after the first (the engine in-process) to
// the first: of the medians, and within each round, whose runs are
// neighbours in time and so steadier when the machine's load drifts.
func summary(w io.Writer, cs []contender, rates [][]float64) {
	med := make([]float64, len(cs))
	for c, rs := range rates {
		med[c] = median(rs)
		fmt.Fprintf(w, "%-10s  median %8.0f/s  min %8.0f/s  max %8.0f/s\n", cs[c].name, med[c], slices.Min(rs), slices.Max(rs))
	}
	base := cs[0].name
	for c := 1; c < len(cs); c++ {
		fmt.Fprintf(w, "ratio %s ÷ %s (medians): %.2f\n", cs[c].name, base, med[c]/med[0])
		paired := make([]float64, len(rates[0]))
		for r := range paired {
			paired[r] = rates[c][r] / rates[0][r]
		}
		fmt.Fprintf(w, "ratio %s ÷ %s per round: median %.2f, min %.2f, max %.2f\n",
			cs[c].name, base, median(paired), slices.Min(paired), slices.Max(paired))
	}
}

// median is the median of xs, which is not empty.
func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
