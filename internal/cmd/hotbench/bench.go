package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// A contender is one way of redeeming on one database: couponkit's engine
// or a hand-written strategy.
type contender struct {
	// name identifies the contender in the output.
	name string
	// db is the database it runs on: "postgres" or "sqlite".
	db string
	// couponkit marks the engine's contender, the numerator of the
	// ratios of the other contenders of its database.
	couponkit bool
	// versus, when set, names the contender this one is a variant of
	// (couponkit with a budget, of couponkit without): the ratio printed
	// for it is its rate ÷ that contender's, not couponkit's ÷ its.
	versus string
	// unsafe marks a contender that is known to overshoot: its exactness
	// is a warning figure, not a failure, and it is not timed.
	unsafe bool
	// prepare makes a fresh series (or counter) of the given limit with
	// attempts coupons to redeem, outside the timed part.
	prepare func(ctx context.Context, limit, attempts int) (*trial, error)
}

// A trial is one prepared series of a contender.
type trial struct {
	// attempt redeems the i-th coupon of the series: true when redeemed,
	// false when refused because the limit is reached.
	attempt func(ctx context.Context, i int) (bool, error)
	// stored counts the redemptions the database holds for the series.
	stored func(ctx context.Context) (int64, error)
	// release, when not nil, frees what the trial held once it is over.
	release func()
}

// outcome is what one run of a trial measured: the process's CPU time
// (every goroutine's, the in-process SQLite's work included) and the
// machine's (with a database server's work) besides the wall time.
type outcome struct {
	ok, refused  int64
	elapsed      time.Duration
	cpu, machine time.Duration
}

// rate is the redemptions per second of the run.
func (o outcome) rate() float64 { return float64(o.ok) / o.elapsed.Seconds() }

// cpuPer is the process's CPU time per redemption of the run, in
// microseconds.
func (o outcome) cpuPer() float64 { return perRedemption(o.cpu, o.ok) }

// machinePer is the machine's CPU time per redemption of the run, in
// microseconds.
func (o outcome) machinePer() float64 { return perRedemption(o.machine, o.ok) }

// perRedemption is d per redemption of ok, in microseconds.
func perRedemption(d time.Duration, ok int64) float64 {
	return float64(d.Microseconds()) / float64(max(ok, 1))
}

// race runs attempts attempts of tr from clients goroutines, each taking
// the next coupon in turn, and returns the counts and the wall time. The
// first error stops every client and is returned.
func race(ctx context.Context, tr *trial, clients, attempts int) (outcome, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next, ok, refused atomic.Int64
	var once sync.Once
	var first error
	var wg sync.WaitGroup
	cpu0, machine0 := processCPU(), machineCPU()
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= attempts {
					return
				}
				done, err := tr.attempt(ctx, i)
				switch {
				case err != nil:
					once.Do(func() { first = fmt.Errorf("attempt %d: %w", i, err); cancel() })
				case done:
					ok.Add(1)
				default:
					refused.Add(1)
				}
			}
		})
	}
	wg.Wait()
	o := outcome{ok: ok.Load(), refused: refused.Load(), elapsed: time.Since(start),
		cpu: processCPU() - cpu0, machine: machineCPU() - machine0}
	if first == nil && ctx.Err() != nil {
		first = ctx.Err()
	}
	return o, first
}

// exactness is the result of the exactness check of one contender: a
// series of limit limit, attempts attempts from the configured clients.
type exactness struct {
	name, db        string
	unsafe          bool
	limit           int
	ok, stored      int64
	refused         int64
	err             error
	rateWhileRacing float64
}

// exact reports whether both the successes the clients saw and the
// redemptions stored equal the limit.
func (x exactness) exact() bool {
	return x.err == nil && x.ok == int64(x.limit) && x.stored == int64(x.limit)
}

// checkExact runs the exactness check of c.
func checkExact(ctx context.Context, c contender, limit, attempts, clients int) exactness {
	x := exactness{name: c.name, db: c.db, unsafe: c.unsafe, limit: limit}
	tr, err := c.prepare(ctx, limit, attempts)
	if err != nil {
		x.err = fmt.Errorf("prepare: %w", err)
		return x
	}
	if tr.release != nil {
		defer tr.release()
	}
	o, err := race(ctx, tr, clients, attempts)
	x.ok, x.refused, x.rateWhileRacing = o.ok, o.refused, o.rate()
	if err != nil {
		x.err = err
		return x
	}
	x.stored, x.err = tr.stored(ctx)
	return x
}

// timeOne prepares a series of c whose limit is not reached (twice the
// attempts) and times attempts redemptions of it.
func timeOne(ctx context.Context, c contender, attempts, clients int) (outcome, error) {
	tr, err := c.prepare(ctx, 2*attempts, attempts)
	if err != nil {
		return outcome{}, fmt.Errorf("%s: prepare: %w", c.name, err)
	}
	if tr.release != nil {
		defer tr.release()
	}
	o, err := race(ctx, tr, clients, attempts)
	if err != nil {
		return outcome{}, fmt.Errorf("%s: %w", c.name, err)
	}
	if o.ok != int64(attempts) {
		return outcome{}, fmt.Errorf("%s: %d of %d attempts redeemed below the limit", c.name, o.ok, attempts)
	}
	return o, nil
}

// timings are the runs of the rounds by contender name: the rate of each
// run, and the process's and the machine's CPU time per redemption
// (microseconds).
type timings struct {
	rates, cpu, machine map[string][]float64
}

// rounds times every timed contender once per round, in the order
// runOrder gives (none always runs first, nor always after the same
// neighbour, whose leftovers, such as the server's vacuuming of its rows,
// it would pay for), and returns each contender's runs by name. progress,
// when not nil, is called after each run.
func rounds(ctx context.Context, cs []contender, n, attempts, clients int, progress func(round int, name string, rate float64)) (timings, error) {
	var timed []contender
	for _, c := range cs {
		if !c.unsafe {
			timed = append(timed, c)
		}
	}
	t := timings{rates: map[string][]float64{}, cpu: map[string][]float64{}, machine: map[string][]float64{}}
	for r := range n {
		for _, i := range runOrder(len(timed), r) {
			c := timed[i]
			o, err := timeOne(ctx, c, attempts, clients)
			if err != nil {
				return t, fmt.Errorf("round %d: %w", r+1, err)
			}
			t.rates[c.name] = append(t.rates[c.name], o.rate())
			t.cpu[c.name] = append(t.cpu[c.name], o.cpuPer())
			t.machine[c.name] = append(t.machine[c.name], o.machinePer())
			if progress != nil {
				progress(r+1, c.name, o.rate())
			}
		}
	}
	return t, nil
}

// runOrder is the order of the n contenders in round r: the rows of a
// balanced Latin square (0, 1, n-1, 2, n-2, ... shifted by r), each row
// after the first n reversed in turn. Over n rounds (2n for an odd n)
// every contender runs once in each place and right after every other
// the same number of times; a plain rotation would keep each one's
// neighbours. No contenders (-only matching none) have no order.
func runOrder(n, r int) []int {
	if n == 0 {
		return nil
	}
	order := make([]int, n)
	lo, hi := 1, n-1
	for k := range order {
		var base int
		switch {
		case k == 0:
			base = 0
		case k%2 == 1:
			base, lo = lo, lo+1
		default:
			base, hi = hi, hi-1
		}
		order[k] = (base + r) % n
	}
	if (r/n)%2 == 1 {
		slices.Reverse(order)
	}
	return order
}

// median is the median of xs (the mean of the middle two for an even
// count), 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
