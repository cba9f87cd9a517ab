package storetest

import (
	"errors"
	"fmt"
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

// testSequenceProperty is a property of the code sequence: for any
// interleaving of issues, issue batches, Generate, revocations and
// reissues, refused or not, on a series of 16 codes, the sequence stands
// at the number of coupons the series has (each made from one index), and
// a call refused as a whole leaves it where it was.
func testSequenceProperty(t *testing.T, e *env) {
	checks, steps := e.sizes.RapidChecks, 40
	if e.sizes.Short && checks <= 0 {
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
