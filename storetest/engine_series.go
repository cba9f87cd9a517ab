package storetest

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

var seriesTests = []test{
	{"CreateRoundTrip", testSeriesRoundTrip},
	{"CreateInvalid", testSeriesInvalid},
	{"InapplicableAndUnbounded", testSeriesInapplicable},
	{"CreateDuplicateID", testSeriesDuplicate},
	{"UpdateVersion", testSeriesUpdate},
	{"UpdateSourceFixed", testSeriesUpdateSource},
	{"PauseResume", testSeriesPause},
	{"End", testSeriesEnd},
	{"NotStartedAndPastEnd", testSeriesWindow},
	{"SeriesAt", testSeriesAt},
	{"NotFound", testSeriesNotFound},
	{"FillRatio", testSeriesFillRatio},
}

// fullSeries sets every field a store must keep.
func fullSeries() series.Series {
	return baseSeries("everything", series.Source{Kind: series.Generated, Length: 6, Alphabet: series.Custom,
		CustomAlphabet: "ABCDEFGH23456789", Prefix: "x-", Suffix: "-y", CheckChar: true, MaxFill: 0.001}, func(s *series.Series) {
		s.TimeZone = "Europe/Berlin"
		s.Start = t0.Add(-24 * time.Hour)
		s.End = t0.Add(90 * 24 * time.Hour)
		s.Issuance = series.Issuance{
			IssuanceRules:       limits.IssuanceRules{MaxPerCustomer: 3, MinGap: 36 * time.Hour, MaxTotal: 1000, AudienceOnly: true},
			OnQualifyAgain:      series.SendExisting,
			NotifyRemaining:     10,
			ExcludeSeries:       []string{"other-1", "other-2"},
			ExcludeWithinMonths: 6,
		}
		s.Redemption = limits.RedemptionRules{
			AnyoneMayRedeem: true, MaxPerCode: 5, MaxPerCustomer: 2, MaxPerSeries: 700, Repeat: true,
			Start:     t0.Add(time.Hour),
			Weekdays:  limits.WeekdaysOf(time.Monday, time.Friday),
			MonthDays: limits.MonthDaysOf(1, 15, 31),
			Hours:     []limits.HourRange{{From: 8, To: 12}, {From: 14, To: 20}},
			MinGap:    90 * time.Minute,
			Places: limits.NewPlaceSet(limits.PlaceRef{Kind: limits.Store, ID: "st-1"},
				limits.PlaceRef{Kind: limits.Zone, ID: "north"}),
			MinBill: nullDec("12.50"),
			MaxBill: nullDec("999.99"),
			NewCustomers: limits.NewCustomerRule{
				RegisteredFrom:    time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC),
				RegisteredTo:      time.Date(2029, 12, 31, 23, 59, 59, 0, time.UTC),
				LimitTransactions: true, MaxTransactions: 2,
			},
		}
		s.Transferable = true
		s.Expiry = series.Expiry{Kind: series.MonthEndsFromIssue, N: 1}
		s.Discount = series.Discount{Kind: series.Percent, Percent: dec("12.5"), Cap: nullDec("20"), Currency: "EUR", Scale: 3}
		s.Reminders = []series.Reminder{{DaysBefore: 3, At: series.At(10, 0), Channel: "sms"}, {DaysBefore: 1, At: series.At(18, 30), Channel: "email"}}
	})
}

func testSeriesRoundTrip(t *testing.T, e *env) {
	want := fullSeries()
	got, err := e.e.CreateSeries(e.ctx, want)
	if !wantOK(t, err, "a valid series with every field set must be created") {
		return
	}
	if got.ID == "" || got.Version != 1 || got.Status != series.Active {
		t.Errorf("CreateSeries must assign an id, version 1 and status active: got id %q, version %d, status %s", got.ID, got.Version, got.Status)
	}
	if !got.CreatedAt.Equal(t0) || !got.UpdatedAt.Equal(t0) {
		t.Errorf("CreateSeries must stamp CreatedAt and UpdatedAt with the clock (%v): got %v, %v", t0, got.CreatedAt, got.UpdatedAt)
	}
	read, err := e.st.Series(e.ctx, got.ID)
	mustOK(t, err, "store.Series after CreateSeries")
	same(t, read, got, "the store must return the series exactly as it was written, every field included")
	viaEngine, err := e.e.Series(e.ctx, got.ID)
	mustOK(t, err, "Engine.Series")
	same(t, viaEngine, got, "Engine.Series must return the stored series")

	// A returned series is a copy: changing it changes nothing stored.
	read.Reminders[0].Channel = "changed"
	read.Issuance.ExcludeSeries[0] = "changed"
	read.Redemption.Hours[0].From = 0
	again, err := e.st.Series(e.ctx, got.ID)
	mustOK(t, err, "store.Series")
	same(t, again, got, "changing a series the store returned must not change the stored one")

	all, err := e.st.ListSeries(e.ctx, store.SeriesQuery{})
	mustOK(t, err, "ListSeries")
	if len(all) != 1 {
		t.Fatalf("ListSeries must list the one series created: got %d", len(all))
	}
	same(t, all[0], got, "ListSeries must return the stored series")
}

func testSeriesInvalid(t *testing.T, e *env) {
	bad := baseSeries("", genSrc(), func(s *series.Series) {
		s.TimeZone = "Local"
		s.Redemption.MaxPerCode = 3 // needs AnyoneMayRedeem
	})
	_, err := e.e.CreateSeries(e.ctx, bad)
	wantCode(t, err, errcode.InvalidConfig, "a series with no name, a machine-local time zone and a code level without anyone-may-redeem must be refused")
	if n := len(errcode.All(err)); n < 3 {
		t.Errorf("validation must report every broken field at once: got %d errors (%v)", n, err)
	}
	all, err := e.st.ListSeries(e.ctx, store.SeriesQuery{})
	mustOK(t, err, "ListSeries")
	if len(all) != 0 {
		t.Errorf("a refused series must not be stored: ListSeries has %d", len(all))
	}
}

// testSeriesInapplicable: a setting that would be stored and ignored (a
// customer level without Repeat) and a figure whose date arithmetic would
// overflow (an exclusion window of MaxInt months) are refused on create and
// on update, naming the fields, and nothing changes.
func testSeriesInapplicable(t *testing.T, e *env) {
	breakIt := func(s *series.Series) {
		s.Redemption.MaxPerCustomer = 1 // Repeat is off
		s.Issuance.ExcludeSeries, s.Issuance.ExcludeWithinMonths = []string{"other"}, math.MaxInt
	}
	wantFields := func(err error, rule string) {
		t.Helper()
		wantCode(t, err, errcode.InvalidConfig, "%s", rule)
		var fields []string
		for _, x := range errcode.All(err) {
			fields = append(fields, x.Field)
		}
		same(t, fields, []string{"Issuance.ExcludeWithinMonths", "Redemption.MaxPerCustomer"}, "%s: the refusal names both fields", rule)
	}
	_, err := e.e.CreateSeries(e.ctx, baseSeries("ignored", genSrc(), breakIt))
	wantFields(err, "creating a series with a customer level without Repeat and an exclusion of MaxInt months")
	all, err := e.st.ListSeries(e.ctx, store.SeriesQuery{})
	mustOK(t, err, "ListSeries")
	if len(all) != 0 {
		t.Errorf("a refused series must not be stored: ListSeries has %d", len(all))
	}

	s := e.gen("kept")
	changed := s
	breakIt(&changed)
	_, err = e.e.UpdateSeries(e.ctx, changed)
	wantFields(err, "updating a series to a customer level without Repeat and an exclusion of MaxInt months")
	got, err := e.st.Series(e.ctx, s.ID)
	mustOK(t, err, "store.Series")
	same(t, got, s, "a refused update leaves the series as it was")
}

func testSeriesDuplicate(t *testing.T, e *env) {
	s := baseSeries("first", genSrc())
	s.ID = "fixed-id"
	e.createSeries(s)
	s.Name = "second"
	_, err := e.e.CreateSeries(e.ctx, s)
	wantCode(t, err, errcode.AlreadyExists, "creating a series with an id already used must be refused")
	var ex *store.ExistsError
	if err != nil && !errors.As(err, &ex) {
		t.Errorf("a duplicate series id must be a *store.ExistsError: got %T", err)
	}
	got, err := e.st.Series(e.ctx, "fixed-id")
	mustOK(t, err, "store.Series")
	if got.Name != "first" {
		t.Errorf("a refused duplicate must leave the first series as it was: name %q", got.Name)
	}
}

func testSeriesUpdate(t *testing.T, e *env) {
	s := e.gen("v")
	e.clk.Advance(time.Minute)
	s.Name = "v2"
	s.Redemption.MaxPerSeries = 10
	up, err := e.e.UpdateSeries(e.ctx, s)
	if !wantOK(t, err, "updating a series with the version read must succeed") {
		return
	}
	if up.Version != 2 || up.Name != "v2" || !up.UpdatedAt.Equal(e.clk.Now()) || !up.CreatedAt.Equal(t0) {
		t.Errorf("an update must bump the version to 2, keep CreatedAt and stamp UpdatedAt: got %+v", up)
	}
	read, err := e.st.Series(e.ctx, s.ID)
	mustOK(t, err, "store.Series")
	same(t, read, up, "the store must hold the updated series")

	stale := s // still version 1
	stale.Name = "stale"
	_, err = e.e.UpdateSeries(e.ctx, stale)
	wantCode(t, err, errcode.Conflict, "an update from a stale version (1, stored 2) must be refused as a conflict")
	wantField(t, err, errcode.Conflict, "Version", "a stale update names the version")
	zero := s
	zero.Version = 0
	_, err = e.e.UpdateSeries(e.ctx, zero)
	wantCode(t, err, errcode.Conflict, "an update without a version is a conflict (pass the version read), not AlreadyExists")
	if err != nil && !strings.Contains(err.Error(), "pass the version") {
		t.Errorf("the conflict of an update without a version says to pass the version read: %v", err)
	}
	read, err = e.st.Series(e.ctx, s.ID)
	mustOK(t, err, "store.Series")
	if read.Name != "v2" || read.Version != 2 {
		t.Errorf("a refused update must change nothing: got name %q version %d", read.Name, read.Version)
	}
}

func testSeriesUpdateSource(t *testing.T, e *env) {
	s := e.gen("src")
	s.Source.Length = 10
	_, err := e.e.UpdateSeries(e.ctx, s)
	wantCode(t, err, errcode.InvalidConfig, "the code source of a series cannot change after it is created")
}

func testSeriesPause(t *testing.T, e *env) {
	s := e.gen("pause")
	c := e.issue(s.ID, alice)
	p, err := e.e.SetSeriesStatus(e.ctx, s.ID, series.Paused)
	if !wantOK(t, err, "pausing an active series") {
		return
	}
	if p.Status != series.Paused || p.Version != 2 {
		t.Errorf("pausing must store status paused at version 2: got %s, %d", p.Status, p.Version)
	}
	_, err = e.e.Issue(e.ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID(bob)})
	wantCode(t, err, errcode.SeriesPaused, "a paused series must not issue")
	_, err = e.tryRedeem(c.Code, alice, "k1")
	wantCode(t, err, errcode.SeriesPaused, "a paused series must not redeem")
	if n := e.counters(s.ID); n.Issued != 1 || n.Uses != 0 {
		t.Errorf("refusals of a paused series must change no counter: %+v", n)
	}
	_, err = e.e.SetSeriesStatus(e.ctx, s.ID, series.Active)
	wantOK(t, err, "resuming a paused series")
	_, err = e.tryRedeem(c.Code, alice, "k1")
	wantOK(t, err, "a resumed series must redeem again")
}

func testSeriesEnd(t *testing.T, e *env) {
	s := e.gen("end")
	c := e.issue(s.ID, alice)
	_, err := e.e.SetSeriesStatus(e.ctx, s.ID, series.Ended)
	if !wantOK(t, err, "ending a series") {
		return
	}
	_, err = e.e.Issue(e.ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID(bob)})
	wantCode(t, err, errcode.SeriesExpired, "an ended series must not issue (712)")
	_, err = e.tryRedeem(c.Code, alice, "k1")
	wantCode(t, err, errcode.SeriesExpired, "an ended series must not redeem (712)")
	_, err = e.e.SetSeriesStatus(e.ctx, s.ID, series.Active)
	wantCode(t, err, errcode.SeriesExpired, "an ended series cannot be reopened")
	got, err := e.st.Series(e.ctx, s.ID)
	mustOK(t, err, "store.Series")
	if got.Status != series.Ended {
		t.Errorf("a refused reopening must leave the series ended: got %s", got.Status)
	}
}

func testSeriesWindow(t *testing.T, e *env) {
	s := e.gen("window", func(s *series.Series) {
		s.Start = t0.Add(time.Hour)
		s.End = t0.Add(48 * time.Hour)
	})
	_, err := e.e.Issue(e.ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID(alice)})
	wantCode(t, err, errcode.SeriesPaused, "a series before its Start must not issue")
	e.clk.Advance(time.Hour)
	c := e.issue(s.ID, alice)
	if !c.ExpiresAt.Equal(s.End) {
		t.Errorf("a coupon never outlives its offer: expiry %v, offer end %v", c.ExpiresAt, s.End)
	}
	e.clk.Advance(47 * time.Hour)
	_, err = e.tryRedeem(c.Code, alice, "k")
	wantCode(t, err, errcode.SeriesExpired, "a series at its End must not redeem (712)")
}

func testSeriesAt(t *testing.T, e *env) {
	tag := func(name string, refs ...limits.PlaceRef) series.Series {
		return e.gen(name, func(s *series.Series) { s.Redemption.Places = limits.NewPlaceSet(refs...) })
	}
	till := tag("till", limits.PlaceRef{Kind: limits.Till, ID: "t-1"})
	st1 := tag("store", limits.PlaceRef{Kind: limits.Store, ID: "s-1"})
	zone := tag("zone", limits.PlaceRef{Kind: limits.Zone, ID: "z-1"})
	concept := tag("concept", limits.PlaceRef{Kind: limits.Concept, ID: "c-1"})
	both := tag("store and zone", limits.PlaceRef{Kind: limits.Store, ID: "s-2"}, limits.PlaceRef{Kind: limits.Zone, ID: "z-1"})
	e.gen("untagged")
	paused := tag("paused store", limits.PlaceRef{Kind: limits.Store, ID: "s-1"})
	_, err := e.e.SetSeriesStatus(e.ctx, paused.ID, series.Paused)
	mustOK(t, err, "pause")

	ids := func(ss []series.Series) []string {
		var out []string
		for _, s := range ss {
			out = append(out, s.ID)
		}
		return out
	}
	sorted := func(ss ...series.Series) []string {
		out := ids(ss)
		for i := range out {
			for j := i + 1; j < len(out); j++ {
				if out[j] < out[i] {
					out[i], out[j] = out[j], out[i]
				}
			}
		}
		return out
	}
	for _, q := range []struct {
		kind limits.PlaceKind
		ids  []string
		want []string
		rule string
	}{
		{limits.Zone, []string{"z-1"}, sorted(zone, both), "a zone query returns only the active series tagged to that zone, not the zone's stores nor untagged series"},
		{limits.Store, []string{"s-1"}, sorted(st1), "a store query returns only active series tagged to that store (a paused one is left out)"},
		{limits.Till, []string{"t-1"}, sorted(till), "a till query returns the till's series"},
		{limits.Concept, []string{"c-1"}, sorted(concept), "a concept query returns the concept's series"},
		{limits.Store, []string{"s-1", "s-2", "s-1"}, sorted(st1, both), "several ids give the union, each series once, ordered by id"},
		{limits.Zone, []string{"nowhere"}, nil, "an unknown place id gives no series"},
		{limits.Till, []string{"s-1"}, nil, "a store id queried as a till matches nothing: places are matched by kind and id"},
	} {
		got, err := e.e.SeriesAt(e.ctx, q.kind, q.ids...)
		if !wantOK(t, err, "SeriesAt(%s, %v)", q.kind, q.ids) {
			continue
		}
		same(t, ids(got), q.want, "SeriesAt(%s, %v): %s", q.kind, q.ids, q.rule)
	}
	// The store query itself, with a status filter.
	ref := limits.PlaceRef{Kind: limits.Store, ID: "s-1"}
	got, err := e.st.ListSeries(e.ctx, store.SeriesQuery{Place: &ref, Status: series.Paused})
	mustOK(t, err, "ListSeries")
	same(t, ids(got), []string{paused.ID}, "ListSeries by place and status paused must return only the paused store series")
}

func testSeriesNotFound(t *testing.T, e *env) {
	_, err := e.e.Series(e.ctx, "no-such-series")
	wantCode(t, err, errcode.NotFound, "an unknown series id must be NotFound")
	_, err = e.e.Issue(e.ctx, couponkit.IssueRequest{SeriesID: "no-such-series", Customer: couponkit.ByID(alice)})
	wantCode(t, err, errcode.NotFound, "issuing from an unknown series must be NotFound")
	_, err = e.e.Counters(e.ctx, "no-such-series")
	wantCode(t, err, errcode.NotFound, "counters of an unknown series must be NotFound")
}
