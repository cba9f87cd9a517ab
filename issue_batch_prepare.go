package couponkit

import (
	"context"
	"errors"
	"math"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/store"
)

// applyPrepared writes the change of a prepared batch, if it has one.
func (e *Engine) applyPrepared(ctx context.Context, p *preparedBatch) error {
	if p.ch == nil {
		return nil
	}
	return e.st.Apply(ctx, p.ch)
}

// preparedBatch is a batch of the one-change path read, decided and made
// into its change, ready to be written.
type preparedBatch struct {
	b       *issueBatch
	reqs    []IssueRequest
	out     []IssueOutcome
	allowed []int
	ch      *store.Change // nil when nothing was allowed
	// overlaid are the counters to be taken from the batch written before
	// (prepareBatch's after) once it is written.
	overlaid []overlaidCount
	// What a batch prepared while this one's change is written takes from
	// it (overlay), kept apart from the change (keepForNext).
	bumpOf map[string]int
	keyed  []keyedCoupon
}

// keyedCoupon is a coupon a batch issues with an idempotency key, and the
// customer it is issued to.
type keyedCoupon struct {
	key      string
	c        coupon.Coupon
	customer string
}

// prepareBatch reads and decides a batch of the one-change path and makes
// its change. It reports false, having written nothing and holding no
// lock, when the batch must be issued one by one.
//
// With after nil the batch is prepared on its own: it claims the series'
// code sequence under the mint lock, held until the change is applied
// (applyBatch). With after, a prepared batch of the same series whose
// change is being written while this one is prepared (IssueBatches), the
// batch is only read, as if after were written: its codes will follow
// after's, claimed without the lock (after holds it), the counters after
// bumps will be taken at the values the store writes, and the coupons
// after issues with idempotency keys count as issued before. takeOver
// decides it once after is written. It reports false when the batch
// cannot be prepared that way (pipelines).
func (e *Engine) prepareBatch(ctx context.Context, reqs []IssueRequest, out []IssueOutcome, after *preparedBatch) (*preparedBatch, bool, error) {
	s, ok := e.batchSeries(ctx, reqs)
	if !ok {
		return nil, false, nil
	}
	loc, err := e.location(s)
	if err != nil {
		return nil, false, err
	}
	b := &issueBatch{s: s, loc: loc, now: e.now()}
	if after == nil {
		b.g, b.claim, b.room, ok, err = e.batchMint(ctx, s)
		if !ok || err != nil {
			return nil, false, err
		}
	} else if !after.pipelines(s) {
		return nil, false, nil
	} else if b.g, b.claim = after.b.g, after.b.claim.follow(); b.claim != nil {
		b.room = roomLeft(b.g, b.claim.adv.From)
	} else {
		b.room = math.MaxInt64
	}
	p := &preparedBatch{b: b, reqs: reqs, out: out}
	if err := e.readBatch(ctx, b, reqs, out); err != nil {
		b.claim.release()
		return nil, false, err
	}
	if after != nil {
		p.overlay(after)
		return p, true, nil
	}
	if err := e.decidePrepared(p); err != nil {
		b.claim.release()
		return nil, false, err
	}
	return p, true, nil
}

// decidePrepared decides the batch from the counters in p.b.counts and makes
// its change.
func (e *Engine) decidePrepared(p *preparedBatch) error {
	p.allowed = decideBatch(p.b, p.reqs, p.out)
	ch, err := e.batchChange(p.b, p.reqs, p.allowed, p.out)
	if err != nil {
		return err
	}
	p.ch = ch
	if len(p.allowed) == 0 {
		p.ch = nil
	}
	return nil
}

// applyBatch finishes a prepared batch whose change the store applied with
// the error applyErr (a batch with nothing allowed applies nothing). On a
// conflict or a failed guard, the snapshot was stale and nothing was
// written: it clears the outcomes, gives the lock back and reports false,
// for the batch to be issued one by one.
func (e *Engine) applyBatch(ctx context.Context, p *preparedBatch, applyErr error) (bool, error) {
	b := p.b
	defer b.claim.release()
	if p.ch == nil {
		return true, nil
	}
	if applyErr != nil {
		if errors.Is(applyErr, errcode.ErrConflict) || errors.Is(applyErr, errcode.ErrGuardFailed) || errors.Is(applyErr, errcode.ErrAlreadyExists) {
			clear(p.out) // the snapshot was stale: nothing was written; go one by one
			return false, nil
		}
		return false, applyErr
	}
	b.claim.release() // before OnRemaining, which may issue
	for i, j := range b.replayOf {
		if j >= 0 {
			p.out[i].Result = IssueResult{Coupon: p.out[j].Result.Coupon, Replayed: true}
		}
	}
	after := p.ch.Bumps[0].After.N // the series' issued counter
	e.notifyCrossing(ctx, b.s, after-int64(len(p.allowed)), after)
	return true, nil
}
