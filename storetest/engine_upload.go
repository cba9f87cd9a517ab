package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
)

var uploadTests = []test{
	{"MaxPerCustomer", testUploadMax3},
	{"Gap", testUploadGap},
	{"SeriesMax", testUploadSeriesMax},
	{"ReuploadSkips", testUploadReupload},
	{"BadRows", testUploadBadRows},
	{"OwnExpiry", testUploadOwnExpiry},
	{"ThirdParty", testUploadThirdParty},
	{"NotUploadSeries", testUploadWrongSeries},
	{"NonASCIICode", testUploadNonASCII},
}

// rowsFor returns one upload row per code, each for customer ref.
func rowsFor(ref couponkit.CustomerRef, codes ...string) []couponkit.UploadRow {
	rows := make([]couponkit.UploadRow, len(codes))
	for i, c := range codes {
		rows[i] = couponkit.UploadRow{Code: c, Customer: ref}
	}
	return rows
}

// failedRows returns row -> code of an upload result's failures.
func failedRows(res couponkit.UploadResult) map[int]errcode.Code {
	out := map[int]errcode.Code{}
	for _, f := range res.Failed {
		out[f.Row] = rowCode(f.Err)
	}
	return out
}

// rowCode is the code of a row's error: the reason's code for a refusal by
// one rule, else the error's code.
func rowCode(err error) errcode.Code {
	var d *refusal.Error
	if errors.As(err, &d) && len(d.Refusals) == 1 {
		return d.Refusals[0].Code
	}
	return errcode.CodeOf(err)
}

func withCustomers(opts ...func(*series.Series)) series.Series {
	s := baseSeries("upload", series.Source{Kind: series.Uploaded, WithCustomers: true}, opts...)
	return s
}

// Rows with customers are issued under the series' issuance rules, in
// order: with at most 3 coupons per customer, a file of four rows for one
// customer issues three and rejects the fourth (1221); the same file again
// rejects all four, and so does any further row for that customer.
func testUploadMax3(t *testing.T, e *env) {
	s := e.createSeries(withCustomers(func(s *series.Series) { s.Issuance.MaxPerCustomer = 3 }))
	rows := rowsFor(couponkit.ByID(alice), "F-1", "F-2", "F-3", "F-4")
	res, err := e.e.Upload(e.ctx, couponkit.UploadRequest{SeriesID: s.ID, Rows: rows, Actor: "op"})
	mustOK(t, err, "Upload")
	if res.Added != 4 || res.Skipped != 0 {
		t.Errorf("the first upload adds every code to the pool: added %d skipped %d, want 4 and 0", res.Added, res.Skipped)
	}
	same(t, failedRows(res), map[int]errcode.Code{3: 1221}, "four rows for one customer with a maximum of 3 issue three and reject the 4th with 1221")
	if n := e.issuedCounts(s.ID, alice); n != [2]int64{3, 3} {
		t.Errorf("three rows were issued: counters %v", n)
	}
	res, err = e.e.Upload(e.ctx, couponkit.UploadRequest{SeriesID: s.ID, Rows: rows, Actor: "op"})
	mustOK(t, err, "Upload again")
	if res.Added != 0 || res.Skipped != 4 {
		t.Errorf("re-uploading the same file adds nothing: added %d skipped %d, want 0 and 4", res.Added, res.Skipped)
	}
	same(t, failedRows(res), map[int]errcode.Code{0: 1221, 1: 1221, 2: 1221, 3: 1221}, "the same file again rejects all four rows with 1221")
	res, err = e.e.Upload(e.ctx, couponkit.UploadRequest{SeriesID: s.ID, Rows: rowsFor(couponkit.ByID(alice), "F-5"), Actor: "op"})
	mustOK(t, err, "Upload one row")
	same(t, failedRows(res), map[int]errcode.Code{0: 1221}, "a file of one more row for the customer is rejected too")
	if n := e.issuedCounts(s.ID, alice); n != [2]int64{3, 3} {
		t.Errorf("re-uploads must issue nothing more: counters %v", n)
	}
	if cs := e.seriesCoupons(s.ID); len(cs) != 5 {
		t.Errorf("the pool holds each code once: %d coupons, want 5", len(cs))
	}
}

// With at most 3 per customer and a minimum gap of one day, rows for one
// customer in one file fall inside the gap: the first is issued and the
// others are rejected (1222).
func testUploadGap(t *testing.T, e *env) {
	s := e.createSeries(withCustomers(func(s *series.Series) {
		s.Issuance.MaxPerCustomer = 3
		s.Issuance.MinGap = 24 * time.Hour
	}))
	res, err := e.e.Upload(e.ctx, couponkit.UploadRequest{SeriesID: s.ID, Rows: rowsFor(couponkit.CustomerRef{Mobile: "+4470000001"}, "G-1", "G-2", "G-3", "G-4"), Actor: "op"})
	mustOK(t, err, "Upload")
	same(t, failedRows(res), map[int]errcode.Code{1: 1222, 2: 1222, 3: 1222}, "four rows for one customer inside a 1-day gap issue one and reject three with 1222")
}

// With a series maximum of 2, the rows after the second issue are rejected
// (1223).
func testUploadSeriesMax(t *testing.T, e *env) {
	s := e.createSeries(withCustomers(func(s *series.Series) { s.Issuance.MaxTotal = 2 }))
	res, err := e.e.Upload(e.ctx, couponkit.UploadRequest{SeriesID: s.ID, Rows: rowsFor(couponkit.ByID(alice), "M-1", "M-2", "M-3", "M-4"), Actor: "op"})
	mustOK(t, err, "Upload")
	same(t, failedRows(res), map[int]errcode.Code{2: 1223, 3: 1223}, "four rows with a series maximum of 2 issue two and reject two with 1223")
	if n := e.counters(s.ID); n.Issued != 2 {
		t.Errorf("series issued counter: %d, want 2", n.Issued)
	}
}

func testUploadReupload(t *testing.T, e *env) {
	s := e.createSeries(baseSeries("pool", uploadSrc()))
	codes := []string{"R-1", "R-2", "R-3"}
	e.upload(s.ID, codes...)
	rows := []couponkit.UploadRow{{Code: "r-1"}, {Code: "R-2"}, {Code: "R-3"}, {Code: "R-4"}}
	res, err := e.e.Upload(e.ctx, couponkit.UploadRequest{SeriesID: s.ID, Rows: rows, Actor: "op"})
	mustOK(t, err, "Upload again")
	if res.Added != 1 || res.Skipped != 3 || len(res.Failed) != 0 {
		t.Errorf("a re-upload skips the codes already in the series (compared case-insensitively) and adds the new one: %+v", res)
	}
	cs := e.seriesCoupons(s.ID)
	if len(cs) != 4 {
		t.Fatalf("the pool must hold 4 coupons after the re-upload: %d", len(cs))
	}
	for _, c := range cs {
		if c.State != coupon.Available || c.Holder != "" || c.Version != 1 {
			t.Errorf("an uploaded code without customer is Available at version 1: %+v", c)
		}
		if h := e.history(c.ID); len(h) != 1 || h[0].Kind != coupon.EventCreated {
			t.Errorf("a skipped re-upload must not add events: coupon %s has %v", c.Code, kinds(h))
		}
	}
	if cs[0].Code != "R-1" {
		t.Errorf("a skipped row keeps the code as first uploaded: %q", cs[0].Code)
	}
}

func testUploadBadRows(t *testing.T, e *env) {
	s := e.createSeries(withCustomers())
	rows := []couponkit.UploadRow{
		{Code: ""}, {Code: "has space"}, {Code: "ok-1"}, {Code: "OK-1"},
		{Code: "ok-2", Customer: couponkit.ByID("nobody")}, {Code: "ok-3", Customer: couponkit.CustomerRef{Email: "bob@example.com"}},
	}
	res, err := e.e.Upload(e.ctx, couponkit.UploadRequest{SeriesID: s.ID, Rows: rows, Actor: "op"})
	mustOK(t, err, "Upload")
	same(t, failedRows(res), map[int]errcode.Code{0: errcode.InvalidCode, 1: errcode.InvalidCode, 3: errcode.AlreadyExists, 4: errcode.UnknownCustomer},
		"an upload reports each bad row (empty, bad characters, repeated code, unknown customer) and adds the rest")
	if res.Added != 3 {
		t.Errorf("the three good codes are added: %d", res.Added)
	}
	for _, c := range e.seriesCoupons(s.ID) {
		switch c.Code {
		case "ok-3":
			if c.Holder != bob || c.State != coupon.Issued {
				t.Errorf("a row with a customer is issued to that customer at once: %+v", c)
			}
		case "ok-1", "ok-2":
			if c.State != coupon.Available {
				t.Errorf("%s must stay Available: %s", c.Code, c.State)
			}
		default:
			t.Errorf("unexpected coupon %q in the pool", c.Code)
		}
	}
}

func testUploadOwnExpiry(t *testing.T, e *env) {
	s := e.createSeries(withCustomers(func(s *series.Series) { s.Expiry = series.Expiry{Kind: series.DaysFromIssue, N: 10} }))
	own := t0.Add(48 * time.Hour)
	res, err := e.e.Upload(e.ctx, couponkit.UploadRequest{SeriesID: s.ID, Rows: []couponkit.UploadRow{
		{Code: "E-1", Customer: couponkit.ByID(alice), ExpiresAt: own},
		{Code: "E-2", Customer: couponkit.ByID(bob), ExpiresAt: t0.Add(100 * 24 * time.Hour)},
	}, Actor: "op"})
	mustOK(t, err, "Upload")
	if len(res.Failed) != 0 {
		t.Fatalf("Upload failed rows: %+v", res.Failed)
	}
	for _, c := range e.seriesCoupons(s.ID) {
		want := own
		if c.Code == "E-2" {
			want = time.Date(2030, 1, 18, 0, 0, 0, 0, time.UTC)
		}
		if !c.ExpiresAt.Equal(want) {
			t.Errorf("an issued coupon expires at the earlier of its own expiry and the series' (%s): got %v, want %v", c.Code, c.ExpiresAt, want)
		}
	}
}

func testUploadThirdParty(t *testing.T, e *env) {
	s := e.createSeries(baseSeries("partner", series.Source{Kind: series.ThirdParty, WithCustomers: true}))
	res, err := e.e.Upload(e.ctx, couponkit.UploadRequest{SeriesID: s.ID, Rows: rowsFor(couponkit.ByID(alice), "T-1", "T-2", "T-3"), Actor: "op"})
	mustOK(t, err, "Upload")
	if len(res.Failed) != 0 || res.Added != 3 {
		t.Errorf("third-party codes are issued as uploaded, with no issuance setting applied: %+v", res)
	}
	if n := e.issuedCounts(s.ID, alice); n != [2]int64{3, 3} {
		t.Errorf("issues of third-party codes are counted: %v", n)
	}
}

func testUploadWrongSeries(t *testing.T, e *env) {
	s := e.gen("gen")
	_, err := e.e.Upload(e.ctx, couponkit.UploadRequest{SeriesID: s.ID, Rows: []couponkit.UploadRow{{Code: "X-1"}}, Actor: "op"})
	wantCode(t, err, errcode.InvalidArgument, "a generated series does not take uploaded codes")
}
