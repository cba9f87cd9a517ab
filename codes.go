package couponkit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/couponkit/couponkit/codegen"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// CodeCase says how codes are written in results. Codes are stored and
// compared case-insensitively whatever the case.
type CodeCase uint8

// The code cases.
const (
	// Upper writes codes in upper case. It is the default.
	Upper CodeCase = iota
	// Lower writes codes in lower case.
	Lower
	// AsCreated writes codes exactly as they were created or uploaded.
	AsCreated
)

// Apply writes code in case k.
func (k CodeCase) Apply(code string) string {
	switch k {
	case Lower:
		return strings.ToLower(code)
	case AsCreated:
		return code
	}
	return strings.ToUpper(code)
}

// canonicalCode is the canonical form of a code outside a generated
// series (common and uploaded codes): trimmed and upper-cased, ASCII only
// (codegen.Plain). A non-ASCII code is an InvalidCode error on "Code", so a
// look-alike such as "ſ" never folds into an ASCII letter; an empty one an
// InvalidArgument error.
func canonicalCode(code string) (string, error) {
	c, err := codegen.Plain(code)
	if err == nil && c == "" {
		err = errcode.New(errcode.InvalidArgument, "Code", "is empty")
	}
	return c, err
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

// seriesFormat builds the code format of s from its source.
func seriesFormat(s *series.Series) (*codegen.Format, error) {
	switch s.Source.Kind {
	case series.Generated:
		spec, err := uniqueSpec(&s.Source)
		if err != nil {
			return nil, err
		}
		return codegen.NewFormat(spec)
	case series.RandomizedCommon:
		return codegen.NewRandomizedFormat(s.Source.Sample)
	}
	return nil, errcode.New(errcode.InvalidArgument, "Source.Kind", "series "+s.ID+" does not generate codes")
}

// uniqueSpec is the shape of a generated unique series' codes.
func uniqueSpec(src *series.Source) (codegen.UniqueSpec, error) {
	var a *codegen.Alphabet
	switch src.Alphabet {
	case series.Numeric:
		a = codegen.Numeric()
	case series.ConfusionFree:
		a = codegen.ConfusionFree()
	case series.Custom:
		var err error
		if a, err = codegen.NewAlphabet(src.CustomAlphabet); err != nil {
			return codegen.UniqueSpec{}, err
		}
	default:
		a = codegen.Alphanumeric()
	}
	return codegen.UniqueSpec{
		Alphabet: a, Length: src.Length,
		Prefix: strings.ToUpper(src.Prefix), Suffix: strings.ToUpper(src.Suffix),
		CheckChar: src.CheckChar,
	}, nil
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
		spec, err := uniqueSpec(src)
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

// canonical returns the canonical form of a code typed for series s. It
// needs no key: a generated code is checked against the series' format.
func (e *Engine) canonical(s *series.Series, code string) (string, error) {
	switch s.Source.Kind {
	case series.Generated, series.RandomizedCommon:
		f, err := e.format(s)
		if err != nil {
			return "", err
		}
		return f.Canonical(code)
	}
	return canonicalCode(code)
}

// lookupCode finds the coupons of a code, in one series or in all. Without a
// series the code is tried in the plain canonical form and, failing that, in
// the confusion-free form (o->0, i/l->1, no hyphens). The coupons are
// appended to dst when the store can (store.CouponsByCodeAppender).
func (e *Engine) lookupCode(ctx context.Context, seriesID, code string, dst []coupon.Coupon) ([]coupon.Coupon, *series.Series, error) {
	if strings.TrimSpace(code) == "" {
		return nil, nil, errcode.New(errcode.InvalidArgument, "Code", "is empty")
	}
	if seriesID != "" {
		s, err := e.series(ctx, seriesID)
		if err != nil {
			return nil, nil, err
		}
		canon, err := e.canonical(s, code)
		if err != nil {
			return nil, s, err
		}
		cs, err := e.couponsByCode(ctx, dst, seriesID, canon)
		return cs, s, err
	}
	canon, err := canonicalCode(code)
	if err != nil {
		return nil, nil, err
	}
	cs, err := e.couponsByCode(ctx, dst, "", canon)
	if err != nil || len(cs) > 0 {
		return cs, nil, err
	}
	if alt, aerr := codegen.ConfusionFree().Canonical(code); aerr == nil && alt != canon {
		cs, err = e.couponsByCode(ctx, dst, "", alt)
	}
	return cs, nil, err
}

func (e *Engine) couponsByCode(ctx context.Context, dst []coupon.Coupon, seriesID, code string) ([]coupon.Coupon, error) {
	if a, ok := e.st.(store.CouponsByCodeAppender); ok {
		return a.AppendCouponsByCode(ctx, dst[:0], seriesID, code)
	}
	return e.st.CouponsByCode(ctx, seriesID, code)
}

// codeNotFound is the error for a code with no coupon.
func codeNotFound(code string) error {
	return errcode.New(errcode.CouponNotFound, "Code", "coupon "+strconv.Quote(code)+" not found")
}

// single narrows the coupons of a code to one series' and returns that
// series. A code found in several series needs the series named.
func (e *Engine) single(ctx context.Context, cs []coupon.Coupon, s *series.Series, code string) (*series.Series, error) {
	if len(cs) == 0 {
		return nil, codeNotFound(code)
	}
	if s != nil {
		return s, nil
	}
	for _, c := range cs[1:] {
		if c.SeriesID != cs[0].SeriesID {
			return nil, errcode.New(errcode.InvalidArgument, "SeriesID", "code "+strconv.Quote(code)+" exists in several series; name the series")
		}
	}
	return e.series(ctx, cs[0].SeriesID)
}

// poolWindow is how many Available coupons a draw chooses among at random,
// so that concurrent issuers rarely pick the same one.
const poolWindow = 32

// checkChosenCode refuses a code an issue names before any rule is
// evaluated: series that make their own codes take none, and an uploaded
// code has only letters, digits, '-' and '_'.
func checkChosenCode(s *series.Series, code string) error {
	switch {
	case code == "":
		return nil
	case s.Source.Kind == series.Common || s.Source.Kind == series.RandomizedCommon:
		return errcode.New(errcode.InvalidArgument, "Code", "series "+s.ID+" makes its own codes; a code cannot be chosen")
	case s.Source.Kind != series.Generated:
		if canon, err := codegen.Plain(code); err != nil || !validUploadCode(canon) {
			return errcode.New(errcode.InvalidCode, "Code", "code "+strconv.Quote(code)+" has characters other than letters, digits, '-' and '_'")
		}
	}
	return nil
}

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

// mintRefused is the error for minting past the code space (PoolEmpty) or
// past the series' fill ratio (FillRatioExceeded), wrapping codegen's.
func mintRefused(s *series.Series, err error) error {
	if errcode.CodeOf(err) == errcode.FillRatioExceeded {
		return &errcode.Error{Code: errcode.FillRatioExceeded, Field: "SeriesID", Message: fmt.Sprintf(
			"series %s has made the most codes its fill ratio allows (%g of its code space; Source.MaxFill)",
			s.ID, s.Source.FillLimit()), Err: err}
	}
	return &errcode.Error{Code: errcode.PoolEmpty, Field: "SeriesID",
		Message: "series " + s.ID + " has used its code space", Err: err}
}

func (e *Engine) newCoupon(s *series.Series, code, canon, actor string, now time.Time) (coupon.Coupon, bool, error) {
	c, _, err := coupon.New(coupon.NewParams{ID: e.newID(), SeriesID: s.ID, Code: code, Canonical: canon, Actor: actor}, now)
	c.Shared = s.Source.SharedCode()
	return c, true, err
}
