package storetest

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
)

var revokeTests = []test{
	{"ByCodesPartialSuccess", testRevokeCodes},
	{"SingleCodeWithoutSeries", testRevokeSingle},
	{"TooManyCodes", testRevokeTooMany},
	{"SeveralCodesNeedSeries", testRevokeNeedSeries},
	{"GenericSingleCode108", testRevokeGeneric},
	{"CodeOfAnotherSeries404", testRevokeOtherSeries},
	{"SeriesExpired712", testRevokeExpiredSeries},
	{"NothingToRevoke756", testRevokeNothing},
	{"ByCustomer", testRevokeCustomer},
	{"ByCustomerTooMany", testRevokeCustomerTooMany},
	{"AllUnredeemed", testRevokeAllUnredeemed},
	{"OnlyUnissued", testRevokeOnlyUnissued},
	{"CodeCase", testRevokeCodeCase},
	{"HeldCoupon", testRevokeHeld},
	{"SeriesWideListsCoupons", testRevokeSeriesLists},
	{"SeriesWideStreams", testRevokeSeriesStreams},
	{"SeriesWideStreamStops", testRevokeSeriesStreamStops},
	{"StreamOnlySeriesWide", testRevokeStreamNeedsScope},
}

// failures flattens a revoke result's failures to code -> codes.
func failures(r couponkit.RevokeResult) map[errcode.Code][]string {
	out := map[errcode.Code][]string{}
	for _, f := range r.Failed {
		out[f.Code] = append(out[f.Code], f.Codes...)
	}
	return out
}

func testRevokeCodes(t *testing.T, e *env) {
	s := e.gen("revoke")
	a, b := e.issue(s.ID, alice), e.issue(s.ID, bob)
	e.redeem(b.Code, bob, "k")
	e.clk.Advance(time.Minute)
	res, err := e.e.Revoke(e.ctx, couponkit.RevokeRequest{SeriesID: s.ID, Codes: []string{a.Code, b.Code, "NOSUCH12"}, Actor: "ops", Reason: "fraud"})
	if !wantOK(t, err, "revoking three codes with the series") {
		return
	}
	if res.Total != 3 || res.RevokedCount != 1 || res.FailedCount() != 2 {
		t.Errorf("revoke result: total 3, revoked 1, failed 2; got %d, %d, %d", res.Total, res.RevokedCount, res.FailedCount())
	}
	same(t, res.Revoked, []couponkit.RevokedCoupon{{CouponID: a.ID, Code: a.Code, Holder: alice}}, "the revoked coupon is reported with id, code and holder")
	same(t, failures(res), map[errcode.Code][]string{errcode.Redeemed: {b.Code}, errcode.CouponNotFound: {"NOSUCH12"}},
		"failures are grouped by reason: a redeemed code is 405, an unknown code 682")
	got := e.stored(a.ID)
	if got.State != coupon.Revoked || got.Holder != alice || !got.LastStatusChange.Equal(e.clk.Now()) || got.Version != a.Version+1 {
		t.Errorf("a revoked coupon is Revoked, keeps its holder, with LastStatusChange now and version+1: %+v", got)
	}
	evs := e.history(a.ID)
	if last := evs[len(evs)-1]; last.Kind != coupon.EventRevoked || last.Actor != "ops" || last.Reason != "fraud" || last.Customer != alice {
		t.Errorf("revoking appends a Revoked event with actor and reason for the holder: %+v", last)
	}
	if got := e.stored(b.ID); got.State != coupon.Redeemed {
		t.Errorf("a redeemed coupon is not revoked: %s", got.State)
	}
	res, err = e.e.Revoke(e.ctx, couponkit.RevokeRequest{SeriesID: s.ID, Codes: []string{a.Code}})
	if wantOK(t, err, "revoking an already revoked code") {
		same(t, failures(res), map[errcode.Code][]string{errcode.CouponNotFound: {a.Code}}, "an already revoked code reports as not found (682)")
	}
	_, err = e.e.Issue(e.ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID(alice), Code: a.Code})
	if err == nil {
		t.Errorf("a revoked coupon cannot be issued")
	}
}

func testRevokeSingle(t *testing.T, e *env) {
	s := e.gen("single")
	a := e.issue(s.ID, alice)
	res, err := e.e.Revoke(e.ctx, couponkit.RevokeRequest{Codes: []string{a.Code}})
	if wantOK(t, err, "a single code may be revoked without naming the series") && res.RevokedCount != 1 {
		t.Errorf("the single code is revoked: %+v", res)
	}
	res, err = e.e.Revoke(e.ctx, couponkit.RevokeRequest{Codes: []string{"NOSUCH99"}})
	if wantOK(t, err, "revoking an unknown single code") {
		same(t, failures(res), map[errcode.Code][]string{errcode.CouponNotFound: {"NOSUCH99"}}, "an unknown single code is 682")
	}
}

func testRevokeTooMany(t *testing.T, e *env) {
	s := e.gen("too many")
	a := e.issue(s.ID, alice)
	codes := []string{a.Code}
	for i := range couponkit.MaxRevokeCodes {
		codes = append(codes, fmt.Sprintf("NOPE%04d", i))
	}
	_, err := e.e.Revoke(e.ctx, couponkit.RevokeRequest{SeriesID: s.ID, Codes: codes})
	wantCode(t, err, errcode.TooMany, "a revoke request with 51 codes (at most 50 per request) must be refused")
	if got := e.stored(a.ID); got.State != coupon.Issued {
		t.Errorf("a refused revoke request revokes nothing: %s", got.State)
	}
	_, err = e.e.Revoke(e.ctx, couponkit.RevokeRequest{SeriesID: s.ID, Codes: codes[:50]})
	wantOK(t, err, "50 codes are allowed")
}

func testRevokeNeedSeries(t *testing.T, e *env) {
	s := e.gen("need series")
	a, b := e.issue(s.ID, alice), e.issue(s.ID, bob)
	_, err := e.e.Revoke(e.ctx, couponkit.RevokeRequest{Codes: []string{a.Code, b.Code}})
	wantCode(t, err, errcode.InvalidArgument, "revoking more than one code needs the series")
	_, err = e.e.Revoke(e.ctx, couponkit.RevokeRequest{Customer: couponkit.ByID(alice)})
	wantCode(t, err, errcode.InvalidArgument, "revoking by customer needs the series")
	if got := e.stored(a.ID); got.State != coupon.Issued {
		t.Errorf("a refused request revokes nothing: %s", got.State)
	}
}

func testRevokeGeneric(t *testing.T, e *env) {
	s := e.createSeries(baseSeries("generic", commonSrc("GEN10")))
	a := e.issue(s.ID, alice)
	b := e.issue(s.ID, bob)
	_, err := e.e.Revoke(e.ctx, couponkit.RevokeRequest{Codes: []string{"GEN10"}})
	wantCode(t, err, errcode.GenericNotSupported, "a single common (generic) code cannot be revoked without a customer (108)")
	_, err = e.e.Revoke(e.ctx, couponkit.RevokeRequest{SeriesID: s.ID, Codes: []string{"gen10"}})
	wantCode(t, err, errcode.GenericNotSupported, "a single common code cannot be revoked with only the series either (108)")
	res, err := e.e.Revoke(e.ctx, couponkit.RevokeRequest{SeriesID: s.ID, Codes: []string{"GEN10"}, Customer: couponkit.CustomerRef{Email: "alice@example.com"}})
	if wantOK(t, err, "a common code with its customer revokes that customer's coupon") {
		same(t, res.Revoked, []couponkit.RevokedCoupon{{CouponID: a.ID, Code: "GEN10", Holder: alice}}, "only the customer's coupon of the common code is revoked")
	}
	if got := e.stored(b.ID); got.State != coupon.Issued {
		t.Errorf("another customer's coupon of the common code is untouched: %s", got.State)
	}
}

func testRevokeOtherSeries(t *testing.T, e *env) {
	a := e.createSeries(baseSeries("a", uploadSrc()))
	b := e.createSeries(baseSeries("b", uploadSrc()))
	e.upload(a.ID, "ONLY-A")
	e.upload(b.ID, "ONLY-B")
	res, err := e.e.Revoke(e.ctx, couponkit.RevokeRequest{SeriesID: b.ID, Codes: []string{"ONLY-A", "ONLY-B", "NOWHERE"}})
	if !wantOK(t, err, "revoking codes in series b") {
		return
	}
	same(t, failures(res), map[errcode.Code][]string{errcode.NotFound: {"ONLY-A"}, errcode.CouponNotFound: {"NOWHERE"}},
		"a code that exists only in another series is 404; a code nowhere is 682")
	if res.RevokedCount != 1 {
		t.Errorf("the code of series b is revoked: %+v", res)
	}
	if cs := e.seriesCoupons(a.ID); cs[0].State != coupon.Available {
		t.Errorf("the other series' code is untouched: %s", cs[0].State)
	}
}

func testRevokeExpiredSeries(t *testing.T, e *env) {
	s := e.gen("ended")
	c := e.issue(s.ID, alice)
	_, err := e.e.SetSeriesStatus(e.ctx, s.ID, series.Ended)
	mustOK(t, err, "end the series")
	_, err = e.e.Revoke(e.ctx, couponkit.RevokeRequest{SeriesID: s.ID, Codes: []string{c.Code}})
	wantCode(t, err, errcode.SeriesExpired, "revoking in an ended series is 712")
	p := e.gen("past end", func(s *series.Series) { s.End = t0.Add(time.Hour) })
	e.issue(p.ID, alice)
	e.clk.Advance(time.Hour)
	_, err = e.e.Revoke(e.ctx, couponkit.RevokeRequest{SeriesID: p.ID, Customer: couponkit.ByID(alice)})
	wantCode(t, err, errcode.SeriesExpired, "revoking in a series past its end is 712")
}

func testRevokeNothing(t *testing.T, e *env) {
	s := e.gen("nothing")
	_, err := e.e.Revoke(e.ctx, couponkit.RevokeRequest{SeriesID: s.ID})
	wantCode(t, err, errcode.NothingToRevoke, "a revoke request with neither codes, customer nor scope is 756")
}

func testRevokeCustomer(t *testing.T, e *env) {
	s := e.gen("customer")
	other := e.gen("other")
	c1, c2, c3 := e.issue(s.ID, alice), e.issue(s.ID, alice), e.issue(s.ID, alice)
	cb := e.issue(s.ID, bob)
	co := e.issue(other.ID, alice)
	e.redeem(c2.Code, alice, "k")
	h := e.hold(c3.Code, alice, "cart", time.Hour)
	_ = h
	res, err := e.e.Revoke(e.ctx, couponkit.RevokeRequest{SeriesID: s.ID, Customer: couponkit.CustomerRef{Mobile: "+4470000001"}})
	if !wantOK(t, err, "revoking a customer's coupons by mobile") {
		return
	}
	same(t, res.Revoked, []couponkit.RevokedCoupon{{CouponID: c1.ID, Code: c1.Code, Holder: alice}},
		"revoking by customer takes every unredeemed coupon of the customer in the series: not the redeemed one, not the held one")
	if res.Total != 1 || res.RevokedCount != 1 {
		t.Errorf("result counts: %+v", res)
	}
	for _, x := range []struct {
		id   string
		want coupon.State
	}{{c2.ID, coupon.Redeemed}, {c3.ID, coupon.Issued}, {cb.ID, coupon.Issued}, {co.ID, coupon.Issued}} {
		if got := e.stored(x.id); got.State != x.want {
			t.Errorf("coupon %s (another customer's, another series', redeemed or held) must stay %s: %s", x.id, x.want, got.State)
		}
	}
	if evs := e.history(c1.ID); evs[len(evs)-1].Kind != coupon.EventRevoked {
		t.Errorf("a coupon revoked by customer gets a Revoked event: %v", kinds(evs))
	}
}

func testRevokeCustomerTooMany(t *testing.T, e *env) {
	s := e.gen("hoarder")
	for range couponkit.MaxRevokeByCustomer + 1 {
		e.issue(s.ID, alice)
	}
	_, err := e.e.Revoke(e.ctx, couponkit.RevokeRequest{SeriesID: s.ID, Customer: couponkit.ByID(alice)})
	wantCode(t, err, errcode.TooMany, "a customer with 101 unredeemed coupons in the series cannot be revoked in one request (at most 100)")
	for _, c := range e.seriesCoupons(s.ID) {
		if c.State != coupon.Issued {
			t.Fatalf("a refused revoke by customer revokes nothing: %s is %s", c.ID, c.State)
		}
	}
	e.redeem(e.seriesCoupons(s.ID)[0].Code, alice, "k")
	res, err := e.e.Revoke(e.ctx, couponkit.RevokeRequest{SeriesID: s.ID, Customer: couponkit.ByID(alice)})
	if wantOK(t, err, "with one coupon redeemed, 100 remain: allowed") && res.RevokedCount != 100 {
		t.Errorf("100 coupons revoked: %d", res.RevokedCount)
	}
}

func testRevokeAllUnredeemed(t *testing.T, e *env) {
	s := e.createSeries(baseSeries("pool", uploadSrc()))
	e.upload(s.ID, "A-1", "A-2", "A-3", "A-4")
	x, y := e.issue(s.ID, alice), e.issue(s.ID, bob)
	e.redeem(y.Code, bob, "k")
	res, err := e.e.Revoke(e.ctx, couponkit.RevokeRequest{SeriesID: s.ID, Scope: couponkit.AllUnredeemed})
	if !wantOK(t, err, "revoking every unredeemed coupon of a series") {
		return
	}
	if res.RevokedCount != 3 {
		t.Errorf("all-unredeemed takes the two available and the one issued unredeemed coupon: %d", res.RevokedCount)
	}
	for _, c := range e.seriesCoupons(s.ID) {
		want := coupon.Revoked
		if c.ID == y.ID {
			want = coupon.Redeemed
		}
		if c.State != want {
			t.Errorf("coupon %s: %s, want %s", c.Code, c.State, want)
		}
	}
	if got := e.stored(x.ID); got.Holder != alice {
		t.Errorf("a revoked issued coupon keeps its holder for audit")
	}
	res, err = e.e.Revoke(e.ctx, couponkit.RevokeRequest{SeriesID: s.ID, Scope: couponkit.AllUnredeemed})
	if wantOK(t, err, "again") && res.RevokedCount != 0 {
		t.Errorf("a second series-wide revocation finds nothing: %d", res.RevokedCount)
	}
}

func testRevokeOnlyUnissued(t *testing.T, e *env) {
	s := e.createSeries(baseSeries("pool", uploadSrc()))
	e.upload(s.ID, "U-1", "U-2", "U-3")
	x := e.issue(s.ID, alice)
	res, err := e.e.Revoke(e.ctx, couponkit.RevokeRequest{SeriesID: s.ID, Scope: couponkit.OnlyUnissued})
	if wantOK(t, err, "revoking only unissued coupons") && res.RevokedCount != 2 {
		t.Errorf("only the two Available coupons are revoked: %d", res.RevokedCount)
	}
	if got := e.stored(x.ID); got.State != coupon.Issued {
		t.Errorf("the issued coupon is untouched: %s", got.State)
	}
	_, err = e.e.Issue(e.ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID(bob)})
	wantCode(t, err, errcode.PoolEmpty, "revoked pool codes cannot be issued: the pool is empty")
}

func testRevokeCodeCase(t *testing.T, e *env) {
	for _, tc := range []struct {
		cc   couponkit.CodeCase
		want string
		miss string
	}{
		{couponkit.Upper, "MIXED-AB", "GONE-X"},
		{couponkit.Lower, "mixed-ab", "gone-x"},
		{couponkit.AsCreated, "MiXed-Ab", "gOne-x"},
	} {
		s := e.createSeries(baseSeries("case", uploadSrc()))
		e.upload(s.ID, "MiXed-Ab")
		res, err := e.e.Revoke(e.ctx, couponkit.RevokeRequest{SeriesID: s.ID, Codes: []string{"mixed-AB", "gOne-x"}, CodeCase: tc.cc})
		if !wantOK(t, err, "revoke with code case %d", tc.cc) {
			continue
		}
		if len(res.Revoked) != 1 || res.Revoked[0].Code != tc.want {
			t.Errorf("codes are compared case-insensitively and returned in the asked case (%d): revoked %+v, want code %q", tc.cc, res.Revoked, tc.want)
		}
		same(t, failures(res), map[errcode.Code][]string{errcode.CouponNotFound: {tc.miss}}, "failed codes are returned in the asked case (%d)", tc.cc)
	}
}

func testRevokeHeld(t *testing.T, e *env) {
	s := e.gen("held")
	c := e.issue(s.ID, alice)
	e.hold(c.Code, alice, "cart", 10*time.Minute)
	res, err := e.e.Revoke(e.ctx, couponkit.RevokeRequest{Codes: []string{c.Code}})
	if wantOK(t, err, "revoke a held coupon") {
		same(t, failures(res), map[errcode.Code][]string{errcode.Redeemed: {c.Code}}, "a coupon with a live hold cannot be revoked (405)")
	}
	e.clk.Advance(10 * time.Minute)
	res, err = e.e.Revoke(e.ctx, couponkit.RevokeRequest{Codes: []string{c.Code}})
	if wantOK(t, err, "revoke after the hold lapsed") && res.RevokedCount != 1 {
		t.Errorf("a coupon whose only hold lapsed is revoked, the hold released first: %+v", res)
	}
	got := e.stored(c.ID)
	if got.State != coupon.Revoked || got.Holds != 0 {
		t.Errorf("revoked with no hold left: %+v", got)
	}
	e.wantUses(t, s.ID, c.Canonical, alice, [4]int64{}, "the lapsed hold's uses were given back")
	hist := kinds(e.history(c.ID))
	if !slices.Equal(hist, []coupon.EventKind{coupon.EventIssued, coupon.EventHeld, coupon.EventHoldReleased, coupon.EventRevoked}) {
		t.Errorf("history: %v", hist)
	}
}

// revokedOf is how a revoke result lists coupon c, its code in case cc.
func revokedOf(c coupon.Coupon, cc couponkit.CodeCase) couponkit.RevokedCoupon {
	return couponkit.RevokedCoupon{CouponID: c.ID, Code: cc.Apply(c.Code), Holder: c.Holder}
}

func byCouponID(a, b couponkit.RevokedCoupon) int { return cmp.Compare(a.CouponID, b.CouponID) }

func testRevokeSeriesLists(t *testing.T, e *env) {
	s := e.createSeries(baseSeries("pool", uploadSrc()))
	e.upload(s.ID, "Pool-1", "Pool-2", "Pool-3", "Pool-4")
	x, y := e.issue(s.ID, alice), e.issue(s.ID, bob)
	e.redeem(y.Code, bob, "k")
	var avail []coupon.Coupon
	for _, c := range e.seriesCoupons(s.ID) {
		if c.State == coupon.Available {
			avail = append(avail, c)
		}
	}
	res, err := e.e.Revoke(e.ctx, couponkit.RevokeRequest{SeriesID: s.ID, Scope: couponkit.OnlyUnissued, CodeCase: couponkit.Lower})
	if wantOK(t, err, "revoking only unissued coupons") {
		var want []couponkit.RevokedCoupon
		for _, c := range avail {
			want = append(want, revokedOf(c, couponkit.Lower))
		}
		same(t, res.Revoked, want, "a series-wide revocation lists the coupons revoked (id, code in the asked case, no holder for unissued ones), by id")
		if res.Total != len(want) || res.RevokedCount != len(want) {
			t.Errorf("total and revoked count are the coupons listed: %d, %d; want %d", res.Total, res.RevokedCount, len(want))
		}
	}
	res, err = e.e.Revoke(e.ctx, couponkit.RevokeRequest{SeriesID: s.ID, Scope: couponkit.AllUnredeemed})
	if wantOK(t, err, "revoking every unredeemed coupon") {
		same(t, res.Revoked, []couponkit.RevokedCoupon{revokedOf(x, couponkit.Upper)},
			"all-unredeemed lists the issued coupon with its holder; the redeemed one and those already revoked are not listed")
	}
}

// seriesOfMany makes a generated series with more coupons than a
// series-wide revocation updates in one batch (1000), one of them issued.
func (e *env) seriesOfMany(n int) (series.Series, coupon.Coupon) {
	e.t.Helper()
	s := e.gen("many")
	if _, err := e.e.Generate(e.ctx, couponkit.GenerateRequest{SeriesID: s.ID, N: n}); err != nil {
		e.t.Fatalf("setup: Generate: %v", err)
	}
	return s, e.issue(s.ID, alice)
}

func testRevokeSeriesStreams(t *testing.T, e *env) {
	const n = 1001
	s, issued := e.seriesOfMany(n)
	var batches [][]couponkit.RevokedCoupon
	res, err := e.e.Revoke(e.ctx, couponkit.RevokeRequest{SeriesID: s.ID, Scope: couponkit.AllUnredeemed,
		OnRevoked: func(b []couponkit.RevokedCoupon) error {
			batches = append(batches, slices.Clone(b))
			return nil
		}})
	if !wantOK(t, err, "a streamed series-wide revocation") {
		return
	}
	if len(res.Revoked) != 0 || res.RevokedCount != n || res.Total != n {
		t.Errorf("with OnRevoked the result counts (%d revoked, total %d; want %d) and lists nothing (%d listed)", res.RevokedCount, res.Total, n, len(res.Revoked))
	}
	if len(batches) < 2 {
		t.Errorf("the coupons are streamed batch by batch: %d batches for %d coupons", len(batches), n)
	}
	var got []couponkit.RevokedCoupon
	for i, b := range batches {
		if len(b) == 0 {
			t.Errorf("batch %d is empty: OnRevoked is called only with coupons", i)
		}
		got = append(got, b...)
	}
	slices.SortFunc(got, byCouponID)
	var want []couponkit.RevokedCoupon
	for _, c := range e.seriesCoupons(s.ID) {
		if c.State != coupon.Revoked {
			t.Fatalf("coupon %s is %s after the revocation", c.ID, c.State)
		}
		want = append(want, couponkit.RevokedCoupon{CouponID: c.ID, Code: c.Code, Holder: c.Holder})
	}
	same(t, got, want, "the batches hold every coupon revoked, each once, with its holder")
	if !slices.ContainsFunc(got, func(r couponkit.RevokedCoupon) bool { return r.CouponID == issued.ID && r.Holder == alice }) {
		t.Errorf("the issued coupon is streamed with its holder")
	}
}

func testRevokeSeriesStreamStops(t *testing.T, e *env) {
	const n = 1001
	s, _ := e.seriesOfMany(n)
	stop := errors.New("the consumer is full")
	first := 0
	res, err := e.e.Revoke(e.ctx, couponkit.RevokeRequest{SeriesID: s.ID, Scope: couponkit.AllUnredeemed,
		OnRevoked: func(b []couponkit.RevokedCoupon) error {
			first = len(b)
			return stop
		}})
	if !errors.Is(err, stop) {
		t.Fatalf("an OnRevoked error stops the revocation and is returned wrapped: %v", err)
	}
	if !strings.Contains(err.Error(), strconv.Itoa(first)+" coupons were revoked") {
		t.Errorf("the error says how many coupons were revoked (%d): %v", first, err)
	}
	if res.RevokedCount != first || first == 0 || first >= n {
		t.Errorf("the result counts the %d coupons of the batch committed before the callback failed: %d", first, res.RevokedCount)
	}
	revoked := 0
	for _, c := range e.seriesCoupons(s.ID) {
		if c.State == coupon.Revoked {
			revoked++
		}
	}
	if revoked != first {
		t.Errorf("the batches after the failed callback are not revoked: %d revoked in the store, want %d", revoked, first)
	}
	res, err = e.e.Revoke(e.ctx, couponkit.RevokeRequest{SeriesID: s.ID, Scope: couponkit.AllUnredeemed})
	if wantOK(t, err, "running the revocation again") && res.RevokedCount != n-first {
		t.Errorf("running it again revokes the rest: %d, want %d", res.RevokedCount, n-first)
	}
}

func testRevokeStreamNeedsScope(t *testing.T, e *env) {
	s := e.gen("stream")
	c := e.issue(s.ID, alice)
	called := false
	on := func([]couponkit.RevokedCoupon) error { called = true; return nil }
	for _, req := range []couponkit.RevokeRequest{
		{SeriesID: s.ID, Codes: []string{c.Code}, OnRevoked: on},
		{SeriesID: s.ID, Customer: couponkit.ByID(alice), OnRevoked: on},
	} {
		_, err := e.e.Revoke(e.ctx, req)
		wantCode(t, err, errcode.InvalidArgument, "OnRevoked with codes or a customer (it streams series-wide revocations only)")
	}
	if got := e.stored(c.ID); got.State != coupon.Issued || called {
		t.Errorf("a refused request revokes nothing and calls nothing: %s, called %v", got.State, called)
	}
}
