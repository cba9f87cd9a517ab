package couponkit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/couponkit/couponkit/codegen"
	"github.com/couponkit/couponkit/coupon"
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

// lostMintRace reports err, the failure of applying ch, as the conflict it
// is when ch mints codes (carries a sequence advance) and failed because
// one of its codes exists: another engine read the same next index and
// applied its change first. A store may check the inserts before the
// advance, so such a change can fail on the code rather than on the
// advance; either way the engine's retry reads the sequence again and
// mints the next code. The code is not named: it is another customer's.
func lostMintRace(ch *store.Change, err error) error {
	var ex *store.ExistsError
	if ch.Sequence != nil && errors.As(err, &ex) && ex.Kind == "coupon" {
		return &store.ConflictError{Kind: "sequence", ID: ch.Sequence.SeriesID}
	}
	return err
}

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

// minterCache keeps one code format and one code generator per series
// version.
type minterCache struct {
	m       sync.Map // "id@version" -> *codegen.Generator
	formats sync.Map // "id@version" -> *codegen.Format
}

func versionKey(s *series.Series) string { return s.ID + "@" + strconv.FormatInt(s.Version, 10) }

// generator returns the code generator of a series whose codes the engine
// makes (Generated or RandomizedCommon). It needs Config.CodeKey: only
// minting codes does.
func (e *Engine) generator(ctx context.Context, s *series.Series) (*codegen.Generator, error) {
	key := versionKey(s)
	if g, ok := e.minters.m.Load(key); ok {
		return g.(*codegen.Generator), nil
	}
	g, err := e.newGenerator(ctx, s)
	if err != nil {
		return nil, err
	}
	e.minters.m.Store(key, g)
	return g, nil
}

// format returns the code format of a series whose codes the engine makes:
// what reading a typed code needs, without the series' key.
func (e *Engine) format(s *series.Series) (*codegen.Format, error) {
	key := versionKey(s)
	if f, ok := e.minters.formats.Load(key); ok {
		return f.(*codegen.Format), nil
	}
	f, err := seriesFormat(s)
	if err != nil {
		return nil, err
	}
	e.minters.formats.Store(key, f)
	return f, nil
}

// seriesFormat builds the code format of s from its source
// (series.Source.Format).
func seriesFormat(s *series.Series) (*codegen.Format, error) {
	if !s.Source.MakesCodes() {
		return nil, errcode.New(errcode.InvalidArgument, "Source.Kind", "series "+s.ID+" does not generate codes")
	}
	return s.Source.Format()
}

func (e *Engine) newGenerator(ctx context.Context, s *series.Series) (*codegen.Generator, error) {
	if e.codeKey == nil {
		return nil, errcode.New(errcode.InvalidConfig, "CodeKey", "the engine has no CodeKey to generate codes of series "+s.ID)
	}
	secret, err := e.codeKey(ctx, s.ID)
	if err != nil {
		return nil, err
	}
	// Two series with the same code shape must not make the same codes even
	// when CodeKey returns one secret for all: the series id is part of the
	// key codegen stretches.
	secret = append(append(append([]byte(nil), secret...), 0), s.ID...)
	count := uint64(0)
	if s.Issuance.MaxTotal > 0 {
		count = uint64(s.Issuance.MaxTotal)
	}
	src := &s.Source
	switch src.Kind {
	case series.Generated:
		spec, err := src.UniqueSpec()
		if err != nil {
			return nil, err
		}
		spec.Count, spec.MaxFill = count, src.FillLimit()
		return codegen.NewUnique(spec, secret)
	case series.RandomizedCommon:
		return codegen.NewRandomizedCommon(codegen.RandomizedSpec{Sample: src.Sample, Count: count, MaxFill: src.FillLimit()}, secret)
	}
	return nil, errcode.New(errcode.InvalidArgument, "Source.Kind", "series "+s.ID+" does not generate codes")
}

// poolWindow is how many Available coupons a draw chooses among at random,
// so that concurrent issuers rarely pick the same one.
const poolWindow = 32

// freshCoupon returns a coupon for a new issue or a reissue: the next
// Available coupon of the pool, or, for a series whose codes the engine
// makes, a newly minted one. minted reports which: a minted coupon is to be
// inserted, a pool coupon updated. A code made from the series' code
// sequence comes with its claim on the index (nil otherwise): the change
// that inserts the coupon carries claim.advance(), and the caller calls
// claim.release() once that change is applied or abandoned.
func (e *Engine) freshCoupon(ctx context.Context, s *series.Series, code, actor string) (c coupon.Coupon, minted bool, claim *seqClaim, err error) {
	now := e.now()
	switch s.Source.Kind {
	case series.Common:
		canon, err := canonicalCode(s.Source.Code)
		if err != nil {
			return coupon.Coupon{}, false, nil, err
		}
		c, minted, err = e.newCoupon(s, s.Source.Code, canon, actor, now)
		return c, minted, nil, err
	case series.RandomizedCommon:
		return e.mint(ctx, s, actor)
	}
	if code != "" {
		canon, err := e.canonical(s, code)
		if err != nil {
			return coupon.Coupon{}, false, nil, err
		}
		cs, err := e.st.CouponsByCode(ctx, s.ID, canon)
		if err != nil {
			return coupon.Coupon{}, false, nil, err
		}
		if len(cs) == 0 {
			return coupon.Coupon{}, false, nil, codeNotFound(code)
		}
		return cs[0], false, nil, nil
	}
	if c, ok, err := e.drawFromPool(ctx, s.ID, now); err != nil || ok {
		return c, false, nil, err
	}
	if s.Source.Kind == series.Generated {
		return e.mint(ctx, s, actor)
	}
	return coupon.Coupon{}, false, nil, errcode.New(errcode.PoolEmpty, "SeriesID", "series "+s.ID+" has no available code left")
}

// drawFromPool picks at random one of the first poolWindow Available
// coupons of the series that are not past their own expiry. Expired ones
// are skipped (the expiry sweep marks them).
func (e *Engine) drawFromPool(ctx context.Context, seriesID string, now time.Time) (coupon.Coupon, bool, error) {
	q := store.CouponQuery{
		CouponFilter: store.CouponFilter{SeriesID: seriesID, States: []coupon.State{coupon.Available}},
		Limit:        poolWindow,
	}
	for {
		page, err := e.st.ListCoupons(ctx, q)
		if err != nil {
			return coupon.Coupon{}, false, err
		}
		usable := page[:0]
		for _, c := range page {
			if c.StateAt(now) == coupon.Available {
				usable = append(usable, c)
			}
		}
		if len(usable) > 0 {
			return usable[rand.IntN(len(usable))], true, nil
		}
		if len(page) < poolWindow {
			return coupon.Coupon{}, false, nil
		}
		q.AfterID = page[len(page)-1].ID
	}
}

// mint makes the coupon of the series' next code index, under the series'
// mint lock, which the returned claim holds.
func (e *Engine) mint(ctx context.Context, s *series.Series, actor string) (coupon.Coupon, bool, *seqClaim, error) {
	g, err := e.generator(ctx, s)
	if err != nil {
		return coupon.Coupon{}, false, nil, err
	}
	claim, err := e.claim(ctx, s, g, 1)
	if err != nil {
		if noRoom(err) {
			err = mintRefused(s, err)
		}
		return coupon.Coupon{}, false, nil, err
	}
	code, err := g.Code(uint64(claim.adv.From))
	if err == nil {
		var c coupon.Coupon
		if c, _, err = e.newCoupon(s, code, code, actor, e.now()); err == nil {
			return c, true, claim, nil
		}
	}
	claim.release()
	return coupon.Coupon{}, false, nil, err
}

func (e *Engine) newCoupon(s *series.Series, code, canon, actor string, now time.Time) (coupon.Coupon, bool, error) {
	c, _, err := coupon.New(coupon.NewParams{ID: e.newID(), SeriesID: s.ID, Code: code, Canonical: canon, Actor: actor}, now)
	c.Shared = s.Source.SharedCode()
	return c, true, err
}
