package till_test

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/till"
)

// flaky is a central whose online answers are lost while lose is set
// (the use is made, the answer never arrives) and whose requests are lost
// while drop is set (the central never hears of the sale).
type flaky struct {
	till.Local
	lose, drop *bool
	dial       bool // a lost request fails to connect
}

func (f flaky) RedeemAtTill(ctx context.Context, req couponkit.TillRedeemRequest) (couponkit.TillRedeemResult, error) {
	if *f.drop && f.dial {
		return couponkit.TillRedeemResult{}, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	}
	if *f.drop {
		return couponkit.TillRedeemResult{}, errors.New("connection reset by peer")
	}
	res, err := f.Local.RedeemAtTill(ctx, req)
	if err == nil && *f.lose {
		return couponkit.TillRedeemResult{}, errors.New("connection reset by peer")
	}
	return res, err
}

// TestTillSettlesSalesInDoubt: a sale asked of the central in vain and
// then refused offline (no lease) leaves the customer without a discount,
// but the central may have made the use. Sync settles it: the central's
// use is recorded and given back, so the coupon is the customer's to use
// again; a sale the central never heard of is made and given back too;
// a sale the cashier made after all under its key is no longer in doubt
// and keeps its use; and a sale whose request never left the till (it
// could not connect) is not in doubt at all.
func TestTillSettlesSalesInDoubt(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name       string
		drop       bool // the request is lost, not the answer
		dial       bool // ... as the till cannot connect
		retry      bool // the cashier tries the sale again before Sync
		wantVoided int
		wantUses   int
	}{
		{name: "answer lost", wantVoided: 1, wantUses: 0},
		{name: "request lost", drop: true, wantVoided: 1, wantUses: 0},
		{name: "made after all", retry: true, wantVoided: 0, wantUses: 1},
		{name: "never sent", drop: true, dial: true, wantVoided: 0, wantUses: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCentral(t)
			lose, drop := true, tc.drop
			tl, j := newTill(t, c, flaky{Local: till.Local{Engine: c.e}, lose: &lose, drop: &drop, dial: tc.dial})
			c.clock.Add(8 * time.Hour) // the till's lease has ended: offline, the sale is refused
			if _, err := tl.Redeem(ctx, c.sale("d1", c.code, "alice"), nil); !errors.Is(err, errcode.ErrNoLease) {
				t.Fatalf("the sale with the central out of reach and no lease: %v", err)
			}
			ds, err := j.Doubts(ctx)
			if err != nil || tc.dial && len(ds) != 0 || !tc.dial && (len(ds) != 1 || ds[0].Key != "d1") {
				t.Fatalf("sales in doubt: %+v, %v", ds, err)
			}
			lose, drop = false, false
			if tc.retry {
				if r, err := tl.Redeem(ctx, c.sale("d1", c.code, "alice"), nil); err != nil || !r.Online {
					t.Fatalf("the sale tried again: %+v, %v", r, err)
				}
			}
			rep, err := tl.Sync(ctx)
			if err != nil || rep.Voided != tc.wantVoided || rep.InDoubt != 0 {
				t.Fatalf("sync: %+v, %v; want %d voided, none in doubt", rep, err, tc.wantVoided)
			}
			if n := c.uses(t, c.code); n != tc.wantUses {
				t.Fatalf("the central holds %d uses of the code, want %d", n, tc.wantUses)
			}
			if ds, _ := j.Doubts(ctx); len(ds) != 0 {
				t.Fatalf("still in doubt after the sync: %+v", ds)
			}
			if p, _ := j.Pending(ctx, 0, 0); len(p) != 0 {
				t.Fatalf("pending after the sync: %+v", p)
			}
			// The customer's one use is hers again unless the sale was made.
			_, err = tl.Redeem(ctx, c.sale("d2", c.code, "alice"), nil)
			if (err == nil) != (tc.wantUses == 0) {
				t.Fatalf("alice's next sale: %v", err)
			}
		})
	}
}

// TestTillSettlementStoppedMidway: Sync settles a sale in doubt, and the
// till stops (here: the journal's write fails) partway. Stopped before it
// recorded the central's use, the sale stays in doubt: the cashier tries
// it again and the central makes it, so the customer has the discount and
// the next Sync must not give it back. Stopped after that record and
// before the reversal, the next Sync gives the use back.
func TestTillSettlementStoppedMidway(t *testing.T) {
	for _, tc := range []struct {
		name, stopAt string // the key whose journal write fails
		retry        bool
		wantVoided   int
		wantUses     int
	}{
		{name: "before the central's use is recorded, then made after all", stopAt: "d1", retry: true, wantUses: 1},
		{name: "before the reversal", stopAt: "d1/void", wantVoided: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			c := newCentral(t)
			db := openDB(t, filepath.Join(t.TempDir(), "till.db"))
			tl, j := lostAnswerTill(t, c, db)
			stop := `CREATE TRIGGER stop BEFORE INSERT ON till_journal WHEN NEW.key = '` + tc.stopAt + `' BEGIN SELECT RAISE(ABORT, 'the till stopped'); END`
			if _, err := db.ExecContext(ctx, stop); err != nil {
				t.Fatal(err)
			}
			if _, err := tl.Sync(ctx); err == nil {
				t.Fatal("the sync that stopped midway succeeded")
			}
			if _, err := db.ExecContext(ctx, `DROP TRIGGER stop`); err != nil {
				t.Fatal(err)
			}
			if tc.retry {
				if r, err := tl.Redeem(ctx, c.sale("d1", c.code, "alice"), nil); err != nil || !r.Online {
					t.Fatalf("the sale tried again: %+v, %v", r, err)
				}
			}
			rep, err := tl.Sync(ctx)
			if err != nil || rep.Voided != tc.wantVoided || rep.InDoubt != 0 {
				t.Fatalf("sync: %+v, %v; want %d voided, none in doubt", rep, err, tc.wantVoided)
			}
			if n := c.uses(t, c.code); n != tc.wantUses {
				t.Fatalf("the central holds %d uses of the code, want %d", n, tc.wantUses)
			}
			if ds, _ := j.Doubts(ctx); len(ds) != 0 {
				t.Fatalf("still in doubt after the sync: %+v", ds)
			}
		})
	}
}

// lostAnswerTill is a till on db whose lease has ended, with sale d1 of
// alice's code in doubt: the central made it, its answer was lost, and
// the till refused it offline. The central answers again.
func lostAnswerTill(t *testing.T, c *central, db *sql.DB) (*till.Till, *till.Journal) {
	t.Helper()
	ctx := context.Background()
	lose, drop := true, false
	j, err := till.Open(ctx, db, skew, till.WithTill("till-1"))
	if err != nil {
		t.Fatal(err)
	}
	tl, err := till.New(till.Config{ID: "till-1", Journal: j, Central: flaky{Local: till.Local{Engine: c.e}, lose: &lose, drop: &drop},
		Deadline: 200 * time.Millisecond, Now: c.clock.Now, Series: []string{c.s.ID}, Size: func(lease.SizeInput) int64 { return 10 }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tl.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	c.clock.Add(8 * time.Hour) // the till's lease has ended: offline, the sale is refused
	if _, err := tl.Redeem(ctx, c.sale("d1", c.code, "alice"), nil); !errors.Is(err, errcode.ErrNoLease) {
		t.Fatalf("the sale with the central's answer lost and no lease: %v", err)
	}
	lose = false
	return tl, j
}
