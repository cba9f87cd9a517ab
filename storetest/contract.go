package storetest

import (
	"testing"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// The store-contract tests drive a store directly, without the engine, for
// what the engine cannot show: that Apply writes all or nothing, that its
// guards and unique keys hold, and that the bulk methods are idempotent.
var contractTests = []test{
	{"RecordsRoundTrip", testContractRoundTrip},
	{"ApplyAtomicOnGuard", testContractAtomicGuard},
	{"ApplyConflicts", testContractConflicts},
	{"ApplyUniqueKeys", testContractUnique},
	{"ApplyWritesEachRecordOnce", testContractWrittenTwice},
	{"ApplyRefusesRecordsWrittenTwice", testPropertyWrittenTwice},
	{"IssueKeys", testContractIssueKeys},
	{"ApplyGuards", testContractGuards},
	{"ApplyBumpsByTheRule", testPropertyBumps},
	{"InsertCouponsIdempotent", testContractInsert},
	{"UpdateWhereLimit", testContractUpdateWhere},
	{"NotFoundAndEmpty", testContractNotFound},
	{"ReadsReturnCopies", testContractCopies},
	{"ListCoupons", testContractListCoupons},
	{"QueriesMatchTheirRule", testPropertyQueriesMatch},
	{"ListRedemptions", testContractListRedemptions},
	{"Events", testContractEvents},
	{"Sequence", testContractSequence},
	{"Rewind", testContractRewind},
	{"RedemptionsByCustomer", testContractRedemptionsByCustomer},
	{"AppendCouponsByCode", testContractAppendByCode},
	{"ListSeries", testContractListSeries},
	{"SeriesVersion", testContractSeriesVersion},
	{"ReadCode", testContractReadCode},
	{"Audience", testContractAudience},
	{"AudienceApply", testContractAudienceApply},
	{"AudienceApplyRefusals", testContractAudienceRefusals},
	{"AudienceApplyManyRows", testContractAudienceMany},
	{"AudienceList", testContractAudienceList},
	{"ConcurrentGuardedBumps", testContractConcurrentBumps},
	{"ContextDone", testContractCancelled},
}

// contractRaces race goroutines straight at the store's guards, round
// after round.
var contractRaces = []race{
	{"StoreGuard", raceStoreGuard},
}

// rawSeries is a valid series with a fixed id, for the contract tests.
func rawSeries(id string) series.Series {
	s := baseSeries("raw "+id, uploadSrc())
	s.ID, s.Status, s.Version, s.CreatedAt, s.UpdatedAt = id, series.Active, 1, t0, t0
	return s
}

// rawCoupon returns an Available coupon (version 1) and its Created event.
func rawCoupon(id, seriesID, code string) (coupon.Coupon, coupon.Event) {
	c, ev, err := coupon.New(coupon.NewParams{ID: id, SeriesID: seriesID, Code: code, Canonical: code, Actor: "test"}, t0)
	if err != nil {
		panic(err)
	}
	ev.ID = "ev-created-" + id
	return c, ev
}

// rawIssued returns an Issued coupon (version 2) held by holder.
func rawIssued(id, seriesID, code, holder string) coupon.Coupon {
	c, _ := rawCoupon(id, seriesID, code)
	out, _, err := coupon.Issue(c, holder, t0, time.Time{}, "test")
	if err != nil {
		panic(err)
	}
	return out
}

func rawEvent(id string, kind coupon.EventKind, c coupon.Coupon, customer string, at time.Time) coupon.Event {
	return coupon.Event{ID: id, Kind: kind, CouponID: c.ID, SeriesID: c.SeriesID, Code: c.Code, Customer: customer, At: at}
}

func key(c limits.Counter, seriesID, code, customer string) store.CounterKey {
	return store.CounterKey{Counter: c, Series: seriesID, Code: code, Customer: customer}
}

// putRawSeries stores raw series with the given ids, so that a store with
// foreign keys accepts records that refer to them.
func (e *env) putRawSeries(ids ...string) {
	e.t.Helper()
	for _, id := range ids {
		e.apply(&store.Change{Series: &store.SeriesWrite{Series: rawSeries(id)}})
	}
}

func (e *env) apply(c *store.Change) {
	e.t.Helper()
	if err := e.st.Apply(e.ctx, c); err != nil {
		e.t.Fatalf("setup: Apply: %v", err)
	}
}

func (e *env) count(k store.CounterKey) store.Count {
	e.t.Helper()
	out := make([]store.Count, 1)
	if err := e.st.Counters(e.ctx, []store.CounterKey{k}, out); err != nil {
		e.t.Fatalf("Counters: %v", err)
	}
	return out[0]
}

func (e *env) events(q store.EventQuery) []coupon.Event {
	e.t.Helper()
	evs, err := e.st.Events(e.ctx, q)
	if err != nil {
		e.t.Fatalf("Events: %v", err)
	}
	return evs
}

func testContractRoundTrip(t *testing.T, e *env) {
	s := fullSeries()
	s.ID, s.Status, s.Version, s.CreatedAt, s.UpdatedAt = "full", series.Paused, 1, t0, t0
	c := coupon.Coupon{
		ID: "c-full", SeriesID: "full", Code: "x-AbC123-y", Canonical: "X-ABC123-Y", Shared: false, State: coupon.Issued, Holder: alice,
		CreatedAt: t0.Add(-time.Hour), IssuedAt: t0, ExpiresAt: t0.Add(72 * time.Hour), Redemptions: 2, Holds: 1, Reversed: true,
		LastStatusChange: t0.Add(time.Minute), ReissuedFrom: "c-old", Version: 7, IssueKey: "crm-message-1",
	}
	old := coupon.Coupon{ID: "c-old", SeriesID: "full", Code: "OLD", Canonical: "OLD", State: coupon.Expired, CreatedAt: t0,
		ExpiresAt: t0, LastStatusChange: t0, ReissuedTo: "c-full", Version: 3}
	shared := coupon.Coupon{ID: "c-shared", SeriesID: "full", Code: "Common", Canonical: "COMMON", Shared: true, State: coupon.Issued,
		Holder: bob, CreatedAt: t0, IssuedAt: t0, LastStatusChange: t0, Version: 2}
	r := coupon.Redemption{ID: "r-full", CouponID: "c-full", SeriesID: "full", Customer: bob, IdempotencyKey: "pos-1", Status: coupon.StatusReversed,
		At: t0, HoldExpiresAt: t0.Add(15 * time.Minute), ConfirmedAt: t0.Add(time.Minute),
		ReversedAt: t0.Add(3 * time.Minute), Location: coupon.Location{Till: "t", Store: "s", Zone: "z", Concept: "c"},
		Bill: dec("123.456"), Discount: dec("0.10"), Currency: "USD",
		Lines: "0123456789abcdef0123456789abcdef", Reduced: true, Budget: 9,
		Parts: []coupon.Part{{Line: "1", Quantity: 2, Base: 6000, Discount: 7}, {Line: "ligne-é", Quantity: 1, Base: 1, Discount: 1}}}
	released := coupon.Redemption{ID: "r-rel", CouponID: "c-full", SeriesID: "full", Customer: alice, IdempotencyKey: "pos-2", Status: coupon.StatusReleased,
		At: t0, HoldExpiresAt: t0.Add(15 * time.Minute), ReleasedAt: t0.Add(2 * time.Minute), Bill: dec("0"), Discount: dec("0"), Currency: "EUR"}
	ev := coupon.Event{ID: "e-full", Kind: coupon.EventReissued, CouponID: "c-old", SeriesID: "full", Code: "OLD", Customer: alice,
		Actor: "support", At: t0, Reason: "lost", Counterparty: bob, RedemptionID: "r-full", OldCode: "OLD", NewCode: "x-AbC123-y",
		NewCouponID: "c-full", Notify: true}
	e.apply(&store.Change{Series: &store.SeriesWrite{Series: s}, NewCoupons: []coupon.Coupon{c, old, shared},
		NewRedemptions: []coupon.Redemption{r, released}, Events: []coupon.Event{ev}})

	gs, err := e.st.Series(e.ctx, "full")
	mustOK(t, err, "Series")
	same(t, gs, s, "a stored series reads back with every field")
	for _, want := range []coupon.Coupon{c, old, shared} {
		got, err := e.st.Coupon(e.ctx, want.ID)
		mustOK(t, err, "Coupon")
		same(t, got, want, "a stored coupon reads back with every field (%s)", want.ID)
	}
	gr, err := e.st.Redemption(e.ctx, "r-full")
	mustOK(t, err, "Redemption")
	same(t, gr, r, "a stored redemption reads back with every field, decimals and location included")
	gr, err = e.st.Redemption(e.ctx, "r-rel")
	mustOK(t, err, "Redemption")
	same(t, gr, released, "a stored released hold reads back with every field")
	evs := e.events(store.EventQuery{CouponID: "c-old"})
	same(t, evs, []coupon.Event{ev}, "a stored event reads back with every field")
	byCode, err := e.st.CouponsByCode(e.ctx, "", "X-ABC123-Y")
	mustOK(t, err, "CouponsByCode")
	same(t, byCode, []coupon.Coupon{c}, "coupons are found by canonical code")
	none, err := e.st.CouponsByCode(e.ctx, "", "x-AbC123-y")
	mustOK(t, err, "CouponsByCode")
	if len(none) != 0 {
		t.Errorf("a store never case-folds: the code as created is not the canonical code: %d found", len(none))
	}
}

func testContractNotFound(t *testing.T, e *env) {
	_, err := e.st.Series(e.ctx, "none")
	wantCode(t, err, errcode.NotFound, "Series of an unknown id")
	_, err = e.st.Coupon(e.ctx, "none")
	wantCode(t, err, errcode.NotFound, "Coupon of an unknown id")
	_, err = e.st.Redemption(e.ctx, "none")
	wantCode(t, err, errcode.NotFound, "Redemption of an unknown id")
	_, err = e.st.RedemptionByKey(e.ctx, "none", "k")
	wantCode(t, err, errcode.NotFound, "RedemptionByKey of an unknown key")
	ss, err := e.st.ListSeries(e.ctx, store.SeriesQuery{})
	if wantOK(t, err, "ListSeries on an empty store") && len(ss) != 0 {
		t.Errorf("no series")
	}
	cs, err := e.st.ListCoupons(e.ctx, store.CouponQuery{})
	if wantOK(t, err, "ListCoupons on an empty store") && len(cs) != 0 {
		t.Errorf("no coupons")
	}
	cs, err = e.st.CouponsByCode(e.ctx, "", "NONE")
	if wantOK(t, err, "CouponsByCode of an unknown code is an empty list, not an error") && len(cs) != 0 {
		t.Errorf("no coupons")
	}
	rs, err := e.st.ListRedemptions(e.ctx, store.RedemptionQuery{SeriesID: "none"})
	if wantOK(t, err, "ListRedemptions on an empty store") && len(rs) != 0 {
		t.Errorf("no redemptions")
	}
	evs, err := e.st.Events(e.ctx, store.EventQuery{Customer: "none"})
	if wantOK(t, err, "Events on an empty store") && len(evs) != 0 {
		t.Errorf("no events")
	}
	out, err := e.st.UpdateWhere(e.ctx, store.CouponFilter{}, store.BulkUpdate{To: coupon.Revoked, At: t0})
	if wantOK(t, err, "UpdateWhere on an empty store") && len(out) != 0 {
		t.Errorf("nothing updated")
	}
}

func testContractCopies(t *testing.T, e *env) {
	e.putRawSeries("s1")
	x := rawIssued("x", "s1", "X", alice)
	r := coupon.Redemption{ID: "r1", CouponID: "x", SeriesID: "s1", Customer: alice, IdempotencyKey: "k", Status: coupon.StatusRedeemed, At: t0}
	e.apply(&store.Change{NewCoupons: []coupon.Coupon{x}, NewRedemptions: []coupon.Redemption{r}})
	got := e.stored("x")
	got.Holder = "mallory"
	list, _ := e.st.ListCoupons(e.ctx, store.CouponQuery{})
	list[0].State = coupon.Revoked
	byCode, _ := e.st.CouponsByCode(e.ctx, "", "X")
	byCode[0].Redemptions = 9
	rr := e.storedRedemption("r1")
	rr.Status = coupon.StatusReversed
	same(t, e.stored("x"), x, "changing a coupon a read returned must not change the stored one")
	same(t, e.storedRedemption("r1"), r, "changing a redemption a read returned must not change the stored one")
	// Nor does changing what was passed to Apply after it returns.
	y := rawIssued("y", "s1", "Y", bob)
	ch := &store.Change{NewCoupons: []coupon.Coupon{y}}
	e.apply(ch)
	ch.NewCoupons[0].Holder = "mallory"
	same(t, e.stored("y"), y, "changing a change after Apply returned must not change the stored coupon")
}
