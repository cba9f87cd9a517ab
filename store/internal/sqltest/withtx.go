package sqltest

import (
	"errors"
	"testing"

	couponkit "github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/store"
)

func testWithTx(t *testing.T, be Backend) {
	s := be.Open(t)
	db := s.DB()
	if _, err := db.Exec("CREATE TABLE shop_orders (id TEXT PRIMARY KEY, redemption TEXT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	e := NewEngine(t, s, t0)
	sr, err := e.CreateSeries(ctx, RedeemSeries("", 0))
	if err != nil {
		t.Fatal(err)
	}
	IssuedCoupons(t, s, sr.ID, 3, t0)

	// order redeems coupon i inside a transaction with the shop's order
	// row, and commits or rolls back.
	order := func(i int, commit bool) (couponkit.RedeemResult, error) {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		ts := s.WithTx(tx)
		te := NewEngine(t, ts, t0)
		res, err := te.Redeem(ctx, RedeemReq(i, "order-1"))
		if err != nil {
			return res, err
		}
		// A failing change inside the transaction is undone alone.
		dup := &store.Change{NewRedemptions: []coupon.Redemption{res.Redemption}}
		if err := ts.Apply(ctx, dup); !errors.Is(err, errcode.ErrAlreadyExists) {
			t.Errorf("duplicate in the transaction: %v", err)
		}
		// Reads through the transaction see its writes.
		if got, err := ts.RedemptionByKey(ctx, res.Redemption.CouponID, "order-1"); err != nil || got.ID != res.Redemption.ID {
			t.Errorf("read in the transaction: %+v, %v", got, err)
		}
		if _, err := tx.Exec("INSERT INTO shop_orders (id, redemption) VALUES ($1, $2)", "o1", res.Redemption.ID); err != nil {
			t.Fatalf("the transaction is no longer usable: %v", err)
		}
		if commit {
			return res, tx.Commit()
		}
		return res, tx.Rollback()
	}

	res, err := order(0, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Redemption(ctx, res.Redemption.ID); !errors.Is(err, errcode.ErrNotFound) {
		t.Errorf("rolled back redemption still there: %v", err)
	}
	if c, _ := e.Counters(ctx, sr.ID); c.Uses != 0 {
		t.Errorf("rolled back redemption counted: %+v", c)
	}
	res, err = order(0, true)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Redemption(ctx, res.Redemption.ID)
	if err != nil || got.Status != coupon.StatusRedeemed {
		t.Errorf("committed redemption: %+v, %v", got, err)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM shop_orders").Scan(&n); err != nil || n != 1 {
		t.Errorf("%d orders, %v", n, err)
	}
	if c, _ := e.Counters(ctx, sr.ID); c.Uses != 1 {
		t.Errorf("uses %+v, want 1", c)
	}
	again, err := e.Redeem(ctx, RedeemReq(0, "order-1"))
	if err != nil || !again.Replayed {
		t.Errorf("replay outside the transaction: %+v, %v", again, err)
	}
}

// testWithTxBulk runs the bulk methods inside a caller's transaction (on
// PostgreSQL, the multi-row path instead of COPY).
func testWithTxBulk(t *testing.T, be Backend) {
	s := be.Open(t)
	CreateSeries(t, s, "s1")
	cs, evs := batch("s1", 0, 150)
	if _, err := s.InsertCoupons(ctx, cs[:20], evs[:20]); err != nil {
		t.Fatal(err)
	}
	tx, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	ts := s.WithTx(tx)
	n, err := ts.InsertCoupons(ctx, cs, evs)
	if err != nil || n != 130 {
		t.Fatalf("InsertCoupons in a transaction: %d, %v; want 130", n, err)
	}
	out, err := ts.UpdateWhere(ctx, store.CouponFilter{SeriesID: "s1"}, store.BulkUpdate{To: coupon.Revoked, At: t0,
		Limit: 100, EventIDPrefix: "x-", Event: coupon.Event{Kind: coupon.EventRevoked, At: t0}})
	if err != nil || len(out) != 100 {
		t.Fatalf("UpdateWhere in a transaction: %d, %v", len(out), err)
	}
	if err := ts.Apply(ctx, &store.Change{Sequence: &store.SequenceAdvance{SeriesID: "s1", From: 0, To: 10}}); err != nil {
		t.Fatalf("a sequence advance in a transaction: %v", err)
	}
	if next, err := ts.NextIndex(ctx, "s1"); err != nil || next != 10 {
		t.Fatalf("NextIndex in a transaction sees its advance: %d, %v", next, err)
	}
	if next, err := s.NextIndex(ctx, "s1"); err != nil || next != 0 {
		t.Fatalf("NextIndex outside the transaction does not see its advance before the commit: %d, %v", next, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if next, err := s.NextIndex(ctx, "s1"); err != nil || next != 10 {
		t.Errorf("after commit the sequence stands at 10: %d, %v", next, err)
	}
	evAll, _ := s.Events(ctx, store.EventQuery{SeriesID: "s1"})
	revoked, _ := s.ListCoupons(ctx, store.CouponQuery{CouponFilter: store.CouponFilter{States: []coupon.State{coupon.Revoked}}})
	if len(evAll) != 250 || len(revoked) != 100 {
		t.Errorf("after commit: %d events (want 250), %d revoked (want 100)", len(evAll), len(revoked))
	}
}
