package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
)

var issueTests = []test{
	{"ByEachIdentifier", testIssueByRef},
	{"UnknownCustomer", testIssueUnknownCustomer},
	{"StoredAsReturned", testIssueStored},
	{"MaxPerCustomer", testIssueMaxPerCustomer},
	{"Gap", testIssueGap},
	{"SeriesMax", testIssueSeriesMax},
	{"SendExisting", testIssueSendExisting},
	{"SendNothing", testIssueSendNothing},
	{"AudienceOnly", testIssueAudience},
	{"ExcludedByPastSeries", testIssueExclusion},
	{"OnRemainingOnce", testIssueOnRemaining},
	{"CommonCodeOncePerCustomer", testIssueCommon},
	{"CommonCodeSendExisting", testIssueCommonResent},
	{"RandomizedCommon", testIssueRandomized},
	{"UploadedPool", testIssuePool},
	{"UploadedNamedCode", testIssueNamedCode},
	{"FillRatio", testIssueFillRatio},
	{"BatchPastCapacity", testIssueBatchPastCapacity},
	// Idempotency keys: see engine_issuekeys.go.
	{"KeyReplays", testIssueKeyReplays},
	{"KeyReplaysWhereRulesRefuse", testIssueKeyReplaysRefused},
	{"KeyWithOtherCustomerOrCode", testIssueKeyMismatch},
	{"KeyAfterTransfer", testIssueKeyAfterTransfer},
	{"KeyPerSeries", testIssueKeyPerSeries},
	{"KeyAfterLostReply", testIssueKeyLostReply},
	{"BatchRunTwice", testIssueBatchTwice},
	{"BatchAfterLostReply", testIssueBatchLostReply},
}

func issueReq(seriesID string, ref couponkit.CustomerRef) couponkit.IssueRequest {
	return couponkit.IssueRequest{SeriesID: seriesID, Customer: ref, Actor: "crm", Reason: "welcome"}
}

func testIssueByRef(t *testing.T, e *env) {
	s := e.gen("refs")
	for _, tc := range []struct {
		ref  couponkit.CustomerRef
		want string
	}{
		{couponkit.ByID(alice), alice},
		{couponkit.CustomerRef{Mobile: "+4470000002"}, bob},
		{couponkit.CustomerRef{Email: "ALICE@example.COM"}, alice},
		{couponkit.CustomerRef{ExternalID: "ext-bob"}, bob},
	} {
		r, err := e.e.Issue(e.ctx, issueReq(s.ID, tc.ref))
		if !wantOK(t, err, "issuing to a known customer by %s", tc.ref) {
			continue
		}
		if r.Coupon.Holder != tc.want || r.Resent {
			t.Errorf("a coupon issued to %s must be held by customer id %q: got holder %q, resent %v", tc.ref, tc.want, r.Coupon.Holder, r.Resent)
		}
	}
	if n := e.counters(s.ID); n.Issued != 4 {
		t.Errorf("four issues must count four: got %d", n.Issued)
	}
	if n := e.issuedCounts(s.ID, alice); n[1] != 2 {
		t.Errorf("issues by id and by email resolve to one customer, whose counter must be 2: got %d", n[1])
	}
	_, err := e.e.Issue(e.ctx, issueReq(s.ID, couponkit.CustomerRef{ID: alice, Email: "x@example.com"}))
	wantCode(t, err, errcode.InvalidArgument, "a customer reference with two identifiers must be refused")
	_, err = e.e.Issue(e.ctx, issueReq(s.ID, couponkit.CustomerRef{}))
	wantCode(t, err, errcode.InvalidArgument, "a customer reference with no identifier must be refused")
}

func testIssueUnknownCustomer(t *testing.T, e *env) {
	s := e.gen("unknown")
	for _, ref := range []couponkit.CustomerRef{
		couponkit.ByID("nobody"), {Mobile: "+1555"}, {Email: "no@example.com"}, {ExternalID: "ext-none"},
	} {
		_, err := e.e.Issue(e.ctx, issueReq(s.ID, ref))
		wantCode(t, err, errcode.UnknownCustomer, "issuing to %s, which resolves to no customer, must be UnknownCustomer", ref)
	}
	if n := e.counters(s.ID); n.Issued != 0 {
		t.Errorf("refused issues must not count: %d", n.Issued)
	}
	if cs := e.seriesCoupons(s.ID); len(cs) != 0 {
		t.Errorf("refused issues must store no coupon: %d", len(cs))
	}
}

func testIssueStored(t *testing.T, e *env) {
	s := e.gen("stored", func(s *series.Series) { s.Expiry = series.Expiry{Kind: series.DaysFromIssue, N: 1} })
	r, err := e.e.Issue(e.ctx, issueReq(s.ID, couponkit.ByID(alice)))
	mustOK(t, err, "Issue")
	c := r.Coupon
	wantExp := time.Date(2030, 1, 9, 0, 0, 0, 0, time.UTC) // end of 8 Jan: issued 7 Jan, 1 day
	if c.State != coupon.Issued || c.Holder != alice || !c.IssuedAt.Equal(t0) || !c.ExpiresAt.Equal(wantExp) ||
		c.SeriesID != s.ID || c.Redemptions != 0 || c.Holds != 0 || len(c.Code) != 8 || c.Code != c.Canonical {
		t.Errorf("an issued coupon must be Issued to alice at %v, expiring at the end of the next day (%v), with an 8-character code: got %+v", t0, wantExp, c)
	}
	same(t, e.stored(c.ID), c, "the store must hold the coupon exactly as Issue returned it")
	byCode, err := e.st.CouponsByCode(e.ctx, s.ID, c.Canonical)
	mustOK(t, err, "CouponsByCode")
	same(t, byCode, []coupon.Coupon{c}, "CouponsByCode must find the issued coupon by its canonical code")
	evs := e.history(c.ID)
	if len(evs) == 0 || evs[len(evs)-1].Kind != coupon.EventIssued {
		t.Fatalf("an issue must append an Issued event to the coupon's history: got %v", kinds(evs))
	}
	ev := evs[len(evs)-1]
	if ev.Customer != alice || ev.Actor != "crm" || ev.Reason != "welcome" || !ev.At.Equal(t0) || ev.ID == "" || ev.Code != c.Code || ev.SeriesID != s.ID {
		t.Errorf("the Issued event must record customer, actor, reason, time, id, code and series: %+v", ev)
	}
	same(t, kinds(e.customerHistory(alice, s.ID)), kinds(evs), "the customer's history in the series must hold the coupon's events")
}

// A per-customer maximum of 3 issues (no gap, no series maximum) allows
// three issues to a customer and refuses the fourth; other customers are not
// affected.
func testIssueMaxPerCustomer(t *testing.T, e *env) {
	s := e.gen("max3", func(s *series.Series) { s.Issuance.MaxPerCustomer = 3 })
	for i := range 3 {
		_, err := e.e.Issue(e.ctx, issueReq(s.ID, couponkit.ByID(alice)))
		wantOK(t, err, "issue %d of 3 allowed per customer", i+1)
	}
	_, err := e.e.Issue(e.ctx, issueReq(s.ID, couponkit.ByID(alice)))
	wantDenied(t, err, reasons(limits.CustomerIssueLimit), "a series with at most 3 issues per customer must refuse the 4th with 1221")
	if n := e.issuedCounts(s.ID, alice); n != [2]int64{3, 3} {
		t.Errorf("the refused 4th issue must not count: series and customer counters %v, want [3 3]", n)
	}
	_, err = e.e.Issue(e.ctx, issueReq(s.ID, couponkit.ByID(bob)))
	wantOK(t, err, "the per-customer maximum must not stop another customer")
}

// A minimum gap of one day between two issues to one customer (maximum 3
// per customer) refuses an issue 23 hours after the last and allows one
// exactly a day after it.
func testIssueGap(t *testing.T, e *env) {
	s := e.gen("gap", func(s *series.Series) {
		s.Issuance.MaxPerCustomer = 3
		s.Issuance.MinGap = 24 * time.Hour
	})
	e.issue(s.ID, alice)
	e.clk.Advance(23 * time.Hour)
	_, err := e.e.Issue(e.ctx, issueReq(s.ID, couponkit.ByID(alice)))
	wantDenied(t, err, reasons(limits.IssueGap), "a second issue 23 hours after the first must be refused by a 1-day gap with 1222")
	_, err = e.e.Issue(e.ctx, issueReq(s.ID, couponkit.ByID(bob)))
	wantOK(t, err, "the issue gap is per customer")
	e.clk.Advance(time.Hour)
	_, err = e.e.Issue(e.ctx, issueReq(s.ID, couponkit.ByID(alice)))
	wantOK(t, err, "an issue exactly one day after the last must pass a 1-day gap")
	if n := e.issuedCounts(s.ID, alice); n != [2]int64{3, 2} {
		t.Errorf("counters after 2 issues to alice and 1 to bob: %v, want [3 2]", n)
	}
}

// A series maximum of 2 issues (no per-customer limit) refuses every
// further issue, to every customer.
func testIssueSeriesMax(t *testing.T, e *env) {
	s := e.gen("max-series", func(s *series.Series) { s.Issuance.MaxTotal = 2 })
	e.issue(s.ID, alice)
	e.issue(s.ID, alice)
	for i := range 2 {
		_, err := e.e.Issue(e.ctx, issueReq(s.ID, couponkit.ByID(alice)))
		wantDenied(t, err, reasons(limits.SeriesIssueLimit), "issue %d of a series with a maximum of 2 issues must be refused with 1223", i+3)
	}
	_, err := e.e.Issue(e.ctx, issueReq(s.ID, couponkit.ByID(bob)))
	wantDenied(t, err, reasons(limits.SeriesIssueLimit), "the series maximum applies to every customer")
	if n := e.counters(s.ID); n.Issued != 2 || n.RemainingIssuable != 0 {
		t.Errorf("a series at its maximum of 2: Issued %d RemainingIssuable %d, want 2 and 0", n.Issued, n.RemainingIssuable)
	}
}

func testIssueSendExisting(t *testing.T, e *env) {
	s := e.gen("resend", func(s *series.Series) {
		s.Issuance.MaxPerCustomer = 1
		s.Issuance.OnQualifyAgain = series.SendExisting
	})
	first := e.issue(s.ID, alice)
	evs := len(e.history(first.ID))
	r, err := e.e.Issue(e.ctx, issueReq(s.ID, couponkit.ByID(alice)))
	if !wantOK(t, err, "with SendExisting a customer at the per-customer maximum gets the existing coupon again, not an error") {
		return
	}
	if !r.Resent || r.Coupon.ID != first.ID {
		t.Errorf("SendExisting must return the customer's valid coupon with Resent set: got resent %v, coupon %s, want %s", r.Resent, r.Coupon.ID, first.ID)
	}
	if n := e.issuedCounts(s.ID, alice); n != [2]int64{1, 1} {
		t.Errorf("re-sending must not count as an issue: %v", n)
	}
	if got := len(e.history(first.ID)); got != evs {
		t.Errorf("re-sending changes nothing, so it appends no event: %d events, had %d", got, evs)
	}
	// Once the coupon is used up there is nothing valid to send.
	e.redeem(first.Code, alice, "use")
	_, err = e.e.Issue(e.ctx, issueReq(s.ID, couponkit.ByID(alice)))
	wantDenied(t, err, reasons(limits.CustomerIssueLimit), "with SendExisting but no valid coupon left the issue is refused")
}

func testIssueSendNothing(t *testing.T, e *env) {
	s := e.gen("nothing", func(s *series.Series) { s.Issuance.MaxPerCustomer = 1 })
	e.issue(s.ID, alice)
	r, err := e.e.Issue(e.ctx, issueReq(s.ID, couponkit.ByID(alice)))
	wantDenied(t, err, reasons(limits.CustomerIssueLimit), "with SendNothing a customer at the per-customer maximum is refused")
	if r.Resent {
		t.Errorf("SendNothing never re-sends")
	}
}

func testIssueAudience(t *testing.T, e *env) {
	s := e.gen("audience", func(s *series.Series) { s.Issuance.AudienceOnly = true })
	_, err := e.e.Issue(e.ctx, issueReq(s.ID, couponkit.ByID(alice)))
	wantDenied(t, err, reasons(limits.NotInAudience), "an audience-only series must refuse a customer not on its list")
	_, err = e.e.AddAudience(e.ctx, couponkit.AudienceRequest{SeriesID: s.ID, Customers: refs(alice, carol)})
	mustOK(t, err, "AddAudience")
	_, err = e.e.AddAudience(e.ctx, couponkit.AudienceRequest{SeriesID: s.ID, Customers: refs(alice)})
	mustOK(t, err, "AddAudience again (idempotent)")
	_, err = e.e.Issue(e.ctx, issueReq(s.ID, couponkit.ByID(alice)))
	wantOK(t, err, "a customer added to the audience may be issued")
	_, err = e.e.Issue(e.ctx, issueReq(s.ID, couponkit.ByID(bob)))
	wantDenied(t, err, reasons(limits.NotInAudience), "the audience list of one series names only its customers")
	in, err := e.st.InAudience(e.ctx, s.ID, carol)
	mustOK(t, err, "InAudience")
	if !in {
		t.Errorf("InAudience must report carol, who was added")
	}
	in, err = e.st.InAudience(e.ctx, "other-series", carol)
	mustOK(t, err, "InAudience")
	if in {
		t.Errorf("InAudience must be per series")
	}
}

func testIssueExclusion(t *testing.T, e *env) {
	past := e.gen("past")
	s := e.gen("excluding", func(s *series.Series) {
		s.Issuance.ExcludeSeries = []string{past.ID, "never-issued-series"}
		s.Issuance.ExcludeWithinMonths = 2
	})
	e.issue(past.ID, alice)
	_, err := e.e.Issue(e.ctx, issueReq(s.ID, couponkit.ByID(alice)))
	wantDenied(t, err, reasons(limits.ExcludedByHistory), "a customer issued a coupon of an excluded series in the last 2 months must be refused")
	_, err = e.e.Issue(e.ctx, issueReq(s.ID, couponkit.ByID(bob)))
	wantOK(t, err, "a customer with no coupon of the excluded series may be issued")
	e.clk.Advance(62 * 24 * time.Hour) // past 7 March 2030, two months after 7 January
	_, err = e.e.Issue(e.ctx, issueReq(s.ID, couponkit.ByID(alice)))
	wantOK(t, err, "the exclusion ends once the excluded issue is more than 2 months old")
}

func testIssueOnRemaining(t *testing.T, e *env) {
	s := e.gen("notify", func(s *series.Series) {
		s.Issuance.MaxTotal = 5
		s.Issuance.NotifyRemaining = 2
	})
	other := e.gen("other")
	e.issue(other.ID, alice)
	for i, c := range []string{alice, bob, carol, dave, erin} {
		e.issue(s.ID, c)
		e.mu.Lock()
		n := len(e.remaining)
		e.mu.Unlock()
		want := 0
		if i+1 >= 3 {
			want = 1
		}
		if n != want {
			t.Errorf("after issue %d of 5 (remaining %d, threshold 2) OnRemaining must have fired %d times: %d calls", i+1, 5-i-1, want, n)
		}
	}
	_, err := e.e.Issue(e.ctx, issueReq(s.ID, couponkit.ByID("alice")))
	wantDenied(t, err, reasons(limits.SeriesIssueLimit), "the 6th issue of a series of 5 must be refused")
	e.mu.Lock()
	defer e.mu.Unlock()
	same(t, e.remaining, []remainingCall{{s.ID, 2}}, "OnRemaining must fire exactly once, with the series and remaining 2, when the 3rd of 5 issues leaves 2")
}

// A common (generic) code is issued to a customer at most once: a second
// issue to the same customer is refused with 1224, while every other
// customer gets a coupon of their own with the same code.
func testIssueCommon(t *testing.T, e *env) {
	s := e.createSeries(baseSeries("holiday", commonSrc("Holiday20")))
	a, err := e.e.Issue(e.ctx, issueReq(s.ID, couponkit.ByID(alice)))
	mustOK(t, err, "first issue of a common code")
	if a.Coupon.Code != "Holiday20" || a.Coupon.Canonical != "HOLIDAY20" || !a.Coupon.Shared {
		t.Errorf("a common coupon carries the series' code as created, canonical upper case, and is Shared: %+v", a.Coupon)
	}
	for i := range 3 {
		_, err := e.e.Issue(e.ctx, issueReq(s.ID, couponkit.ByID(alice)))
		wantDenied(t, err, reasons(limits.CommonCodeIssued), "issue %d of a common code to the same customer must be refused with 1224", i+2)
	}
	b := e.issue(s.ID, bob)
	if b.ID == a.Coupon.ID || b.Code != a.Coupon.Code || b.Holder != bob {
		t.Errorf("another customer gets a coupon of their own with the same code: %+v", b)
	}
	byCode, err := e.st.CouponsByCode(e.ctx, s.ID, "HOLIDAY20")
	mustOK(t, err, "CouponsByCode")
	if len(byCode) != 2 {
		t.Errorf("a common code has one coupon per customer it was issued to: got %d", len(byCode))
	}
	if n := e.counters(s.ID); n.Issued != 2 {
		t.Errorf("two customers issued a common code count 2: %d", n.Issued)
	}
}

func testIssueCommonResent(t *testing.T, e *env) {
	s := e.createSeries(baseSeries("holiday", commonSrc("HOLI"), func(s *series.Series) {
		s.Issuance.OnQualifyAgain = series.SendExisting
	}))
	a := e.issue(s.ID, alice)
	r, err := e.e.Issue(e.ctx, issueReq(s.ID, couponkit.ByID(alice)))
	if wantOK(t, err, "with SendExisting a second issue of a common code re-sends it") && (!r.Resent || r.Coupon.ID != a.ID) {
		t.Errorf("the re-sent common coupon must be the customer's own, with Resent: %+v", r)
	}
}

func testIssueRandomized(t *testing.T, e *env) {
	s := e.createSeries(baseSeries("personal", series.Source{Kind: series.RandomizedCommon, Sample: "test12345"}))
	seen := map[string]bool{}
	for _, c := range []string{alice, bob, carol, alice} {
		got := e.issue(s.ID, c)
		if len(got.Code) != 9 || !strings.HasPrefix(got.Code, "TEST") || got.Shared {
			t.Errorf("a randomized common code has the sample's length (9) and fixed part (TEST), and is not shared: %+v", got)
		}
		if seen[got.Canonical] {
			t.Errorf("randomized common codes must be distinct: %s twice", got.Canonical)
		}
		seen[got.Canonical] = true
	}
	_, err := e.e.CreateSeries(e.ctx, baseSeries("clash", series.Source{Kind: series.RandomizedCommon, Sample: "Test99999"}))
	wantCode(t, err, errcode.FixedPartInUse, "a second randomized common series with the same fixed part (TEST) must be refused")
	_, err = e.e.CreateSeries(e.ctx, baseSeries("other", series.Source{Kind: series.RandomizedCommon, Sample: "tesx12345"}))
	wantOK(t, err, "a randomized common series with another fixed part may be created")
}

func testIssuePool(t *testing.T, e *env) {
	s := e.createSeries(baseSeries("pool", uploadSrc()))
	e.upload(s.ID, "P-1", "P-2", "P-3")
	var got []string
	for _, c := range []string{alice, bob, carol} {
		x := e.issue(s.ID, c)
		got = append(got, x.Code)
		if x.Holder != c || x.State != coupon.Issued {
			t.Errorf("a pool coupon issued to %s: %+v", c, x)
		}
	}
	slices.Sort(got)
	same(t, got, []string{"P-1", "P-2", "P-3"}, "three issues from a pool of three must hand out each code once")
	_, err := e.e.Issue(e.ctx, issueReq(s.ID, couponkit.ByID(dave)))
	wantCode(t, err, errcode.PoolEmpty, "issuing from an uploaded series with no Available code left must be PoolEmpty (1110)")
	if n := e.counters(s.ID); n.Issued != 3 {
		t.Errorf("a PoolEmpty refusal must not count as an issue: %d", n.Issued)
	}
	for _, c := range e.seriesCoupons(s.ID) {
		if h := e.history(c.ID); !slices.Equal(kinds(h), []coupon.EventKind{coupon.EventCreated, coupon.EventIssued}) {
			t.Errorf("a pool coupon's history is created then issued: %v", kinds(h))
		}
	}
}

func testIssueNamedCode(t *testing.T, e *env) {
	s := e.createSeries(baseSeries("named", uploadSrc()))
	e.upload(s.ID, "N-1", "N-2")
	r, err := e.e.Issue(e.ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID(alice), Code: " n-2 "})
	if wantOK(t, err, "issuing a named uploaded code, typed in lower case with spaces") && r.Coupon.Code != "N-2" {
		t.Errorf("the named code must be issued: got %s", r.Coupon.Code)
	}
	_, err = e.e.Issue(e.ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID(bob), Code: "N-2"})
	wantCode(t, err, errcode.AlreadyIssued, "a named code already issued cannot be issued again")
	_, err = e.e.Issue(e.ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID(bob), Code: "N-9"})
	wantCode(t, err, errcode.CouponNotFound, "a named code not in the series is not found")
	if n := e.issuedCounts(s.ID, bob); n != [2]int64{1, 0} {
		t.Errorf("refused named issues must not count: %v", n)
	}
}
