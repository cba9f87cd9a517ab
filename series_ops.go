package couponkit

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"reflect"
	"slices"
	"strings"

	"github.com/couponkit/couponkit/codegen"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/observe"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// CreateSeries validates s and stores it as a new series. An empty ID is
// assigned; a zero Status becomes Active. For a series whose codes the
// engine generates it also checks that the code space and the series' fill
// ratio (series.Source.FillLimit) can hold Issuance.MaxTotal codes, and for
// a randomized common series that the sample's fixed part is not used by
// another series of the store; none of this needs Config.CodeKey. It
// returns the stored series (Version 1).
func (e *Engine) CreateSeries(ctx context.Context, s series.Series) (_ series.Series, err error) {
	ctx, o := e.begin(ctx, observe.CreateSeries, "")
	defer o.end(&err)
	if err := e.admit(nil); err != nil {
		return series.Series{}, err
	}
	now := e.now()
	if s.ID == "" {
		s.ID = e.newID()
	}
	if s.Status == 0 {
		s.Status = series.Active
	}
	s.Version, s.CreatedAt, s.UpdatedAt = 1, now, now
	if err := e.checkSeries(ctx, &s); err != nil {
		return series.Series{}, err
	}
	if s.Source.Kind == series.RandomizedCommon {
		if err := e.checkFixedPart(ctx, &s); err != nil {
			return series.Series{}, err
		}
	}
	if err := e.rerun(ctx, func() error { return e.st.Apply(ctx, &store.Change{Series: &store.SeriesWrite{Series: s}}) }); err != nil {
		return series.Series{}, err
	}
	return s, nil
}

// checkSeries validates s and, for a series whose codes the engine makes,
// its code space (checkCodeSpace). It needs no code key.
func (e *Engine) checkSeries(_ context.Context, s *series.Series) error {
	if err := s.Validate(); err != nil {
		return err
	}
	switch s.Source.Kind {
	case series.Generated, series.RandomizedCommon:
		f, err := seriesFormat(s)
		if err != nil {
			return err
		}
		return checkCodeSpace(s, f)
	}
	return nil
}

// checkCodeSpace refuses a series whose fill ratio (Source.FillLimit) lets it
// make no code at all (InvalidConfig on "Source.MaxFill"), and one whose
// Issuance.MaxTotal is more than its code space holds (CapacityExceeded) or
// more than its fill ratio allows (FillRatioExceeded), both on
// "Issuance.MaxTotal".
func checkCodeSpace(s *series.Series, f *codegen.Format) error {
	ratio := s.Source.FillLimit()
	limit, err := f.Limit(ratio)
	if err != nil {
		return err
	}
	if limit == 0 {
		return errcode.New(errcode.InvalidConfig, "Source.MaxFill", fmt.Sprintf(
			"a fill ratio of %g of %d codes allows no code; raise Source.MaxFill or lengthen the code", ratio, f.Capacity()))
	}
	m := s.Issuance.MaxTotal
	if m <= 0 {
		return nil
	}
	err = f.CheckCount(uint64(m), ratio)
	switch errcode.CodeOf(err) {
	case errcode.CapacityExceeded:
		return &errcode.Error{Code: errcode.CapacityExceeded, Field: "Issuance.MaxTotal", Message: fmt.Sprintf(
			"%d codes are more than the code space of %d holds", m, f.Capacity()), Err: err}
	case errcode.FillRatioExceeded:
		return &errcode.Error{Code: errcode.FillRatioExceeded, Field: "Issuance.MaxTotal", Message: fmt.Sprintf(
			"%d codes are more than the %d a fill ratio of %g of %d codes allows; raise Source.MaxFill or lengthen the code",
			m, limit, ratio, f.Capacity()), Err: err}
	}
	return err
}

// checkFixedPart refuses a randomized common series whose fixed part another
// randomized common series already uses.
func (e *Engine) checkFixedPart(ctx context.Context, s *series.Series) error {
	all, err := e.st.ListSeries(ctx, store.SeriesQuery{})
	if err != nil {
		return err
	}
	inUse := func(yield func(string) bool) {
		for _, o := range all {
			if o.ID == s.ID || o.Source.Kind != series.RandomizedCommon {
				continue
			}
			if fp, err := codegen.FixedPart(o.Source.Sample); err == nil && !yield(fp) {
				return
			}
		}
	}
	return codegen.FixedPartAvailable(s.Source.Sample, iter.Seq[string](inUse))
}

// UpdateSeries replaces the configuration of an existing series. s.Version
// must be the version the caller read: a zero or stale version is refused
// with ErrConflict (read the series again and pass its version). The code
// source cannot change once the series exists (codes were made from it),
// except its fill ratio, Source.MaxFill, which does not change which codes
// are made: raising it lets the series make more codes, lowering it below
// the codes already made stops it making more.
// It returns the stored series with its new version.
func (e *Engine) UpdateSeries(ctx context.Context, s series.Series) (series.Series, error) {
	ctx, o := e.begin(ctx, observe.UpdateSeries, "")
	out, err := e.updateSeries(ctx, s)
	o.end(&err)
	return out, err
}

// updateSeries is UpdateSeries, unobserved: SetSeriesStatus updates with it.
func (e *Engine) updateSeries(ctx context.Context, s series.Series) (series.Series, error) {
	if err := e.admit(idArg("ID", s.ID)); err != nil {
		return series.Series{}, err
	}
	cur, err := e.st.Series(ctx, s.ID)
	if err != nil {
		return series.Series{}, err
	}
	if s.Version != cur.Version {
		return series.Series{}, staleSeries(s.ID, s.Version, cur.Version)
	}
	if !sameCodes(cur.Source, s.Source) {
		return series.Series{}, errcode.New(errcode.InvalidConfig, "Source", "the code source cannot change after the series is created")
	}
	if cur.Status == series.Ended && s.Status != series.Ended {
		return series.Series{}, errcode.New(errcode.SeriesExpired, "Status", "an ended series cannot be reopened")
	}
	expect := s.Version
	s.Version, s.CreatedAt, s.UpdatedAt = expect+1, cur.CreatedAt, e.now()
	if err := e.checkSeries(ctx, &s); err != nil {
		return series.Series{}, err
	}
	if err := e.rerun(ctx, func() error {
		return e.st.Apply(ctx, &store.Change{Series: &store.SeriesWrite{Series: s, ExpectVersion: expect}})
	}); err != nil {
		if errors.Is(err, errcode.ErrConflict) && !txRefused(err) {
			return series.Series{}, staleSeries(s.ID, expect, 0)
		}
		return series.Series{}, err
	}
	return s, nil
}

// sameCodes reports whether two sources make the same codes: whether they
// are equal but for MaxFill.
func sameCodes(a, b series.Source) bool {
	a.MaxFill, b.MaxFill = 0, 0
	return reflect.DeepEqual(a, b)
}

// SetSeriesStatus pauses, resumes or ends a series. Ended is final.
func (e *Engine) SetSeriesStatus(ctx context.Context, id string, status series.Status) (_ series.Series, err error) {
	ctx, o := e.begin(ctx, observe.SetSeriesStatus, "")
	defer o.end(&err)
	if err := e.admit(idArg("ID", id)); err != nil {
		return series.Series{}, err
	}
	var out series.Series
	err = e.retry(ctx, func() error {
		s, err := e.st.Series(ctx, id)
		if err != nil {
			return err
		}
		s.Status = status
		out, err = e.updateSeries(ctx, s)
		return err
	})
	return out, err
}

// SeriesAt returns the active series whose redemption is restricted to one
// of the given places of one kind (tills, stores, zones or concepts), ordered
// by id. Only series tagged to such a place are returned: a zone query does
// not return series tagged to the zone's stores, nor unrestricted series.
// Unknown ids give no result.
func (e *Engine) SeriesAt(ctx context.Context, kind limits.PlaceKind, ids ...string) (_ []series.Series, err error) {
	ctx, o := e.begin(ctx, observe.SeriesAt, "")
	defer o.end(&err)
	if err := e.admit(placeArgs(ids)); err != nil {
		return nil, err
	}
	var out []series.Series
	seen := map[string]bool{}
	for _, id := range ids {
		ref := limits.PlaceRef{Kind: kind, ID: id}
		ss, err := e.st.ListSeries(ctx, store.SeriesQuery{Place: &ref, Status: series.Active})
		if err != nil {
			return nil, err
		}
		for _, s := range ss {
			if !seen[s.ID] {
				seen[s.ID] = true
				out = append(out, s)
			}
		}
	}
	slices.SortFunc(out, func(a, b series.Series) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// Series returns a series by id.
func (e *Engine) Series(ctx context.Context, id string) (_ series.Series, err error) {
	ctx, o := e.begin(ctx, observe.Series, "")
	defer o.end(&err)
	if err := e.admit(idArg("ID", id)); err != nil {
		return series.Series{}, err
	}
	return e.st.Series(ctx, id)
}
