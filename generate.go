package couponkit

import (
	"context"
	"fmt"
	"time"

	"github.com/couponkit/couponkit/codegen"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/observe"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// GenerateBatch is how many codes Generate makes and inserts per store call.
const GenerateBatch = 10000

// GenerateRequest asks for N codes to be made ahead of issue into the pool
// of a Generated series.
type GenerateRequest struct {
	SeriesID string `json:"series_id"`
	N        int    `json:"n"`
	// Progress, when set, is called after each batch with the number of
	// codes made so far.
	Progress func(done int) `json:"-"`
}

// Generate pre-generates req.N Available codes into the pool of a
// Generated series, in batches of GenerateBatch, calling req.Progress (when
// not nil) after each batch with the number made so far. Each batch appends one Created
// event for the series (no coupon id) naming the code indexes it made.
//
// Generate is refused as a whole when the code space, or the series' fill
// ratio (series.Source.FillLimit), has no room for n more codes: an error
// matching errcode.ErrCapacityExceeded or errcode.ErrFillRatioExceeded
// (Field "N"), and nothing is made or moved.
// Each batch is one change that inserts its codes and advances the series'
// code sequence past them (store.Change.Sequence), so a run interrupted by
// a crash or a cancelled context leaves whole batches, reports how many
// codes it made, and moves the sequence by exactly those: run it again for
// the rest. A batch that conflicts with codes minted meanwhile by another
// engine is made again from the new next index; when the codes minted
// meanwhile leave no room for the rest, Generate stops with the codes made
// so far and the refusal. Within one engine, Generate holds the series'
// mint lock (see lockMinting) while it runs, progress calls included:
// progress must not wait for an issue of the series that mints a code.
//
// The next batch is made while the store applies the current one, so code
// generation and the store's work overlap.
func (e *Engine) Generate(ctx context.Context, req GenerateRequest) (_ int, err error) {
	ctx, o := e.begin(ctx, observe.Generate, "")
	defer o.end(&err)
	seriesID, n, progress := req.SeriesID, req.N, req.Progress
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
	claim, err := e.claim(ctx, &s, g, 0)
	if err != nil {
		return 0, err
	}
	defer claim.release()
	done := 0
	for attempt := 1; ; attempt++ {
		next := claim.adv.From
		if err := roomFor(g, next, int64(n-done)); err != nil {
			return done, &errcode.Error{Code: errcode.CodeOf(err), Field: "N", Err: err,
				Message: fmt.Sprintf("series %s has room for %d more codes, %d asked", s.ID, roomLeft(g, next), n-done)}
		}
		k, err := e.generateFrom(ctx, &s, g, next, n-done, func(k int) {
			if progress != nil {
				progress(done + k)
			}
		})
		done += k
		if !lostSequence(err) || attempt == mintRaceFactor*e.attempts {
			return done, err
		}
		// Another engine minted meanwhile: go on from where it left the
		// sequence.
		if claim.adv.From, err = e.st.NextIndex(ctx, s.ID); err != nil {
			return done, err
		}
	}
}

// generateFrom makes and applies batches of the codes of indexes next to
// next+want-1, each batch one change that advances the sequence past it,
// calling made with the number applied so far after each batch. It returns
// how many it applied and the error that stopped it.
func (e *Engine) generateFrom(ctx context.Context, s *series.Series, g *codegen.Generator, next int64, want int, made func(int)) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan genBatch, 1)
	go func() {
		defer close(batches)
		buf := make([]byte, GenerateBatch*g.Width())
		for at, end := next, next+int64(want); at < end; {
			k := int(min(GenerateBatch, end-at))
			b, err := makeBatch(s.ID, g, buf, at, k, e.now(), e)
			select {
			case batches <- genBatch{b, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
			at += int64(k)
		}
	}()
	done := 0
	for b := range batches {
		if b.err != nil {
			return done, b.err
		}
		ch := &store.Change{NewCoupons: b.coupons, Events: b.events, Sequence: &b.seq}
		err := e.rerun(ctx, func() error { return lostMintRace(ch, e.st.Apply(ctx, ch)) })
		if err != nil {
			return done, err
		}
		done += len(b.coupons)
		made(done)
	}
	return done, ctx.Err()
}

// genBatch is one batch of generated coupons and their Created event, or
// the error that stopped making it.
type genBatch struct {
	batch
	err error
}

type batch struct {
	coupons []coupon.Coupon
	events  []coupon.Event
	seq     store.SequenceAdvance
}

// makeBatch makes the coupons of series seriesID for the k code indexes
// from from on, at now, using buf for the codes and ids for their ids, and
// the advance of the sequence past them.
func makeBatch(seriesID string, g *codegen.Generator, buf []byte, from int64, k int, now time.Time, ids idSource) (batch, error) {
	to := from + int64(k)
	w := g.Width()
	if err := g.Generate(buf[:k*w], uint64(from), uint64(to)); err != nil {
		return batch{}, err
	}
	b := batch{coupons: make([]coupon.Coupon, k), seq: store.SequenceAdvance{SeriesID: seriesID, From: from, To: to}}
	for i := range k {
		code := string(buf[i*w : (i+1)*w])
		c, _, err := coupon.New(coupon.NewParams{ID: ids.nextID(), SeriesID: seriesID, Code: code, Canonical: code}, now)
		if err != nil {
			return batch{}, err
		}
		b.coupons[i] = c
	}
	// The batch is one change, and has one event; each coupon's CreatedAt
	// records its own creation.
	b.events = []coupon.Event{{
		ID: ids.nextID(), Kind: coupon.EventCreated, SeriesID: seriesID, At: now,
		Reason: fmt.Sprintf("generated %d codes, indexes %d to %d", k, from, to-1),
	}}
	return b, nil
}
