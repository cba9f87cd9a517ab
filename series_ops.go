package couponkit

import (
	"context"
	"iter"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/couponkit/couponkit/codegen"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// CreateSeries validates s and stores it as a new series. An empty ID is
// assigned; a zero Status becomes Active. For a series whose codes the
// engine generates it also checks that the code space can hold
// Issuance.MaxTotal codes, and for a randomized common series that the
// sample's fixed part is not used by another series of the store. It
// returns the stored series (Version 1).
func (e *Engine) CreateSeries(ctx context.Context, s series.Series) (series.Series, error) {
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
	if err := e.st.Apply(ctx, &store.Change{Series: &store.SeriesWrite{Series: s}}); err != nil {
		return series.Series{}, err
	}
	return s, nil
}

func (e *Engine) checkSeries(ctx context.Context, s *series.Series) error {
	if err := s.Validate(); err != nil {
		return err
	}
	switch s.Source.Kind {
	case series.Generated, series.RandomizedCommon:
		if _, err := e.newGenerator(ctx, s); err != nil {
			return err
		}
	}
	return nil
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
// must be the version the caller read (else a Conflict error); the code
// source cannot change once the series exists (codes were made from it).
// It returns the stored series with its new version.
func (e *Engine) UpdateSeries(ctx context.Context, s series.Series) (series.Series, error) {
	if err := e.admit(idArg("ID", s.ID)); err != nil {
		return series.Series{}, err
	}
	cur, err := e.st.Series(ctx, s.ID)
	if err != nil {
		return series.Series{}, err
	}
	if !reflect.DeepEqual(cur.Source, s.Source) {
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
	if err := e.st.Apply(ctx, &store.Change{Series: &store.SeriesWrite{Series: s, ExpectVersion: expect}}); err != nil {
		return series.Series{}, err
	}
	return s, nil
}

// SetSeriesStatus pauses, resumes or ends a series. Ended is final.
func (e *Engine) SetSeriesStatus(ctx context.Context, id string, status series.Status) (series.Series, error) {
	if err := e.admit(idArg("ID", id)); err != nil {
		return series.Series{}, err
	}
	var out series.Series
	err := e.retry(ctx, func() error {
		s, err := e.st.Series(ctx, id)
		if err != nil {
			return err
		}
		s.Status = status
		out, err = e.UpdateSeries(ctx, s)
		return err
	})
	return out, err
}

// SeriesAt returns the active series whose redemption is restricted to one
// of the given places of one kind (tills, stores, zones or concepts), ordered
// by id. Only series tagged to such a place are returned: a zone query does
// not return series tagged to the zone's stores, nor unrestricted series.
// Unknown ids give no result.
func (e *Engine) SeriesAt(ctx context.Context, kind limits.PlaceKind, ids ...string) ([]series.Series, error) {
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
func (e *Engine) Series(ctx context.Context, id string) (series.Series, error) {
	if err := e.admit(idArg("ID", id)); err != nil {
		return series.Series{}, err
	}
	return e.st.Series(ctx, id)
}

// checkOpen refuses work on a series that is paused, ended, not started or
// past its end.
func checkOpen(s *series.Series, now time.Time) error {
	switch {
	case s.Status == series.Ended || (!s.End.IsZero() && !now.Before(s.End)):
		return errcode.New(errcode.SeriesExpired, "SeriesID", "series "+s.ID+" has expired")
	case s.Status == series.Paused:
		return errcode.New(errcode.SeriesPaused, "SeriesID", "series "+s.ID+" is paused")
	case !s.Open(now):
		return errcode.New(errcode.SeriesPaused, "SeriesID", "series "+s.ID+" has not started")
	}
	return nil
}
