package couponkit

import (
	"context"
	"strconv"
	"strings"

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
// series (common and uploaded codes): series.PlainCode.
func canonicalCode(code string) (string, error) { return series.PlainCode(code) }

// canonical returns the canonical form of a code typed for series s, by
// the one rule the central and the tills share
// (series.Source.CanonicalCode), with the engine's cached format.
func (e *Engine) canonical(s *series.Series, code string) (string, error) {
	var f *codegen.Format
	if s.Source.MakesCodes() {
		var err error
		if f, err = e.format(s); err != nil {
			return "", err
		}
	}
	return s.Source.CanonicalCode(f, code)
}

// lookupCode finds the coupons of a code, in one series or in all. Without a
// series the code is tried in the plain canonical form and, failing that, in
// the confusion-free form (o->0, i/l->1, no hyphens). The coupons are
// appended to dst when the store can (store.CouponsByCodeAppender).
func (e *Engine) lookupCode(ctx context.Context, seriesID, code string, dst []coupon.Coupon) ([]coupon.Coupon, *series.Series, error) {
	if err := checkCodeGiven(code); err != nil {
		return nil, nil, err
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
	if alt, ok := confusionFree(code); ok && alt != canon {
		cs, err = e.couponsByCode(ctx, dst, "", alt)
	}
	return cs, nil, err
}

// checkCodeGiven refuses an empty (or blank) code.
func checkCodeGiven(code string) error {
	if strings.TrimSpace(code) == "" {
		return errcode.New(errcode.InvalidArgument, "Code", "is empty")
	}
	return nil
}

// confusionFree is the confusion-free canonical form of code, when it has
// one.
func confusionFree(code string) (string, bool) {
	alt, err := codegen.ConfusionFree().Canonical(code)
	return alt, err == nil
}

// severalSeries is the error of a code found in several series when no
// series is named.
func severalSeries(code string) error {
	return errcode.New(errcode.InvalidArgument, "SeriesID", "code "+strconv.Quote(code)+" exists in several series; name the series")
}

func (e *Engine) couponsByCode(ctx context.Context, dst []coupon.Coupon, seriesID, code string) ([]coupon.Coupon, error) {
	if a, ok := e.st.(store.CouponsByCodeAppender); ok {
		return a.AppendCouponsByCode(ctx, dst[:0], seriesID, code)
	}
	return e.st.CouponsByCode(ctx, seriesID, code)
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
			return nil, severalSeries(code)
		}
	}
	return e.series(ctx, cs[0].SeriesID)
}

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

// validUploadCode reports whether a canonical uploaded code has only
// letters, digits, '-' and '_'.
func validUploadCode(code string) bool {
	for i := 0; i < len(code); i++ {
		c := code[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return len(code) <= maxCodeLen
}

// maxCodeLen is the longest code couponkit stores.
const maxCodeLen = 64
