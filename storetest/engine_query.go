package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

var queryTests = []test{
	{"CouponDetails", testQueryDetails},
	{"CommonCouponDetails", testQueryCommonDetails},
	{"CustomerCoupons", testQueryCustomerCoupons},
	{"HistoriesInOrder", testQueryHistories},
	{"Counters", testQueryCounters},
	{"GuessOdds", testQueryGuessOdds},
}

var generateTests = []test{
	{"Pool", testGeneratePool},
	{"RunTwiceNoDuplicates", testGenerateTwice},
	{"PoolThenMint", testGenerateThenMint},
	{"ResumeAfterInterruption", testGenerateResume},
	{"WrongSeries", testGenerateWrongSeries},
	{"PastCapacityRefusedWhole", testGenerateRefusedWhole},
	{"SequenceCountsMinted", testSequenceProperty},
}

func testQueryDetails(t *testing.T, e *env) {
	s := e.gen("details", func(s *series.Series) {
		s.Redemption.Repeat = true
		s.Redemption.MaxPerCustomer = 3
		s.Expiry = series.Expiry{Kind: series.DaysFromIssue, N: 0}
	})
	c := e.issue(s.ID, alice)
	r1 := e.redeem(c.Code, alice, "k1")
	e.clk.Advance(time.Minute)
	r2 := e.redeem(c.Code, alice, "k2")
	h := e.hold(c.Code, alice, "k3", time.Hour)
	_, err := e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: r1.Redemption.ID}})
	mustOK(t, err, "Reverse")
	d, err := e.e.Coupon(e.ctx, "", c.Code, couponkit.CustomerRef{})
	if !wantOK(t, err, "coupon details by code") {
		return
	}
	same(t, d.Coupon, e.stored(c.ID), "details hold the stored coupon")
	if d.Now != coupon.Issued {
		t.Errorf("details give the state now: %s", d.Now)
	}
	var got []string
	var statuses []coupon.RedemptionStatus
	for _, r := range d.Uses {
		got = append(got, r.ID)
		statuses = append(statuses, r.Status)
	}
	same(t, got, []string{r1.Redemption.ID, r2.Redemption.ID, h.Redemption.ID}, "details list every redemption and hold of the coupon, ordered by id")
	same(t, statuses, []coupon.RedemptionStatus{coupon.StatusReversed, coupon.StatusRedeemed, coupon.StatusHeld}, "details show each redemption's status")
	e.clk.Advance(14 * time.Hour)
	d, err = e.e.Coupon(e.ctx, s.ID, c.Code, couponkit.ByID(alice))
	if wantOK(t, err, "coupon details with series and customer") && (d.Now != coupon.Expired || d.State != coupon.Issued) {
		t.Errorf("past its expiry a coupon is Expired now though stored Issued: now %s, stored %s", d.Now, d.State)
	}
	_, err = e.e.Coupon(e.ctx, "", "NOSUCH12", couponkit.CustomerRef{})
	wantCode(t, err, errcode.CouponNotFound, "details of an unknown code")
}

func testQueryCommonDetails(t *testing.T, e *env) {
	s := e.createSeries(baseSeries("common", commonSrc("ALL5")))
	e.issue(s.ID, alice)
	b := e.issue(s.ID, bob)
	_, err := e.e.Coupon(e.ctx, s.ID, "ALL5", couponkit.CustomerRef{})
	wantCode(t, err, errcode.GenericNotSupported, "details of a common code need the customer")
	d, err := e.e.Coupon(e.ctx, s.ID, "all5", couponkit.CustomerRef{Mobile: "+4470000002"})
	if wantOK(t, err, "details of a common code for one customer") && d.ID != b.ID {
		t.Errorf("the customer's own coupon of the common code: %s, want %s", d.ID, b.ID)
	}
	_, err = e.e.Coupon(e.ctx, s.ID, "ALL5", couponkit.ByID(carol))
	wantCode(t, err, errcode.CouponNotFound, "a customer never issued the common code has no coupon of it")
}

func testQueryCustomerCoupons(t *testing.T, e *env) {
	s := e.gen("mine")
	other := e.gen("other", func(s *series.Series) { s.Expiry = series.Expiry{Kind: series.DaysFromIssue, N: 0} })
	a := e.issue(s.ID, alice)
	b := e.issue(other.ID, alice)
	e.issue(s.ID, bob)
	r := e.redeem(a.Code, alice, "k")
	e.clk.Advance(time.Hour)
	_, err := e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: r.Redemption.ID}})
	mustOK(t, err, "Reverse")
	reversedAt := e.clk.Now()
	e.clk.Advance(14 * time.Hour)
	all, err := e.e.CustomerCoupons(e.ctx, couponkit.CustomerRef{Email: "alice@example.com"}, "")
	if !wantOK(t, err, "CustomerCoupons") {
		return
	}
	if len(all) != 2 || all[0].ID != a.ID || all[1].ID != b.ID {
		t.Fatalf("a customer's coupons in every series, ordered by id: %+v", all)
	}
	if !all[0].Reversed || !all[0].LastStatusChange.Equal(reversedAt) || all[0].Now != coupon.Issued {
		t.Errorf("a reversed coupon shows Reversed and the time of the reversal as LastStatusChange: %+v", all[0])
	}
	if all[1].Reversed || !all[1].LastStatusChange.Equal(t0) || all[1].Now != coupon.Expired {
		t.Errorf("an untouched coupon past its expiry shows Now Expired and its issue time as LastStatusChange: %+v", all[1])
	}
	one, err := e.e.CustomerCoupons(e.ctx, couponkit.ByID(alice), other.ID)
	if wantOK(t, err, "CustomerCoupons in one series") && (len(one) != 1 || one[0].ID != b.ID) {
		t.Errorf("a series filter keeps that series' coupons: %d", len(one))
	}
	none, err := e.e.CustomerCoupons(e.ctx, couponkit.ByID(dave), "")
	if wantOK(t, err, "CustomerCoupons of a customer with none") && len(none) != 0 {
		t.Errorf("no coupons: %d", len(none))
	}
	_, err = e.e.CustomerCoupons(e.ctx, couponkit.ByID("nobody"), "")
	wantCode(t, err, errcode.UnknownCustomer, "an unknown customer")
}

func testQueryHistories(t *testing.T, e *env) {
	s := e.gen("history", func(s *series.Series) { s.Transferable = true })
	other := e.gen("other")
	c := e.issue(s.ID, alice)
	e.clk.Advance(time.Minute)
	o := e.issue(other.ID, alice)
	e.clk.Advance(time.Minute)
	h := e.hold(c.Code, alice, "cart", time.Hour)
	e.clk.Advance(time.Minute)
	mustOK(t, e.e.Release(e.ctx, couponkit.ReleaseRequest{Hold: couponkit.UseRef{ID: h.Redemption.ID}, Actor: "abandoned"}), "Release")
	e.clk.Advance(time.Minute)
	r := e.redeem(c.Code, alice, "pos")
	e.clk.Advance(time.Minute)
	_, err := e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: r.Redemption.ID}})
	mustOK(t, err, "Reverse")
	e.clk.Advance(time.Minute)
	_, err = e.e.Transfer(e.ctx, couponkit.TransferRequest{Code: c.Code, From: couponkit.ByID(alice), To: couponkit.ByID(bob)})
	mustOK(t, err, "Transfer")
	e.clk.Advance(time.Minute)
	e.redeem(o.Code, alice, "pos")

	hist := e.history(c.ID)
	same(t, kinds(hist), []coupon.EventKind{coupon.EventIssued, coupon.EventHeld, coupon.EventHoldReleased, coupon.EventRedeemed,
		coupon.EventReversed, coupon.EventTransferredOut, coupon.EventTransferReceived}, "a coupon's history lists its events in the order they happened")
	for i := 1; i < len(hist); i++ {
		if hist[i].At.Before(hist[i-1].At) {
			t.Errorf("history times never go back: %v after %v", hist[i].At, hist[i-1].At)
		}
		if hist[i].ID == "" || hist[i].ID == hist[i-1].ID {
			t.Errorf("each event has its own id")
		}
	}
	same(t, kinds(e.customerHistory(alice, "")), []coupon.EventKind{coupon.EventIssued, coupon.EventIssued, coupon.EventHeld, coupon.EventHoldReleased,
		coupon.EventRedeemed, coupon.EventReversed, coupon.EventTransferredOut, coupon.EventRedeemed}, "a customer's history across series, in order")
	same(t, kinds(e.customerHistory(alice, other.ID)), []coupon.EventKind{coupon.EventIssued, coupon.EventRedeemed}, "a customer's history in one series")
	same(t, kinds(e.customerHistory(bob, "")), []coupon.EventKind{coupon.EventTransferReceived}, "the new holder's history starts at the transfer")
}

func testQueryCounters(t *testing.T, e *env) {
	s := e.gen("counters", func(s *series.Series) {
		s.Issuance.MaxTotal = 10
		s.Redemption.MaxPerSeries = 5
	})
	cs := []coupon.Coupon{e.issue(s.ID, alice), e.issue(s.ID, bob), e.issue(s.ID, carol)}
	r := e.redeem(cs[0].Code, alice, "k")
	e.redeem(cs[1].Code, bob, "k")
	e.hold(cs[2].Code, carol, "k", time.Hour)
	_, err := e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: r.Redemption.ID}})
	mustOK(t, err, "Reverse")
	const space = 2821109907456 // 36^8
	same(t, e.counters(s.ID), couponkit.SeriesCounters{Issued: 3, Uses: 2, RemainingIssuable: 7, RemainingUses: 3,
		CodeSpace: space, LiveCodes: 3, GuessOdds: 3.0 / space},
		"3 issued of 10; 2 redeemed, 1 reversed and 1 held of 5 leave 2 uses and 3 remaining; 3 codes made of 36^8")
	u := e.counters(e.gen("unlimited").ID)
	same(t, u, couponkit.SeriesCounters{RemainingIssuable: -1, RemainingUses: -1, CodeSpace: space}, "a series without limits reports -1 remaining")
}

func testGeneratePool(t *testing.T, e *env) {
	s := e.gen("pool")
	var progress []int
	n, err := e.e.Generate(e.ctx, couponkit.GenerateRequest{SeriesID: s.ID, N: 25, Progress: func(done int) { progress = append(progress, done) }})
	if !wantOK(t, err, "Generate 25 codes") {
		return
	}
	if n != 25 || len(progress) == 0 || progress[len(progress)-1] != 25 {
		t.Errorf("Generate reports the codes made and calls progress: n %d, progress %v", n, progress)
	}
	cs := e.seriesCoupons(s.ID)
	if len(cs) != 25 {
		t.Fatalf("25 Available coupons in the pool: %d", len(cs))
	}
	for _, c := range cs {
		if c.State != coupon.Available || c.Holder != "" || len(c.Code) != 8 {
			t.Errorf("a generated pool coupon is Available with an 8-character code: %+v", c)
		}
	}
	if n := e.counters(s.ID); n.Issued != 0 {
		t.Errorf("generating is not issuing: %d", n.Issued)
	}
	// A batch is one change with one event: Created, for the series, no
	// coupon; each coupon's CreatedAt records its own creation.
	evs, err := e.st.Events(e.ctx, store.EventQuery{SeriesID: s.ID})
	mustOK(t, err, "Events")
	created := 0
	for _, ev := range evs {
		if ev.Kind == coupon.EventCreated && ev.CouponID == "" {
			created++
		}
	}
	if want := (25 + couponkit.GenerateBatch - 1) / couponkit.GenerateBatch; created != want {
		t.Errorf("Generate appends one Created event per batch (%d for 25 codes), got %d", want, created)
	}
	c := e.issue(s.ID, alice)
	if h := kinds(e.history(c.ID)); len(h) != 1 || h[0] != coupon.EventIssued || c.CreatedAt.IsZero() {
		t.Errorf("an issue after Generate draws a pool coupon (its history starts at the issue; CreatedAt is set): %v", h)
	}
}

func distinctCodes(t *testing.T, cs []coupon.Coupon) {
	t.Helper()
	seen := make(map[string]bool, len(cs))
	for _, c := range cs {
		if seen[c.Canonical] {
			t.Errorf("code %s appears twice in the series", c.Canonical)
		}
		seen[c.Canonical] = true
	}
}

func testGenerateTwice(t *testing.T, e *env) {
	s := e.gen("twice")
	for range 2 {
		_, err := e.e.Generate(e.ctx, couponkit.GenerateRequest{SeriesID: s.ID, N: 40})
		mustOK(t, err, "Generate")
	}
	cs := e.seriesCoupons(s.ID)
	if len(cs) != 80 {
		t.Errorf("two runs of Generate 40 make 80 codes: %d", len(cs))
	}
	distinctCodes(t, cs)
}

func testGenerateThenMint(t *testing.T, e *env) {
	s := e.gen("mixed")
	_, err := e.e.Generate(e.ctx, couponkit.GenerateRequest{SeriesID: s.ID, N: 3})
	mustOK(t, err, "Generate")
	for _, c := range []string{alice, bob, carol, dave, erin} {
		e.issue(s.ID, c)
	}
	cs := e.seriesCoupons(s.ID)
	if len(cs) != 5 {
		t.Errorf("3 pool coupons issued and 2 minted: %d coupons", len(cs))
	}
	distinctCodes(t, cs)
	for _, c := range cs {
		if c.State != coupon.Issued {
			t.Errorf("every coupon is issued: %+v", c)
		}
	}
}

func testGenerateResume(t *testing.T, e *env) {
	if testing.Short() {
		t.Skip("makes more than one batch of codes")
	}
	s := e.gen("resume")
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	want := couponkit.GenerateBatch + 10
	done, err := e.e.Generate(ctx, couponkit.GenerateRequest{SeriesID: s.ID, N: want, Progress: func(int) { cancel() }})
	if err == nil || done != couponkit.GenerateBatch {
		t.Fatalf("a Generate interrupted after its first batch reports the batch done and the error: done %d, err %v", done, err)
	}
	rest, err := e.e.Generate(e.ctx, couponkit.GenerateRequest{SeriesID: s.ID, N: want - done})
	mustOK(t, err, "Generate the rest")
	if rest != 10 {
		t.Errorf("the resumed run makes the rest: %d", rest)
	}
	cs := e.seriesCoupons(s.ID)
	if len(cs) != want {
		t.Errorf("an interrupted and resumed Generate leaves exactly the codes asked for: %d, want %d", len(cs), want)
	}
	distinctCodes(t, cs)
}

func testGenerateWrongSeries(t *testing.T, e *env) {
	s := e.createSeries(baseSeries("pool", uploadSrc()))
	_, err := e.e.Generate(e.ctx, couponkit.GenerateRequest{SeriesID: s.ID, N: 5})
	wantCode(t, err, errcode.InvalidArgument, "Generate needs a series of generated unique codes")
	g := e.gen("gen")
	_, err = e.e.Generate(e.ctx, couponkit.GenerateRequest{SeriesID: g.ID, N: -1})
	wantCode(t, err, errcode.InvalidArgument, "Generate refuses a negative count")
}
