package couponkit

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/couponkit/couponkit/codegen"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// A series' code sequence (store.Store.NextIndex) is advanced by the change
// that inserts the codes made from it (store.Change.Sequence), only from
// the index that was read: a change refused or failed moves nothing, and
// of two changes that read the same index one conflicts. Within an engine,
// the read, the minting and the Apply of each change that mints in a
// series run under the series' mint lock, so that goroutines of one engine
// minting in one series never conflict with each other; across engines
// (processes) a conflict is retried like any other. Issue, Reissue and
// IssueBatch hold the lock while they mint, Generate for its whole run;
// issues that draw from a pool, and every other operation, take none. The
// cost is that the minting issues of one series in one engine are applied
// one at a time: their rate is at most one per read-and-apply round trip
// of the store, and they cannot share a group commit.

// mintLock is one series' mint lock: a channel of capacity one, so that
// waiting for it ends with the context.
type mintLock chan struct{}

func (l mintLock) unlock() { <-l }

// lockMinting takes the mint lock of the series, waiting until it is free
// or ctx ends.
func (e *Engine) lockMinting(ctx context.Context, seriesID string) (mintLock, error) {
	v, ok := e.mintLocks.Load(seriesID)
	if !ok {
		v, _ = e.mintLocks.LoadOrStore(seriesID, make(mintLock, 1))
	}
	l := v.(mintLock)
	select {
	case l <- struct{}{}:
		return l, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// seqClaim is the claim of a change on n indexes of a series' code
// sequence: the advance the change carries, made from the index read under
// the series' mint lock, which the claim holds until release.
type seqClaim struct {
	adv  store.SequenceAdvance
	lock mintLock
}

// advance returns the sequence advance for the change; nil for no claim.
func (c *seqClaim) advance() *store.SequenceAdvance {
	if c == nil {
		return nil
	}
	return &c.adv
}

// release gives the mint lock back; nothing for no claim, or for one
// released already.
func (c *seqClaim) release() {
	if c != nil && c.lock != nil {
		c.lock.unlock()
		c.lock = nil
	}
}

// claim takes the series' mint lock and claims the next n indexes of its
// code sequence. When the code space has no room for them it releases the
// lock and returns the error of roomFor.
func (e *Engine) claim(ctx context.Context, s *series.Series, g *codegen.Generator, n int64) (*seqClaim, error) {
	l, err := e.lockMinting(ctx, s.ID)
	if err != nil {
		return nil, err
	}
	next, err := e.st.NextIndex(ctx, s.ID)
	if err == nil {
		err = roomFor(g, next, n)
	}
	if err != nil {
		l.unlock()
		return nil, err
	}
	return &seqClaim{adv: store.SequenceAdvance{SeriesID: s.ID, From: next, To: next + n}, lock: l}, nil
}

// roomFor reports whether the code space of g has room for n more codes
// after the first next indexes: nil, or the CapacityExceeded or
// FillRatioExceeded error of codegen.Generator.CheckIssue.
func roomFor(g *codegen.Generator, next, n int64) error {
	if next < 0 || n < 0 || next > math.MaxInt64-n {
		return errcode.New(errcode.CapacityExceeded, "Count", fmt.Sprintf("index %d and %d more codes pass the largest index", next, n))
	}
	return g.CheckIssue(uint64(next), uint64(n))
}

// roomLeft returns how many more codes the code space of g has room for
// after the first next indexes.
func roomLeft(g *codegen.Generator, next int64) int64 {
	limit := min(g.Limit(), math.MaxInt64)
	if next < 0 || uint64(next) >= limit {
		return 0
	}
	return int64(limit - uint64(next))
}

// noRoom reports whether err is roomFor's refusal.
func noRoom(err error) bool {
	return errors.Is(err, errcode.ErrCapacityExceeded) || errors.Is(err, errcode.ErrFillRatioExceeded)
}
