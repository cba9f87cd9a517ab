package storetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// This file holds the subtests about reading codes and the guessability of
// series: codes are read without the series' key, codes are ASCII, and a
// series makes no more codes than its fill ratio allows. Each is listed in
// its group (Redeem, Upload, Series, Issue, Query).

// tillEngine returns an engine over e's store, clock and customers with no
// CodeKey: a till, which reads and redeems codes but never makes them.
func (e *env) tillEngine() *couponkit.Engine {
	e.t.Helper()
	till, err := couponkit.New(couponkit.Config{Store: e.st, Now: e.clk.Now, Customers: e.dir, Rates: rates})
	if err != nil {
		e.t.Fatalf("couponkit.New without CodeKey: %v", err)
	}
	return till
}

// snapshot is what a refused call must leave as it was: a series' counters
// and stored coupons, and its events.
type snapshot struct {
	Counters couponkit.SeriesCounters
	Coupons  []coupon.Coupon
	Events   []coupon.Event
}

func (e *env) snapshot(seriesID string) snapshot {
	e.t.Helper()
	return snapshot{e.counters(seriesID), e.seriesCoupons(seriesID), e.events(store.EventQuery{SeriesID: seriesID})}
}

// An engine without CodeKey reads generated and randomized common codes
// with the series named: parsing a code needs its shape, never the key.
func testRedeemWithoutKey(t *testing.T, e *env) {
	gen := e.gen("till generated")
	rnd := e.createSeries(baseSeries("till randomized", series.Source{Kind: series.RandomizedCommon, Sample: "TILL12345"}))
	till := e.tillEngine()
	for i, s := range []series.Series{gen, rnd} {
		c := e.issue(s.ID, alice)
		req := redeemReq("  "+strings.ToLower(c.Code)+" ", alice, fmt.Sprint("till-", i), "100")
		req.SeriesID = s.ID
		chk, err := till.Validate(e.ctx, req)
		if !wantOK(t, err, "an engine without CodeKey validates a %s code typed in lower case with the series named", s.Source.Kind) {
			continue
		}
		if chk.Coupon.ID != c.ID {
			t.Errorf("Validate without CodeKey finds and allows the %s coupon %s: got %s", s.Source.Kind, c.ID, chk.Coupon.ID)
		}
		r, err := till.Redeem(e.ctx, req)
		if wantOK(t, err, "an engine without CodeKey redeems a %s code with the series named", s.Source.Kind) && r.Coupon.ID != c.ID {
			t.Errorf("the redemption is of coupon %s, want %s", r.Coupon.ID, c.ID)
		}
		e.wantUses(t, s.ID, c.Canonical, alice, [4]int64{1, 1, 1, 1}, "the redemption without CodeKey is counted once")

		bad := req
		bad.Code, bad.IdempotencyKey = c.Code[:len(c.Code)-1]+"*", "till-bad"
		_, err = till.Redeem(e.ctx, bad)
		wantField(t, err, errcode.InvalidCode, "Code", "a malformed %s code is refused as malformed, whatever the key", s.Source.Kind)

		cs, err := till.Counters(e.ctx, s.ID)
		if wantOK(t, err, "Counters without CodeKey") && (cs.CodeSpace == 0 || cs.LiveCodes != 1) {
			t.Errorf("Counters without CodeKey report the code space and the one code made: %+v", cs)
		}
	}
	_, err := till.Issue(e.ctx, couponkit.IssueRequest{SeriesID: gen.ID, Customer: couponkit.ByID(bob)})
	wantField(t, err, errcode.InvalidConfig, "CodeKey", "making a code still needs the key")
}

// Codes are ASCII: a Unicode letter whose upper case is an ASCII one ("ſ" is
// "S", "ı" is "I") does not stand for it.
func testRedeemLookAlike(t *testing.T, e *env) {
	s := e.createSeries(baseSeries("look-alike", uploadSrc()))
	e.upload(s.ID, "SUMMER10")
	c := e.issue(s.ID, alice)
	before := e.snapshot(s.ID)
	for _, typed := range []string{"ſUMMER10", "SUMMER1\u0030\u0301", "ＳUMMER10", "SUMMER10\u00a0"} {
		for _, seriesID := range []string{"", s.ID} {
			req := redeemReq(typed, alice, "k-"+typed, "100")
			req.SeriesID = seriesID
			_, err := e.e.Redeem(e.ctx, req)
			wantField(t, err, errcode.InvalidCode, "Code", "%q is not SUMMER10 (series %q): codes are ASCII", typed, seriesID)
			_, err = e.e.Validate(e.ctx, req)
			wantField(t, err, errcode.InvalidCode, "Code", "Validate of %q (series %q)", typed, seriesID)
		}
	}
	same(t, e.snapshot(s.ID), before, "refused look-alikes change nothing")
	_, err := e.tryRedeem(" summer10 ", alice, "k-ascii")
	wantOK(t, err, "the ASCII code in lower case still redeems %s", c.Code)
}

// An uploaded code with a non-ASCII letter is refused rather than folded
// into an ASCII one ("ıNFO" would be stored as INFO).
func testUploadNonASCII(t *testing.T, e *env) {
	s := e.createSeries(baseSeries("ascii", uploadSrc()))
	before := e.snapshot(s.ID)
	res, err := e.e.Upload(e.ctx, couponkit.UploadRequest{SeriesID: s.ID, Rows: []couponkit.UploadRow{{Code: "ıNFO"}, {Code: "ﬀ-1"}, {Code: "INFO\u200b"}}, Actor: "op"})
	mustOK(t, err, "Upload")
	if res.Added != 0 || len(res.Failed) != 3 {
		t.Fatalf("every non-ASCII code is refused: added %d, failed %+v", res.Added, res.Failed)
	}
	for _, f := range res.Failed {
		wantField(t, f.Err, errcode.InvalidCode, "Code", "upload row %d", f.Row)
	}
	same(t, e.snapshot(s.ID), before, "a refused upload stores nothing")
	_, err = e.e.Issue(e.ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID(alice), Code: "ıNFO"})
	wantField(t, err, errcode.InvalidCode, "Code", "an issue naming a non-ASCII code is refused")
	e.upload(s.ID, "info")
	if cs := e.seriesCoupons(s.ID); len(cs) != 1 || cs[0].Canonical != "INFO" {
		t.Errorf("the ASCII code is stored as INFO: %+v", cs)
	}
}

// numeric4 is the most guessable generated series: 4 digits, 10,000 codes.
func numeric4(name string, opts ...func(*series.Series)) series.Series {
	return baseSeries(name, series.Source{Kind: series.Generated, Length: 4, Alphabet: series.Numeric}, opts...)
}

// A series' fill ratio is checked when it is created: a MaxTotal it cannot
// hold, a ratio that allows no code, or a ratio out of range is refused,
// and nothing is stored.
func testSeriesFillRatio(t *testing.T, e *env) {
	for _, tc := range []struct {
		name  string
		s     series.Series
		code  errcode.Code
		field string
	}{
		{"4 digits at the default ratio hold 1 code, not 2",
			numeric4("a", func(s *series.Series) { s.Issuance.MaxTotal = 2 }), errcode.FillRatioExceeded, "Issuance.MaxTotal"},
		{"4 digits at 0.5 hold 5,000 codes, not 5,001",
			numeric4("b", func(s *series.Series) { s.Source.MaxFill, s.Issuance.MaxTotal = 0.5, 5001 }), errcode.FillRatioExceeded, "Issuance.MaxTotal"},
		{"4 digits hold 10,000 codes at most, whatever the ratio",
			numeric4("c", func(s *series.Series) { s.Source.MaxFill, s.Issuance.MaxTotal = 1, 10001 }), errcode.CapacityExceeded, "Issuance.MaxTotal"},
		{"a ratio of 0.00001 of 10,000 codes allows none",
			numeric4("d", func(s *series.Series) { s.Source.MaxFill = 0.00001 }), errcode.InvalidConfig, "Source.MaxFill"},
		{"a ratio above 1",
			numeric4("e", func(s *series.Series) { s.Source.MaxFill = 1.5 }), errcode.InvalidConfig, "Source.MaxFill"},
		{"a negative ratio",
			numeric4("f", func(s *series.Series) { s.Source.MaxFill = -0.1 }), errcode.InvalidConfig, "Source.MaxFill"},
		{"a ratio on uploaded codes, which the series does not make",
			baseSeries("g", uploadSrc(), func(s *series.Series) { s.Source.MaxFill = 0.5 }), errcode.InvalidConfig, "Source.MaxFill"},
		{"a randomized common series holds its whole space, and no more (5-digit sample: 1,000 codes)",
			baseSeries("h", series.Source{Kind: series.RandomizedCommon, Sample: "12345"}, func(s *series.Series) { s.Issuance.MaxTotal = 1001 }),
			errcode.CapacityExceeded, "Issuance.MaxTotal"},
	} {
		_, err := e.e.CreateSeries(e.ctx, tc.s)
		wantField(t, err, tc.code, tc.field, "%s", tc.name)
	}
	all, err := e.st.ListSeries(e.ctx, store.SeriesQuery{})
	mustOK(t, err, "ListSeries")
	if len(all) != 0 {
		t.Errorf("refused series are not stored: %d", len(all))
	}
	for _, s := range []series.Series{
		numeric4("default", func(s *series.Series) { s.Issuance.MaxTotal = 1 }),
		numeric4("half", func(s *series.Series) { s.Source.MaxFill, s.Issuance.MaxTotal = 0.5, 5000 }),
		baseSeries("full", series.Source{Kind: series.RandomizedCommon, Sample: "12345"}, func(s *series.Series) { s.Issuance.MaxTotal = 1000 }),
	} {
		_, err := e.e.CreateSeries(e.ctx, s)
		wantOK(t, err, "series %q holds its MaxTotal (%d) at its ratio", s.Name, s.Issuance.MaxTotal)
	}
}

// A generated series makes no more codes than its fill ratio allows: the
// default lets a 4-digit series make 1 code. A refused issue or Generate
// changes nothing; raising the ratio lets the series make more.
func testIssueFillRatio(t *testing.T, e *env) {
	s := e.createSeries(numeric4("guessable"))
	first := e.issue(s.ID, alice)
	before := e.snapshot(s.ID)
	_, err := e.e.Issue(e.ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID(bob)})
	wantField(t, err, errcode.FillRatioExceeded, "SeriesID", "a second code of 4 digits passes the default ratio (1 in 10,000)")
	same(t, e.snapshot(s.ID), before, "an issue refused at the fill ratio changes nothing")
	out, err := e.e.IssueBatch(e.ctx, []couponkit.IssueRequest{
		{SeriesID: s.ID, Customer: couponkit.ByID(bob)}, {SeriesID: s.ID, Customer: couponkit.ByID(carol)}})
	if mustOK(t, err, "IssueBatch"); len(out) == 2 {
		wantField(t, out[0].Err, errcode.FillRatioExceeded, "SeriesID", "a batch past the fill ratio is refused request by request")
		wantField(t, out[1].Err, errcode.FillRatioExceeded, "SeriesID", "a batch past the fill ratio is refused request by request")
	}
	n, err := e.e.Generate(e.ctx, couponkit.GenerateRequest{SeriesID: s.ID, N: 1})
	wantField(t, err, errcode.FillRatioExceeded, "N", "Generate past the fill ratio")
	if n != 0 {
		t.Errorf("Generate refused at the fill ratio makes nothing: %d", n)
	}
	same(t, e.snapshot(s.ID), before, "a batch and a Generate refused at the fill ratio change nothing")

	s.Source.MaxFill = 0.0003 // 3 codes
	s, err = e.e.UpdateSeries(e.ctx, s)
	mustOK(t, err, "raising the fill ratio of a series")
	second := e.issue(s.ID, bob)
	n, err = e.e.Generate(e.ctx, couponkit.GenerateRequest{SeriesID: s.ID, N: 1})
	if wantOK(t, err, "Generate within the raised ratio") && n != 1 {
		t.Errorf("Generate within the raised ratio makes its code: %d", n)
	}
	before = e.snapshot(s.ID)
	_, err = e.e.Generate(e.ctx, couponkit.GenerateRequest{SeriesID: s.ID, N: 1})
	wantField(t, err, errcode.FillRatioExceeded, "N", "a 4th code passes a ratio of 3 in 10,000")
	same(t, e.snapshot(s.ID), before, "a Generate refused at the raised ratio changes nothing")
	if first.Canonical == second.Canonical || len(second.Code) != 4 {
		t.Errorf("the codes made are distinct 4-digit codes: %s, %s", first.Code, second.Code)
	}
}

// Counters report each series' guessability: its code space, the codes it
// has made, and the odds that a guess is one of them.
func testQueryGuessOdds(t *testing.T, e *env) {
	s := e.createSeries(numeric4("odds", func(s *series.Series) { s.Source.MaxFill = 0.01 }))
	want := couponkit.SeriesCounters{RemainingIssuable: -1, RemainingUses: -1, CodeSpace: 10000}
	same(t, e.counters(s.ID), want, "a new 4-digit series has 10,000 codes and has made none")
	e.issue(s.ID, alice)
	_, err := e.e.Generate(e.ctx, couponkit.GenerateRequest{SeriesID: s.ID, N: 9})
	mustOK(t, err, "Generate")
	want.Issued, want.LiveCodes, want.GuessOdds = 1, 10, 0.001
	same(t, e.counters(s.ID), want, "1 code issued and 9 in the pool are 10 codes of 10,000: odds 1 in 1,000")

	r := e.createSeries(baseSeries("odds randomized", series.Source{Kind: series.RandomizedCommon, Sample: "ODDS12345"}))
	e.issue(r.ID, alice)
	same(t, e.counters(r.ID), couponkit.SeriesCounters{Issued: 1, RemainingIssuable: -1, RemainingUses: -1,
		CodeSpace: 60466176, LiveCodes: 1, GuessOdds: 1.0 / 60466176},
		"a 9-character alphanumeric sample generates 5 characters: 36^5 = 60,466,176 codes")

	u := e.createSeries(baseSeries("odds uploaded", uploadSrc()))
	e.upload(u.ID, "U-1")
	e.issue(u.ID, alice)
	same(t, e.counters(u.ID), couponkit.SeriesCounters{Issued: 1, RemainingIssuable: -1, RemainingUses: -1},
		"uploaded codes have no code space of the series' making: no odds")
}
