package couponkit

import (
	"context"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
)

// GenerateBatch is how many codes Generate makes and inserts per store call.
const GenerateBatch = 10000

// Generate pre-generates n Available codes into the pool of a Generated
// series, in batches of GenerateBatch, calling progress (when not nil) after
// each batch with the number made so far. Each batch reserves its block of
// code indexes first, so concurrent or repeated runs never make the same
// code; a run interrupted by a crash leaves whole batches and can simply be
// run again for the rest (the indexes of a lost batch are skipped).
func (e *Engine) Generate(ctx context.Context, seriesID string, n int, progress func(done int)) (int, error) {
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
	width := g.Width()
	buf := make([]byte, GenerateBatch*width)
	cs := make([]coupon.Coupon, 0, GenerateBatch)
	evs := make([]coupon.Event, 0, GenerateBatch)
	done := 0
	for done < n {
		if err := ctx.Err(); err != nil {
			return done, err
		}
		k := min(GenerateBatch, n-done)
		from, err := e.st.Reserve(ctx, s.ID, int64(k))
		if err != nil {
			return done, err
		}
		if err := g.Generate(buf[:k*width], uint64(from), uint64(from)+uint64(k)); err != nil {
			return done, err
		}
		now := e.now()
		cs, evs = cs[:0], evs[:0]
		for i := range k {
			code := string(buf[i*width : (i+1)*width])
			c, ev, err := coupon.New(coupon.NewParams{ID: e.newID(), SeriesID: s.ID, Code: code, Canonical: code}, now)
			if err != nil {
				return done, err
			}
			ev.ID = e.newID()
			cs, evs = append(cs, c), append(evs, ev)
		}
		if _, err := e.st.InsertCoupons(ctx, cs, evs); err != nil {
			return done, err
		}
		done += k
		if progress != nil {
			progress(done)
		}
	}
	return done, nil
}
