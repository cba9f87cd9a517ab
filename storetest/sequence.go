package storetest

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// nextIndex reads the next index of a series' code sequence.
func (e *env) nextIndex(seriesID string) int64 {
	e.t.Helper()
	n, err := e.st.NextIndex(e.ctx, seriesID)
	if err != nil {
		e.t.Fatalf("NextIndex(%s): %v", seriesID, err)
	}
	return n
}

// testContractSequence checks Change.Sequence and NextIndex: an advance
// applies only from the stored next index, atomically with the rest of its
// change, and a refused one writes nothing.
func testContractSequence(t *testing.T, e *env) {
	e.seedSeries("s1", "s2", "s3")
	if n := e.nextIndex("s1"); n != 0 {
		t.Errorf("the sequence of a series never advanced stands at 0: %d", n)
	}
	minted := func(id, code string) (coupon.Coupon, coupon.Event) { return rawCoupon(id, "s1", code) }
	a, aev := minted("a", "A")
	b, bev := minted("b", "B")
	err := e.st.Apply(e.ctx, &store.Change{NewCoupons: []coupon.Coupon{a, b}, Events: []coupon.Event{aev, bev},
		Sequence: &store.SequenceAdvance{SeriesID: "s1", From: 0, To: 2}})
	if wantOK(t, err, "an advance from the stored next index (0) applies") {
		if n := e.nextIndex("s1"); n != 2 {
			t.Errorf("an advance from 0 to 2 leaves the next index at 2: %d", n)
		}
	}
	if n := e.nextIndex("s2"); n != 0 {
		t.Errorf("each series has its own sequence: s2 stands at %d", n)
	}

	k := key(limits.SeriesIssued, "s1", "", "")
	c, cev := minted("c", "C")
	testSequenceRefused(t, e, c, cev, k)

	// A change refused for another reason leaves the sequence alone too.
	err = e.st.Apply(e.ctx, &store.Change{NewCoupons: []coupon.Coupon{c}, Events: []coupon.Event{cev},
		Bumps:    []store.Bump{{Key: k, Delta: -e.count(k).N - 1, At: t0}},
		Sequence: &store.SequenceAdvance{SeriesID: "s1", From: 2, To: 3}})
	wantCode(t, err, errcode.Conflict, "a change whose decrement would go below zero must fail")
	if n := e.nextIndex("s1"); n != 2 {
		t.Errorf("a change refused by its bumps must not advance the sequence: %d, want 2", n)
	}
	err = e.st.Apply(e.ctx, &store.Change{NewCoupons: []coupon.Coupon{a}, Sequence: &store.SequenceAdvance{SeriesID: "s1", From: 2, To: 3}})
	wantCode(t, err, errcode.AlreadyExists, "a change inserting a coupon that exists must fail")
	if n := e.nextIndex("s1"); n != 2 {
		t.Errorf("a change refused by a duplicate coupon must not advance the sequence: %d, want 2", n)
	}

	// An advance alone, one to the same index, one to the end of int64.
	mustOK(t, e.st.Apply(e.ctx, &store.Change{Sequence: &store.SequenceAdvance{SeriesID: "s2", From: 0, To: 0}}), "an advance from 0 to 0")
	if n := e.nextIndex("s2"); n != 0 {
		t.Errorf("an advance from 0 to 0 leaves the index at 0: %d", n)
	}
	mustOK(t, e.st.Apply(e.ctx, &store.Change{Sequence: &store.SequenceAdvance{SeriesID: "s2", From: 0, To: 1 << 62}}), "an advance alone")
	mustOK(t, e.st.Apply(e.ctx, &store.Change{Sequence: &store.SequenceAdvance{SeriesID: "s2", From: 1 << 62, To: 1 << 62}}), "an advance to the same index")
	mustOK(t, e.st.Apply(e.ctx, &store.Change{Sequence: &store.SequenceAdvance{SeriesID: "s2", From: 1 << 62, To: math.MaxInt64}}), "an advance to the largest int64")
	if n := e.nextIndex("s2"); n != math.MaxInt64 {
		t.Errorf("the sequence reaches the largest int64: %d", n)
	}
	mustOK(t, e.st.Apply(e.ctx, &store.Change{NewCoupons: []coupon.Coupon{c}, Events: []coupon.Event{cev},
		Sequence: &store.SequenceAdvance{SeriesID: "s1", From: 2, To: 3}}), "an advance from the stored index, after refused ones")
	if n := e.nextIndex("s1"); n != 3 {
		t.Errorf("the advance applies: %d, want 3", n)
	}
	testSequenceLarge(t, e)
	testSequenceRace(t, e, "s3")
}

// testSequenceRefused checks that advances no stored index passes fail
// their change, which inserts c and bumps k, and write nothing of it; the
// sequence of s1 stands at 2.
func testSequenceRefused(t *testing.T, e *env, c coupon.Coupon, cev coupon.Event, k store.CounterKey) {
	for _, tc := range []struct {
		what string
		seq  store.SequenceAdvance
		code errcode.Code
	}{
		{"an advance from a stale index (0, the sequence is at 2)", store.SequenceAdvance{SeriesID: "s1", From: 0, To: 3}, errcode.Conflict},
		{"an advance from an index the sequence has not reached (3, it is at 2)", store.SequenceAdvance{SeriesID: "s1", From: 3, To: 4}, errcode.Conflict},
		{"an advance from a negative index", store.SequenceAdvance{SeriesID: "s1", From: -1, To: 3}, errcode.InvalidArgument},
		{"an advance backwards", store.SequenceAdvance{SeriesID: "s1", From: 2, To: 1}, errcode.InvalidArgument},
	} {
		err := e.st.Apply(e.ctx, &store.Change{NewCoupons: []coupon.Coupon{c}, Events: []coupon.Event{cev},
			Bumps: []store.Bump{{Key: k, Delta: 1, At: t0}}, Sequence: &tc.seq})
		wantCode(t, err, tc.code, "%s must fail the change", tc.what)
		var ce *store.ConflictError
		if tc.code == errcode.Conflict && err != nil && (!errors.As(err, &ce) || ce.Kind != "sequence" || ce.ID != "s1") {
			t.Errorf("%s: the error must be a *store.ConflictError of Kind \"sequence\" naming the series: %#v", tc.what, err)
		}
		if n := e.nextIndex("s1"); n != 2 {
			t.Errorf("%s: the sequence must not move: %d, want 2", tc.what, n)
		}
		if _, err := e.st.Coupon(e.ctx, "c"); !errors.Is(err, errcode.ErrNotFound) {
			t.Errorf("%s: the coupon of the refused change must not be stored: %v", tc.what, err)
		}
		if got := e.count(k); got.N != 0 {
			t.Errorf("%s: the bump of the refused change must not apply: %+v", tc.what, got)
		}
		if evs := e.events(store.EventQuery{CouponID: "c"}); len(evs) != 0 {
			t.Errorf("%s: the events of the refused change must not be stored: %v", tc.what, evs)
		}
	}
}

// testSequenceLarge checks a large change of new coupons and a sequence
// advance, as Generate applies (a store may write such a change another
// way): applied whole, or, on a stale index or a colliding coupon, not at
// all.
func testSequenceLarge(t *testing.T, e *env) {
	const n = 1500
	e.seedSeries("big")
	batch := func(prefix string) ([]coupon.Coupon, []coupon.Event) {
		cs := make([]coupon.Coupon, n)
		for i := range cs {
			cs[i], _ = rawCoupon(fmt.Sprintf("%s-%04d", prefix, i), "big", fmt.Sprintf("%s%04d", prefix, i))
		}
		return cs, []coupon.Event{{ID: "ev-" + prefix, Kind: coupon.EventCreated, SeriesID: "big", At: t0, Reason: "a batch"}}
	}
	stored := func() int {
		cs, err := e.st.ListCoupons(e.ctx, store.CouponQuery{CouponFilter: store.CouponFilter{SeriesID: "big"}})
		mustOK(t, err, "ListCoupons")
		return len(cs)
	}
	cs, evs := batch("A")
	mustOK(t, e.st.Apply(e.ctx, &store.Change{NewCoupons: cs, Events: evs, Sequence: &store.SequenceAdvance{SeriesID: "big", From: 0, To: n}}),
		"a change of %d new coupons advancing the sequence", n)
	if got, next := stored(), e.nextIndex("big"); got != n || next != n {
		t.Errorf("a large change applies whole: %d coupons, sequence at %d, want %d and %d", got, next, n, n)
	}
	cs, evs = batch("B")
	err := e.st.Apply(e.ctx, &store.Change{NewCoupons: cs, Events: evs, Sequence: &store.SequenceAdvance{SeriesID: "big", From: 0, To: n}})
	wantCode(t, err, errcode.Conflict, "a large change from a stale index must fail with Conflict")
	cs[n-1].Code, cs[n-1].Canonical = "A0007", "A0007"
	err = e.st.Apply(e.ctx, &store.Change{NewCoupons: cs, Events: evs, Sequence: &store.SequenceAdvance{SeriesID: "big", From: n, To: 2 * n}})
	wantCode(t, err, errcode.AlreadyExists, "a large change with a coupon whose code is taken must fail with AlreadyExists")
	var ee *store.ExistsError
	if errors.As(err, &ee) && (ee.Kind != "coupon" || !strings.Contains(ee.Key, "A0007")) {
		t.Errorf("the *store.ExistsError names the coupon whose code is taken: %+v", ee)
	}
	if got, next := stored(), e.nextIndex("big"); got != n || next != n {
		t.Errorf("a refused large change writes nothing: %d coupons, sequence at %d, want %d and %d", got, next, n, n)
	}
	if evs := e.events(store.EventQuery{SeriesID: "big"}); len(evs) != 1 {
		t.Errorf("a refused large change appends no event: %d events, want 1", len(evs))
	}
}

// testSequenceRace races advances from one read of the next index: in
// each round exactly one applies and the others conflict, and the sequence
// ends at the sum of the advances that applied.
func testSequenceRace(t *testing.T, e *env, seriesID string) {
	const workers, rounds = 8, 5
	var want int64
	for round := range rounds {
		from := e.nextIndex(seriesID)
		var mu sync.Mutex
		won, lost := 0, 0
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				id := fmt.Sprintf("race-%d-%d", round, w)
				c, ev := rawCoupon(id, seriesID, id)
				err := e.st.Apply(e.ctx, &store.Change{NewCoupons: []coupon.Coupon{c}, Events: []coupon.Event{ev},
					Sequence: &store.SequenceAdvance{SeriesID: seriesID, From: from, To: from + int64(w) + 1}})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won++
					want += int64(w) + 1
				case errors.Is(err, errcode.ErrConflict):
					lost++
				default:
					t.Errorf("a racing advance: unexpected error %v", err)
				}
			})
		}
		wg.Wait()
		if won != 1 || lost != workers-1 {
			t.Errorf("advances racing from one index: %d applied and %d conflicted, want 1 and %d", won, lost, workers-1)
		}
	}
	if n := e.nextIndex(seriesID); n != want {
		t.Errorf("after racing advances the sequence stands at %d, want the sum of those applied, %d", n, want)
	}
	cs, err := e.st.ListCoupons(e.ctx, store.CouponQuery{CouponFilter: store.CouponFilter{SeriesID: seriesID}})
	mustOK(t, err, "ListCoupons")
	if len(cs) != rounds {
		t.Errorf("only the coupons of the applied advances are stored: %d, want %d", len(cs), rounds)
	}
}

// mints reports whether the engine makes the codes of s from its code
// sequence, so that every coupon of s took one index of it.
func mints(s *series.Series) bool {
	return s.Source.Kind == series.Generated || s.Source.Kind == series.RandomizedCommon
}

// wantSequenceMatches checks, for a series whose codes the engine makes,
// that its code sequence stands at the number of its coupons: every index
// taken made a coupon that is stored, and no index was lost to a refused
// or failed change.
func (e *env) wantSequenceMatches(t *testing.T, seriesID, rule string) {
	t.Helper()
	s, err := e.st.Series(e.ctx, seriesID)
	mustOK(t, err, "Series")
	if !mints(&s) {
		return
	}
	if n, cs := e.nextIndex(seriesID), e.seriesCoupons(seriesID); n != int64(len(cs)) {
		t.Errorf("%s: the code sequence stands at %d but the series has %d coupons: every index taken must make a stored code", rule, n, len(cs))
	}
}

// tenThousand makes a series' codes 4 digits: a code space of 10,000.
func tenThousand(s *series.Series) {
	s.Source = series.Source{Kind: series.Generated, Length: 4, Alphabet: series.Numeric, MaxFill: 1}
}

// spaceUsedUp reports whether err is the refusal of a code the series'
// code space has no room for.
func spaceUsedUp(err error) bool {
	return errors.Is(err, errcode.ErrPoolEmpty) &&
		(errors.Is(err, errcode.ErrCapacityExceeded) || errors.Is(err, errcode.ErrFillRatioExceeded))
}

func testGenerateRefusedWhole(t *testing.T, e *env) {
	s := e.gen("ten thousand", tenThousand)
	n, err := e.e.Generate(e.ctx, couponkit.GenerateRequest{SeriesID: s.ID, N: 5000})
	if !wantOK(t, err, "Generate 5,000 codes of 10,000") || n != 5000 {
		t.Fatalf("Generate 5,000 codes of 10,000 makes them: %d", n)
	}
	n, err = e.e.Generate(e.ctx, couponkit.GenerateRequest{SeriesID: s.ID, N: 6000})
	wantCode(t, err, errcode.CapacityExceeded, "Generate of 6,000 codes with 5,000 left is refused")
	if n != 0 {
		t.Errorf("a refused Generate makes no code: %d", n)
	}
	if next := e.nextIndex(s.ID); next != 5000 {
		t.Errorf("a refused Generate leaves the code sequence where it was: %d, want 5000", next)
	}
	if cs := e.seriesCoupons(s.ID); len(cs) != 5000 {
		t.Errorf("a refused Generate adds no coupon: %d, want 5000", len(cs))
	}
	n, err = e.e.Generate(e.ctx, couponkit.GenerateRequest{SeriesID: s.ID, N: 5000})
	if wantOK(t, err, "Generate of the 5,000 codes left after a refused Generate") && n != 5000 {
		t.Errorf("the 5,000 codes left are all made: %d", n)
	}
	cs := e.seriesCoupons(s.ID)
	if len(cs) != 10000 {
		t.Errorf("the whole code space is generated: %d coupons, want 10000", len(cs))
	}
	distinctCodes(t, cs)
	_, err = e.e.Generate(e.ctx, couponkit.GenerateRequest{SeriesID: s.ID, N: 1})
	wantCode(t, err, errcode.CapacityExceeded, "Generate of one code past the code space is refused")
	e.wantSequenceMatches(t, s.ID, "Generate up to the end of the code space")
}

func testIssueBatchPastCapacity(t *testing.T, e *env) {
	s := e.gen("batch past capacity", tenThousand)
	reqs := func(n int) []couponkit.IssueRequest {
		out := make([]couponkit.IssueRequest, n)
		for i := range out {
			out[i] = couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID([]string{alice, bob, carol}[i%3])}
		}
		return out
	}
	outs, err := e.e.IssueBatch(e.ctx, reqs(9000))
	mustOK(t, err, "IssueBatch of 9,000 requests")
	for i, o := range outs {
		if o.Err != nil {
			t.Fatalf("request %d of 9,000 with 10,000 codes: %v", i, o.Err)
		}
	}
	if next := e.nextIndex(s.ID); next != 9000 {
		t.Fatalf("9,000 codes issued take 9,000 indexes: %d", next)
	}
	outs, err = e.e.IssueBatch(e.ctx, reqs(2000))
	mustOK(t, err, "IssueBatch of 2,000 requests with 1,000 codes left")
	if len(outs) != 2000 {
		t.Fatalf("IssueBatch answers every request: %d of 2000", len(outs))
	}
	issued, wrong := 0, 0
	for i, o := range outs {
		if o.Err == nil {
			issued++
		}
		if i < 1000 && o.Err == nil || i >= 1000 && spaceUsedUp(o.Err) {
			continue
		}
		if wrong++; wrong == 1 {
			t.Errorf("request %d of a batch of 2,000 with 1,000 codes left: %v; the first 1,000 are issued, "+
				"the rest refused with PoolEmpty and CapacityExceeded or FillRatioExceeded", i, o.Err)
		}
	}
	if issued != 1000 || wrong > 0 {
		t.Errorf("a batch of 2,000 requests with 1,000 codes left issues exactly the first 1,000: %d issued, %d requests answered wrongly", issued, wrong)
	}
	if next := e.nextIndex(s.ID); next != 10000 {
		t.Errorf("the code sequence ends at the code space: %d, want 10000", next)
	}
	if n := e.counters(s.ID); n.Issued != 10000 {
		t.Errorf("the series issued counter counts the coupons issued: %d, want 10000", n.Issued)
	}
	e.wantSequenceMatches(t, s.ID, "a batch past the code space")
	_, err = e.e.Issue(e.ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID(dave)})
	if !spaceUsedUp(err) {
		t.Errorf("an issue past the code space is refused with PoolEmpty and CapacityExceeded or FillRatioExceeded: %v", err)
	}
	if next := e.nextIndex(s.ID); next != 10000 {
		t.Errorf("a refused issue leaves the code sequence where it was: %d", next)
	}
}

// raceIssueMinted races 16 issues for each of 100 customers (a quarter of
// each under Short) at a generated series with at most one coupon per
// customer: each customer gets one coupon, and the code sequence moves by
// exactly the coupons made, however many attempts lost. It is large
// enough in one round: later rounds do nothing.
func raceIssueMinted(t *testing.T, e *env, _, round int) {
	if round > 0 {
		return
	}
	custs, per := 100, 16
	if e.caps.Short {
		custs, per = 25, 4
	}
	ids := make([]string, custs)
	for i := range ids {
		ids[i] = fmt.Sprintf("m%d", i)
	}
	e.addCustomers(ids...)
	s := e.gen(raceName("issue-minted", round), func(s *series.Series) { s.Issuance.MaxPerCustomer = 1 })
	outs := e.issueRace(custs*per, s.ID, func(i int) string { return ids[i%custs] })
	checkIssueRace(t, e, s.ID, outs, custs, fmt.Sprintf("%d customers each issued %d times at once from a series with one coupon per customer", custs, per),
		deniedFor(limits.CustomerIssueLimit))
	if next := e.nextIndex(s.ID); next != int64(custs) {
		t.Errorf("the code sequence stands at the %d coupons made: %d", custs, next)
	}
}

// testSequenceProperty is a property of the code sequence: for any
// interleaving of issues, issue batches, Generate, revocations and
// reissues, refused or not, on a series of 16 codes, the sequence stands
// at the number of coupons the series has (each made from one index), and
// a call refused as a whole leaves it where it was.
func testSequenceProperty(t *testing.T, e *env) {
	checks, steps := e.caps.RapidChecks, 40
	if e.caps.Short && checks <= 0 {
		checks = 20
	}
	withRapidFlags(checks, steps, func() {
		rapid.Check(t, func(rt *rapid.T) {
			s := e.createSeries(baseSeries(fmt.Sprintf("sixteen codes %d", e.clk.Now().UnixNano()),
				series.Source{Kind: series.Generated, Length: 4, Alphabet: series.Custom, CustomAlphabet: "AB", MaxFill: 1},
				func(s *series.Series) {
					s.Issuance.MaxPerCustomer = limits.Limit(rapid.IntRange(0, 4).Draw(rt, "max per customer"))
					if rapid.Bool().Draw(rt, "issue gap") {
						s.Issuance.MinGap = time.Hour
					}
				}))
			sm := &seqMachine{e: e, s: s}
			rt.Repeat(sm.actions())
		})
	})
}

// seqMachine is one run of testSequenceProperty.
type seqMachine struct {
	e *env
	s series.Series
}

func (sm *seqMachine) actions() map[string]func(*rapid.T) {
	return map[string]func(*rapid.T){
		"": sm.check,
		"Issue": func(t *rapid.T) {
			cust := drawCustomer(t, "customer")
			sm.refusedMovesNothing(t, "Issue", func() error {
				_, err := sm.e.e.Issue(sm.e.ctx, couponkit.IssueRequest{SeriesID: sm.s.ID, Customer: couponkit.ByID(cust)})
				return err
			})
		},
		"IssueBatch": func(t *rapid.T) {
			custs := rapid.SliceOfN(rapid.SampledFrom(append(modelCustomers, "nobody")), 0, 8).Draw(t, "customers")
			reqs := make([]couponkit.IssueRequest, len(custs))
			for i, c := range custs {
				reqs[i] = couponkit.IssueRequest{SeriesID: sm.s.ID, Customer: couponkit.ByID(c)}
			}
			before := sm.e.nextIndex(sm.s.ID)
			outs, err := sm.e.e.IssueBatch(sm.e.ctx, reqs)
			if err != nil {
				t.Fatalf("IssueBatch(%v): %v", custs, err)
			}
			fits := true
			for i, o := range outs {
				if spaceUsedUp(o.Err) {
					fits = false
				} else if !fits {
					t.Fatalf("IssueBatch(%v): request %d is answered %v after an earlier one found the code space used up", custs, i, o.Err)
				}
			}
			if after := sm.e.nextIndex(sm.s.ID); after < before {
				t.Fatalf("IssueBatch moved the code sequence back from %d to %d", before, after)
			}
		},
		"Generate": func(t *rapid.T) {
			n := rapid.IntRange(0, 10).Draw(t, "n")
			before := sm.e.nextIndex(sm.s.ID)
			done, err := sm.e.e.Generate(sm.e.ctx, couponkit.GenerateRequest{SeriesID: sm.s.ID, N: n})
			after := sm.e.nextIndex(sm.s.ID)
			switch {
			case err == nil && (done != n || after != before+int64(n)):
				t.Fatalf("Generate(%d) from index %d: made %d, the sequence is at %d", n, before, done, after)
			case err != nil && !errors.Is(err, errcode.ErrCapacityExceeded) && !errors.Is(err, errcode.ErrFillRatioExceeded):
				t.Fatalf("Generate(%d) from index %d: unexpected error %v", n, before, err)
			case err != nil && (done != 0 || after != before):
				t.Fatalf("Generate(%d) refused (%v) made %d codes and moved the sequence from %d to %d", n, err, done, before, after)
			}
		},
		"Revoke": func(t *rapid.T) {
			c, ok := sm.drawCoupon(t, coupon.Available, coupon.Issued)
			if !ok {
				t.Skip("no coupon to revoke")
			}
			if _, err := sm.e.e.Revoke(sm.e.ctx, couponkit.RevokeRequest{SeriesID: sm.s.ID, Codes: []string{c.Code}}); err != nil {
				t.Fatalf("Revoke(%s): %v", c.Code, err)
			}
		},
		"Reissue": func(t *rapid.T) {
			c, ok := sm.drawCoupon(t, coupon.Revoked)
			if !ok {
				t.Skip("no coupon to reissue")
			}
			sm.refusedMovesNothing(t, "Reissue", func() error {
				_, err := sm.e.e.Reissue(sm.e.ctx, couponkit.ReissueRequest{SeriesID: sm.s.ID, Code: c.Code})
				return err
			})
		},
		"Advance": func(*rapid.T) { sm.e.clk.Advance(40 * time.Minute) },
	}
}

// refusedMovesNothing runs call and, when it fails, checks that the code
// sequence did not move.
func (sm *seqMachine) refusedMovesNothing(t *rapid.T, what string, call func() error) {
	before := sm.e.nextIndex(sm.s.ID)
	if err := call(); err != nil {
		if errors.Is(err, errcode.ErrConflict) {
			t.Fatalf("%s: a conflict reached the caller: %v", what, err)
		}
		if after := sm.e.nextIndex(sm.s.ID); after != before {
			t.Fatalf("%s refused (%v) moved the code sequence from %d to %d", what, err, before, after)
		}
	}
}

// drawCoupon draws a coupon of the series in one of the states.
func (sm *seqMachine) drawCoupon(t *rapid.T, states ...coupon.State) (coupon.Coupon, bool) {
	cs, err := sm.e.st.ListCoupons(sm.e.ctx, store.CouponQuery{CouponFilter: store.CouponFilter{SeriesID: sm.s.ID, States: states}})
	if err != nil {
		t.Fatalf("ListCoupons: %v", err)
	}
	if len(cs) == 0 {
		return coupon.Coupon{}, false
	}
	return rapid.SampledFrom(cs).Draw(t, "coupon"), true
}

// check is the invariant: the sequence counts the series' coupons, whose
// codes are distinct.
func (sm *seqMachine) check(t *rapid.T) {
	cs, err := sm.e.st.ListCoupons(sm.e.ctx, store.CouponQuery{CouponFilter: store.CouponFilter{SeriesID: sm.s.ID}})
	if err != nil {
		t.Fatalf("ListCoupons: %v", err)
	}
	if next := sm.e.nextIndex(sm.s.ID); next != int64(len(cs)) {
		t.Fatalf("the code sequence stands at %d, the series has %d coupons: each index taken must make one stored code", next, len(cs))
	}
	seen := map[string]bool{}
	for _, c := range cs {
		if seen[c.Canonical] {
			t.Fatalf("code %s was made twice", c.Code)
		}
		seen[c.Canonical] = true
	}
}
