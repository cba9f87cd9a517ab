package till_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/memstore"
	"github.com/couponkit/couponkit/till"
)

// clock is a settable clock shared by the central and the till.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// central is an engine on memstore with one generated series whose codes
// only their holder may use, once each, and alice's coupon of it.
type central struct {
	e     *couponkit.Engine
	st    *memstore.Store
	clock *clock
	s     series.Series
	code  string // alice's
}

func newCentral(t *testing.T) *central {
	t.Helper()
	ctx := context.Background()
	c := &central{st: memstore.New(), clock: &clock{t: t0}}
	var err error
	c.e, err = couponkit.New(couponkit.Config{Store: c.st, Now: c.clock.Now,
		CodeKey: func(context.Context, string) ([]byte, error) { return []byte("test key"), nil }})
	if err != nil {
		t.Fatal(err)
	}
	c.s, err = c.e.CreateSeries(ctx, series.Series{Name: "s", TimeZone: "UTC",
		Source:     series.Source{Kind: series.Generated, Length: 8, Alphabet: series.ConfusionFree},
		Redemption: limits.RedemptionRules{MaxPerSeries: 100, MaxPerCustomer: 1, Repeat: true}, Expiry: series.Expiry{Kind: series.Never},
		Discount: series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(10), Currency: "EUR"}})
	if err != nil {
		t.Fatal(err)
	}
	c.code = c.issue(t, "alice")
	return c
}

func (c *central) issue(t *testing.T, customer string) string {
	t.Helper()
	is, err := c.e.Issue(context.Background(), couponkit.IssueRequest{SeriesID: c.s.ID, Customer: couponkit.ByID(customer)})
	if err != nil {
		t.Fatal(err)
	}
	return is.Coupon.Code
}

// uses is how many redemptions of code the central holds.
func (c *central) uses(t *testing.T, code string) int {
	t.Helper()
	d, err := c.e.Coupon(context.Background(), c.s.ID, code, couponkit.CustomerRef{})
	if err != nil {
		t.Fatal(err)
	}
	return d.Redemptions
}

// newTill is till-1 over cen (through wrap, when not nil), synced once:
// it holds a lease of the series and its configuration.
func newTill(t *testing.T, c *central, cen till.Central) (*till.Till, *till.Journal) {
	t.Helper()
	ctx := context.Background()
	j, err := till.Open(ctx, openDB(t, filepath.Join(t.TempDir(), "till.db")), skew, till.WithTill("till-1"))
	if err != nil {
		t.Fatal(err)
	}
	tl, err := till.New(till.Config{ID: "till-1", Journal: j, Central: cen, Deadline: 200 * time.Millisecond, Now: c.clock.Now,
		Series: []string{c.s.ID}, Size: func(lease.SizeInput) int64 { return 10 }})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := tl.Sync(ctx)
	if err != nil || len(rep.Leases) != 1 || rep.Leases[0].Kind != lease.Grant || rep.Leases[0].Uses != 10 {
		t.Fatalf("the first sync: %+v, %v", rep, err)
	}
	return tl, j
}

func (c *central) sale(key, code, customer string) till.Sale {
	return till.Sale{Key: key, SeriesID: c.s.ID, Code: code, Customer: customer, Bill: "50", Currency: "EUR"}
}

// TestTillRedeemsOnlineFirst: a till that reaches the central redeems
// through it, with the central's exact levels; the use is in the journal,
// synced; the central's refusal is final, never retried offline; a repeat
// is answered once.
func TestTillRedeemsOnlineFirst(t *testing.T) {
	ctx := context.Background()
	c := newCentral(t)
	tl, j := newTill(t, c, till.Local{Engine: c.e})
	r, err := tl.Redeem(ctx, c.sale("s1", c.code, "alice"), nil)
	if err != nil || !r.Online || !r.Entry.Online || !r.Entry.Synced || r.Redemption.Redemption.ID == "" {
		t.Fatalf("online use: %+v, %v", r, err)
	}
	if c.uses(t, c.code) != 1 {
		t.Fatalf("the central counted %d uses", c.uses(t, c.code))
	}
	if left, err := j.Left(ctx, r.Entry.LeaseID); err != nil || left != 9 {
		t.Fatalf("the lease the central counted the use on has %d left (%v), want 9", left, err)
	}
	again, err := tl.Redeem(ctx, c.sale("s1", c.code, "alice"), nil)
	if err != nil || !again.Replayed || again.Entry.Seq != r.Entry.Seq {
		t.Fatalf("a repeat: %+v, %v", again, err)
	}
	bob := c.issue(t, "bob")
	// Bob's code used by alice: the central refuses, the till does not
	// decide it offline.
	if _, err := tl.Redeem(ctx, c.sale("s2", bob, "alice"), nil); err == nil || till.Unanswered(err) {
		t.Fatalf("another's code: %v, want the central's refusal", err)
	}
	if _, found, _ := j.Entry(ctx, "s2"); found {
		t.Fatal("a refused sale was journaled")
	}
	// Alice's second use passes her level of one: refused by the central.
	if _, err := tl.Redeem(ctx, c.sale("s3", c.code, "alice"), nil); !errors.Is(err, errcode.ErrRedeemed) {
		t.Fatalf("a second use: %v", err)
	}
	if p, _ := j.Pending(ctx, 0, 0); len(p) != 0 {
		t.Fatalf("online uses are pending: %+v", p)
	}
}

// hanging is a central whose online redemption never answers before the
// caller gives up.
type hanging struct{ till.Local }

func (hanging) RedeemAtTill(ctx context.Context, _ couponkit.TillRedeemRequest) (couponkit.TillRedeemResult, error) {
	<-ctx.Done()
	return couponkit.TillRedeemResult{}, ctx.Err()
}

// unavailable is a central that answers Unavailable.
type unavailable struct{ till.Local }

func (unavailable) RedeemAtTill(context.Context, couponkit.TillRedeemRequest) (couponkit.TillRedeemResult, error) {
	return couponkit.TillRedeemResult{}, errcode.New(errcode.Unavailable, "", "the store cannot be reached")
}

// lost is a central that makes the use and loses the answer.
type lost struct{ till.Local }

func (l lost) RedeemAtTill(ctx context.Context, req couponkit.TillRedeemRequest) (couponkit.TillRedeemResult, error) {
	if _, err := l.Local.RedeemAtTill(ctx, req); err != nil {
		return couponkit.TillRedeemResult{}, err
	}
	return couponkit.TillRedeemResult{}, errors.New("connection reset by peer")
}

// TestTillFallsBackOffline: a central that hangs past the deadline, or
// answers Unavailable, leaves the sale to the journal, under its key.
func TestTillFallsBackOffline(t *testing.T) {
	for _, tc := range []struct {
		name string
		wrap func(till.Local) till.Central
	}{
		{"hangs", func(l till.Local) till.Central { return hanging{l} }},
		{"unavailable", func(l till.Local) till.Central { return unavailable{l} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			c := newCentral(t)
			tl, j := newTill(t, c, tc.wrap(till.Local{Engine: c.e}))
			start := time.Now()
			r, err := tl.Redeem(ctx, c.sale("s1", c.code, "alice"), nil)
			if err != nil || r.Online || r.Entry.Synced || !r.Entry.Verified {
				t.Fatalf("offline use: %+v, %v", r, err)
			}
			if waited := time.Since(start); waited > 2*time.Second {
				t.Errorf("the fallback waited %v, past the deadline", waited)
			}
			if p, _ := j.Pending(ctx, 0, 0); len(p) != 1 || p[0].Key != "s1" {
				t.Fatalf("pending: %+v", p)
			}
		})
	}
}

// TestTillLostAnswerCountedOnce: the central makes the use but its answer
// is lost; the till records the sale offline under the same key; the sync
// counts it once.
func TestTillLostAnswerCountedOnce(t *testing.T) {
	ctx := context.Background()
	c := newCentral(t)
	tl, j := newTill(t, c, lost{till.Local{Engine: c.e}})
	r, err := tl.Redeem(ctx, c.sale("s1", c.code, "alice"), nil)
	if err != nil || r.Online {
		t.Fatalf("the sale after a lost answer: %+v, %v", r, err)
	}
	rep, err := tl.Sync(ctx)
	if err != nil || rep.Uploaded != 1 {
		t.Fatalf("sync: %+v, %v", rep, err)
	}
	if n := c.uses(t, c.code); n != 1 {
		t.Fatalf("the central counted the sale %d times", n)
	}
	recs, err := c.st.TillEntries(ctx, store.TillEntryQuery{Till: "till-1"})
	if err != nil || len(recs) != 1 || recs[0].Conflicted() {
		t.Fatalf("the central's records: %+v, %v", recs, err)
	}
	if p, _ := j.Pending(ctx, 0, 0); len(p) != 0 {
		t.Fatalf("pending after the sync: %+v", p)
	}
}

// TestTillRefusesWhatItCannotDecide: a series the till carries no
// configuration of is refused before the central is asked; offline, a
// series with no lease left is refused.
func TestTillRefusesWhatItCannotDecide(t *testing.T) {
	ctx := context.Background()
	c := newCentral(t)
	tl, _ := newTill(t, c, hanging{till.Local{Engine: c.e}})
	s := c.sale("x1", c.code, "alice")
	s.SeriesID = "elsewhere"
	if _, err := tl.Redeem(ctx, s, nil); !errors.Is(err, errcode.ErrUnavailable) {
		t.Fatalf("a series the till does not carry: %v", err)
	}
	c.clock.Add(8 * time.Hour) // the lease has ended
	_, err := tl.Redeem(ctx, c.sale("x2", c.code, "alice"), nil)
	checkField(t, err, errcode.ErrNoLease, "SeriesID")
}

// TestTillSyncSizesLeases: Sync renews a lease near its end, tops it up
// when little is left, and returns what is left beyond what the policy
// wants, keeping each answer.
func TestTillSyncSizesLeases(t *testing.T) {
	ctx := context.Background()
	c := newCentral(t)
	j, err := till.Open(ctx, openDB(t, filepath.Join(t.TempDir(), "till.db")), skew, till.WithTill("till-1"))
	if err != nil {
		t.Fatal(err)
	}
	want := int64(10)
	var seen []lease.SizeInput
	tl, err := till.New(till.Config{ID: "till-1", Journal: j, Central: till.Local{Engine: c.e}, Now: c.clock.Now,
		Series: []string{c.s.ID}, LeaseFor: 4 * time.Hour,
		Size: func(in lease.SizeInput) int64 { seen = append(seen, in); return want }})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name  string
		setup func()
		kinds []lease.Kind
		left  int64
	}{
		{"grant", func() {}, []lease.Kind{lease.Grant}, 10},
		{"nothing to do", func() {}, nil, 10},
		{"top up", func() { want = 30 }, []lease.Kind{lease.TopUp}, 30},
		{"return", func() { want = 5 }, []lease.Kind{lease.Return}, 5},
		{"renew", func() { c.clock.Add(3 * time.Hour) }, []lease.Kind{lease.Renew}, 5},
	}
	for _, st := range steps {
		st.setup()
		rep, err := tl.Sync(ctx)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		var kinds []lease.Kind
		for _, a := range rep.Leases {
			kinds = append(kinds, a.Kind)
		}
		if len(kinds) != len(st.kinds) || (len(kinds) > 0 && kinds[0] != st.kinds[0]) {
			t.Fatalf("%s: did %v, want %v", st.name, kinds, st.kinds)
		}
		ls, err := j.Leases(ctx)
		if err != nil || len(ls) != 1 || ls[0].Left() != st.left {
			t.Fatalf("%s: leases %+v, %v; want one with %d left", st.name, ls, err, st.left)
		}
	}
	if last := seen[len(seen)-1]; last.Remaining != 95 || last.Duration != 4*time.Hour {
		t.Errorf("the policy was last asked with %+v; want 95 remaining (100 less 5 leased), 4h", last)
	}
}

// TestTillReversesOnlineUse: a use decided online and reversed at the till
// is given back at the central once the reversal syncs, and the code may
// be used again.
func TestTillReversesOnlineUse(t *testing.T) {
	ctx := context.Background()
	c := newCentral(t)
	tl, j := newTill(t, c, till.Local{Engine: c.e})
	if _, err := tl.Redeem(ctx, c.sale("s1", c.code, "alice"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Reverse(ctx, till.Reversal{Key: "r1", Reverses: "s1", At: c.clock.Now()}, nil); err != nil {
		t.Fatal(err)
	}
	rep, err := tl.Sync(ctx)
	if err != nil || rep.Uploaded != 1 {
		t.Fatalf("sync: %+v, %v", rep, err)
	}
	if n := c.uses(t, c.code); n != 0 {
		t.Fatalf("the central still counts %d uses", n)
	}
	if r, err := tl.Redeem(ctx, c.sale("s2", c.code, "alice"), nil); err != nil || !r.Online {
		t.Fatalf("the code after its use was given back: %+v, %v", r, err)
	}
}

// lostReturn returns the uses a till asks it to, but the answer is lost.
type lostReturn struct{ till.Local }

func (l lostReturn) ReturnLease(ctx context.Context, c couponkit.LeaseCall) (couponkit.LeaseResult, error) {
	if _, err := l.Local.ReturnLease(ctx, c); err != nil {
		return couponkit.LeaseResult{}, err
	}
	return couponkit.LeaseResult{}, errcode.New(errcode.Unavailable, "", "the answer was lost")
}

// TestTillSyncLostReturnAnswer: a return the central made but whose answer
// was lost leaves the till none of the uses it gave back, so that it
// never uses offline what the central took back (such a use would count
// on the series again, past its limit when the series is full).
func TestTillSyncLostReturnAnswer(t *testing.T) {
	ctx := context.Background()
	c := newCentral(t)
	j, err := till.Open(ctx, openDB(t, filepath.Join(t.TempDir(), "till.db")), skew, till.WithTill("till-1"))
	if err != nil {
		t.Fatal(err)
	}
	want := int64(10)
	tl, err := till.New(till.Config{ID: "till-1", Journal: j, Central: lostReturn{till.Local{Engine: c.e}}, Now: c.clock.Now,
		Series: []string{c.s.ID}, Size: func(lease.SizeInput) int64 { return want }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tl.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	want = 4
	if _, err := tl.Sync(ctx); !errors.Is(err, errcode.ErrUnavailable) {
		t.Fatalf("the sync whose return answer was lost: %v", err)
	}
	ls, err := j.Leases(ctx)
	if err != nil || len(ls) != 1 {
		t.Fatalf("leases: %+v, %v", ls, err)
	}
	central, err := c.st.Lease(ctx, ls[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if central.Left().Uses != 4 || ls[0].Left() > central.Left().Uses {
		t.Fatalf("the till may use %d of the lease, the central left it %d", ls[0].Left(), central.Left().Uses)
	}
}

// switchable is a central whose online redemption hangs while down.
type switchable struct {
	till.Local
	down *bool
}

func (s switchable) RedeemAtTill(ctx context.Context, req couponkit.TillRedeemRequest) (couponkit.TillRedeemResult, error) {
	if *s.down {
		<-ctx.Done()
		return couponkit.TillRedeemResult{}, ctx.Err()
	}
	return s.Local.RedeemAtTill(ctx, req)
}

// TestTillOnlineAfterOfflineUses: a till that used its whole lease
// offline, then reaches the central again, does not get another use of
// that lease online before its journal is uploaded (the central does not
// know of the offline uses yet): the series' limit holds, and no uploaded
// use passes it.
func TestTillOnlineAfterOfflineUses(t *testing.T) {
	ctx := context.Background()
	c := newCentral(t)
	s, err := c.e.CreateSeries(ctx, series.Series{Name: "tiny", TimeZone: "UTC", Source: series.Source{Kind: series.Common, Code: "TINY"},
		Redemption: limits.RedemptionRules{AnyoneMayRedeem: true, MaxPerSeries: 2}, Expiry: series.Expiry{Kind: series.Never},
		Discount: series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(5), Currency: "EUR"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.e.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID("issuer")}); err != nil {
		t.Fatal(err)
	}
	j, err := till.Open(ctx, openDB(t, filepath.Join(t.TempDir(), "till.db")), skew, till.WithTill("till-1"))
	if err != nil {
		t.Fatal(err)
	}
	down := false
	tl, err := till.New(till.Config{ID: "till-1", Journal: j, Central: switchable{till.Local{Engine: c.e}, &down}, Now: c.clock.Now,
		Deadline: 100 * time.Millisecond, Series: []string{s.ID}, Size: func(lease.SizeInput) int64 { return 2 }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tl.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	sale := func(key, customer string) till.Sale {
		return till.Sale{Key: key, SeriesID: s.ID, Code: "TINY", Customer: customer, Bill: "50", Currency: "EUR"}
	}
	down = true
	for _, k := range []string{"a", "b"} {
		if r, err := tl.Redeem(ctx, sale(k, k), nil); err != nil || r.Online {
			t.Fatalf("offline sale %s: %+v, %v", k, r, err)
		}
	}
	down = false
	r, err := tl.Redeem(ctx, sale("c", "c"), nil)
	t.Logf("the sale after the outage: online %v, %v", r.Online, err)
	if _, err := j.Sync(ctx, "till-1", till.Local{Engine: c.e}, 0); err != nil {
		t.Fatal(err)
	}
	var n [1]store.Count
	if err := c.st.Counters(ctx, []store.CounterKey{{Counter: limits.SeriesUses, Series: s.ID}}, n[:]); err != nil {
		t.Fatal(err)
	}
	recs, err := c.st.TillEntries(ctx, store.TillEntryQuery{Till: "till-1", SeriesID: s.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range recs {
		if e.Conflicted() {
			t.Errorf("use %s was recorded conflicted: %s", e.Key, e.Conflicts[0].Message)
		}
	}
	if n[0].N > 2 {
		t.Errorf("the series' use counter is %d, past its limit of 2 (%d uses recorded)", n[0].N, len(recs))
	}
}

// TestTillLostAnswerOnAnotherLease: the central draws an online use on a
// lease the till does not know of (its grant's answer was lost; the
// request names no lease, as an older till's does, so the central picks
// one) and the answer is lost too; the till decides the sale offline on
// its own lease. Once the journal syncs, the till counts the use where the
// central did, so that what it may use of each lease is what the central
// left it.
func TestTillLostAnswerOnAnotherLease(t *testing.T) {
	ctx := context.Background()
	c := newCentral(t)
	tl, j := newTill(t, c, unnamed{lost{till.Local{Engine: c.e}}})
	hidden, err := c.e.GrantLease(ctx, couponkit.LeaseRequest{Till: "till-1", SeriesID: c.s.ID, Key: "grant-lost", Uses: 5, End: c.clock.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	r, err := tl.Redeem(ctx, c.sale("s1", c.code, "alice"), nil)
	if err != nil || r.Online || r.Entry.LeaseID == hidden.Lease.ID {
		t.Fatalf("the sale after a lost answer: %+v, %v", r, err)
	}
	if _, err := j.Sync(ctx, "till-1", till.Local{Engine: c.e}, 0); err != nil {
		t.Fatal(err)
	}
	ls, err := j.Leases(ctx)
	if err != nil || len(ls) != 1 {
		t.Fatalf("leases: %+v, %v", ls, err)
	}
	central, err := c.st.Lease(ctx, ls[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if ls[0].Left() != central.Left().Uses {
		t.Errorf("the till may use %d of lease %s, the central left it %d", ls[0].Left(), ls[0].ID, central.Left().Uses)
	}
	if e, _, err := j.Entry(ctx, "s1"); err != nil || e.LeaseID != "" || !e.Synced {
		t.Errorf("the journal's entry after the sync: %+v, %v; want it on no lease the till holds", e, err)
	}
}
