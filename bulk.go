package couponkit

import (
	"context"
	"fmt"

	"github.com/couponkit/couponkit/codegen"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
)

// GenerateBatch is how many codes Generate makes and inserts per store call.
const GenerateBatch = 10000

// Generate pre-generates n Available codes into the pool of a Generated
// series, in batches of GenerateBatch, calling progress (when not nil) after
// each batch with the number made so far. Each batch appends one Created
// event for the series (no coupon id) naming the code indexes it made. Each batch reserves its block of
// code indexes first, so concurrent or repeated runs never make the same
// code; a run interrupted by a crash leaves whole batches and can simply be
// run again for the rest (the indexes of a lost batch are skipped).
//
// The next batch is made while the store inserts the current one, so code
// generation and the store's work overlap.
//
// n codes past what the series' fill ratio (series.Source.FillLimit) still
// allows are refused up front with FillRatioExceeded, and nothing is made.
func (e *Engine) Generate(ctx context.Context, seriesID string, n int, progress func(done int)) (int, error) {
	if err := e.admit(idArg("SeriesID", seriesID)); err != nil {
		return 0, err
	}
	s, err := e.st.Series(ctx, seriesID)
	if err != nil {
		return 0, err
	}
	if s.Source.Kind != series.Generated {
		return 0, errcode.New(errcode.InvalidArgument, "SeriesID", "series "+s.ID+" does not generate unique codes")
	}
	if n < 0 {
		return 0, errcode.New(errcode.InvalidArgument, "N", "is negative")
	}
	g, err := e.generator(ctx, &s)
	if err != nil {
		return 0, err
	}
	if err := e.checkFill(ctx, &s, g, n); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan genBatch, 1)
	go func() {
		defer close(batches)
		buf := make([]byte, GenerateBatch*g.Width())
		for made := 0; made < n; {
			k := min(GenerateBatch, n-made)
			b, err := e.makeBatch(ctx, &s, g, buf, k)
			select {
			case batches <- genBatch{b, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
			made += k
		}
	}()
	done := 0
	for b := range batches {
		if b.err != nil {
			return done, b.err
		}
		if _, err := e.st.InsertCoupons(ctx, b.coupons, b.events); err != nil {
			return done, err
		}
		done += len(b.coupons)
		if progress != nil {
			progress(done)
		}
	}
	return done, ctx.Err()
}

// genBatch is one batch of generated coupons and their Created events, or
// the error that stopped making it.
type genBatch struct {
	batch
	err error
}

type batch struct {
	coupons []coupon.Coupon
	events  []coupon.Event
}

// makeBatch reserves k code indexes of the series and makes their coupons,
// using buf for the codes.
func (e *Engine) makeBatch(ctx context.Context, s *series.Series, g *codegen.Generator, buf []byte, k int) (batch, error) {
	from, err := e.st.Reserve(ctx, s.ID, int64(k))
	if err != nil {
		return batch{}, err
	}
	w := g.Width()
	if err := g.Generate(buf[:k*w], uint64(from), uint64(from)+uint64(k)); err != nil {
		return batch{}, err
	}
	now := e.now()
	b := batch{coupons: make([]coupon.Coupon, k)}
	for i := range k {
		code := string(buf[i*w : (i+1)*w])
		c, _, err := coupon.New(coupon.NewParams{ID: e.newID(), SeriesID: s.ID, Code: code, Canonical: code}, now)
		if err != nil {
			return batch{}, err
		}
		b.coupons[i] = c
	}
	// The batch is one change, and has one event; each coupon's CreatedAt
	// records its own creation.
	b.events = []coupon.Event{{
		ID: e.newID(), Kind: coupon.EventCreated, SeriesID: s.ID, At: now,
		Reason: fmt.Sprintf("generated %d codes, indexes %d to %d", k, from, from+int64(k)-1),
	}}
	return b, nil
}
