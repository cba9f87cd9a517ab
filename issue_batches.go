package couponkit

import (
	"context"
	"iter"
	"slices"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/observe"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// IssueBatches issues the batches of requests that batches yields, one
// after another, each exactly as IssueBatch would issue it once the batches
// before it are issued, and calls done with each batch's outcomes, in
// order, before the next batch is written. It is IssueBatch for a stream
// of batches, such as the rows of a file, and faster on a database server
// (a store that implements store.ReadAhead, as PostgreSQL's does): while
// one batch's change is being written, the next batch is read, as if the
// first were written already, and it is decided once the first is.
//
// done is called once per batch, with the outcomes of its requests and a
// nil error, or, when a failure stops the batch (as it would stop
// IssueBatch), with the outcomes of the requests before the one that met
// it and that error; IssueBatches then returns the error. When done
// returns an error, IssueBatches stops and returns it: the batches after
// are neither read from batches nor written. Whether the requests after
// the ones done was given were issued is unknown only when a failure
// stopped the batch, as for IssueBatch.
//
// The next batch is prepared alongside a write only when it is of the
// same series as the one being written and could be written in one
// change (see IssueBatch); when it was prepared so and a concurrent
// change moved what it read (the series' code sequence, a counter, a key)
// its write fails as a stale IssueBatch's would, and it is issued one by
// one, with the same outcomes.
func (e *Engine) IssueBatches(ctx context.Context, batches iter.Seq[[]IssueRequest], done func([]IssueOutcome, error) error) (err error) {
	ctx, o := e.begin(ctx, observe.IssueBatches, "")
	defer o.end(&err)
	switch {
	case batches == nil:
		return errcode.New(errcode.InvalidArgument, "batches", "is nil")
	case done == nil:
		return errcode.New(errcode.InvalidArgument, "done", "is nil")
	}
	ra, ok := e.orig.(store.ReadAhead)
	ahead := ok && ra.ReadsAhead()
	var pend *pendingBatch
	for reqs := range batches {
		var next *preparedBatch
		if pend != nil && ahead && e.admit(nil) == nil && len(reqs) > 0 {
			// A failure here is met again below, once pend is written.
			next, _, _ = e.prepareBatch(ctx, reqs, make([]IssueOutcome, len(reqs)), pend.p)
		}
		if pend != nil {
			prev := pend.p
			ok, err := e.finishPending(ctx, pend, done)
			pend = nil
			if err == nil && next != nil && ok {
				ok, err = e.takeOver(ctx, next, prev)
				if err != nil {
					done(next.out[:0], err) // the batch is not written: its error is the one returned
				}
			}
			if err != nil {
				return err
			}
			if !ok {
				next = nil
			}
		}
		if next == nil {
			var err error
			if next, err = e.prepareAlone(ctx, reqs, make([]IssueOutcome, len(reqs)), done); err != nil {
				return err
			}
		}
		if next != nil {
			if ahead {
				next.keepForNext()
			}
			pend = e.startApply(ctx, next)
		}
	}
	if pend != nil {
		_, err := e.finishPending(ctx, pend, done)
		return err
	}
	return nil
}

// takeOver decides p, read while after's change was written, now that
// after is written: under the series' mint lock, taken for p's claim, at
// the time now, with the counters after bumped at the values the store
// wrote. It reports false, holding no lock, when the series is no longer
// open: the batch is then issued on its own, which says why.
func (e *Engine) takeOver(ctx context.Context, p, after *preparedBatch) (bool, error) {
	b := p.b
	b.now = e.now()
	if checkOpen(b.s, b.now) != nil {
		return false, nil
	}
	if b.claim != nil {
		l, err := e.lockMinting(ctx, b.s.ID)
		if err != nil {
			return false, err
		}
		b.claim.lock = l
	}
	for _, o := range p.overlaid {
		b.counts[o.slot] = after.ch.Bumps[o.bump].After
	}
	if err := e.decidePrepared(p); err != nil {
		b.claim.release()
		return false, err
	}
	return true, nil
}

// pendingBatch is a prepared batch whose change is being written.
type pendingBatch struct {
	p       *preparedBatch
	applied chan error // the store's answer to the write
}

// startApply starts writing p's change.
func (e *Engine) startApply(ctx context.Context, p *preparedBatch) *pendingBatch {
	w := &pendingBatch{p: p, applied: make(chan error, 1)}
	go func() { w.applied <- e.applyPrepared(ctx, p) }()
	return w
}

// finishPending waits for the write of w and finishes its batch as
// IssueBatch would, and gives done its outcomes. ok is false when the
// batch was issued one by one instead (its write found the snapshot stale).
func (e *Engine) finishPending(ctx context.Context, w *pendingBatch, done func([]IssueOutcome, error) error) (ok bool, err error) {
	p := w.p
	out := p.out
	ok, err = e.applyBatch(ctx, p, <-w.applied)
	if err == nil && !ok {
		out, err = e.issueEach(ctx, p.reqs, p.out)
	} else if err != nil {
		out = out[:0]
	}
	if derr := done(out, err); err == nil {
		err = derr
	}
	return ok, err
}

// prepareAlone prepares a batch that was not prepared alongside a write.
// A batch that cannot be written in one change is issued here, one by one,
// and given to done; prepareAlone then returns nil.
func (e *Engine) prepareAlone(ctx context.Context, reqs []IssueRequest, out []IssueOutcome, done func([]IssueOutcome, error) error) (*preparedBatch, error) {
	err := e.admit(nil)
	if err == nil && len(reqs) > 0 {
		p, ok, perr := e.prepareBatch(ctx, reqs, out, nil)
		if ok {
			return p, nil
		}
		err = perr
	}
	if err == nil {
		out, err = e.issueEach(ctx, reqs, out)
	} else {
		out = out[:0]
	}
	if derr := done(out, err); err == nil {
		err = derr
	}
	return nil, err
}

// pipelines reports whether a batch of series s can be prepared while w's
// change is written: the same series at the same version (so the same
// code generator), which is not among the series it excludes (whose
// counters the overlay would have to cover too).
func (w *preparedBatch) pipelines(s *series.Series) bool {
	a := w.b.s
	return a.ID == s.ID && a.Version == s.Version && !(excludes(s) && slices.Contains(s.Issuance.ExcludeSeries, s.ID))
}

// follow returns the claim of the batch after c's: the indexes from the
// end of c's on, without the mint lock, which c holds. nil for no claim.
func (c *seqClaim) follow() *seqClaim {
	if c == nil {
		return nil
	}
	return &seqClaim{adv: store.SequenceAdvance{SeriesID: c.adv.SeriesID, From: c.adv.To, To: c.adv.To}}
}

// keepForNext keeps apart from p's change, which the store may write to
// while the next batch is read, what overlay takes from it: by customer,
// the index of the bump of their issued counter in the change, and the
// coupons issued with keys.
func (p *preparedBatch) keepForNext() {
	if p.ch == nil {
		return
	}
	ch := p.ch
	p.bumpOf = make(map[string]int, len(ch.Bumps)-1)
	for j := 1; j < len(ch.Bumps); j++ {
		p.bumpOf[ch.Bumps[j].Key.Customer] = j
	}
	for j, i := range p.allowed {
		if key := p.reqs[i].IdempotencyKey; key != "" {
			p.keyed = append(p.keyed, keyedCoupon{key: key, c: ch.NewCoupons[j], customer: p.b.custs[i]})
		}
	}
}

// overlaidCount is a counter of a batch taken from the batch written
// before it: its index in the batch's counters, and the bump of the
// earlier batch's change that writes it.
type overlaidCount struct {
	slot, bump int
}

// overlay makes p, read while after's change was being written, read as
// if after were written: it notes the counters after's change bumps, to
// be taken at the values the store writes (takeOver), and the coupons
// after issues with idempotency keys are known, issued to their customers.
// It reads what after kept for it, not after's change, which the store is
// writing to.
func (p *preparedBatch) overlay(after *preparedBatch) {
	if after.ch == nil {
		return
	}
	b := p.b
	p.overlaid = append(p.overlaid, overlaidCount{slot: 0, bump: 0}) // the series' issued counter
	for cust, k := range b.slot {
		if j, ok := after.bumpOf[cust]; ok {
			p.overlaid = append(p.overlaid, overlaidCount{slot: k, bump: j})
		}
	}
	if len(after.keyed) > 0 && b.known == nil {
		b.known, b.firstTo = map[string]coupon.Coupon{}, map[string]string{}
	}
	for _, k := range after.keyed {
		b.known[k.key], b.firstTo[k.key] = k.c, k.customer
	}
}
