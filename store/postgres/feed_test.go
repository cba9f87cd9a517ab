package postgres_test

import (
	"database/sql"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/internal/sqltest"
)

// TestFeedLateCommit forces the hole a plain sequence leaves: a
// transaction draws its event's number, then stays open while 32 writers
// draw larger numbers and commit. A reader following the feed meanwhile
// gets none of the 32 writers' events (the fence holds them back behind
// the open transaction); once it commits, the reader gets its event and
// then theirs, each once. A reader that read by number alone would have
// passed the late event's number before it committed: the test checks
// that, so that it proves the fence and not a lucky order.
func TestFeedLateCommit(t *testing.T) {
	const writers = 32
	s := open(t)
	e := sqltest.NewEngine(t, s, t0)
	sr, err := e.CreateSeries(ctx, sqltest.RedeemSeries("", 0))
	if err != nil {
		t.Fatal(err)
	}
	sqltest.IssuedCoupons(t, s, sr.ID, writers+1, t0)
	// The late transaction redeems in a series of its own, so that it
	// holds no lock the writers wait for.
	lateSeries, err := e.CreateSeries(ctx, sqltest.RedeemSeries("", 0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.InsertCoupons(ctx, []coupon.Coupon{sqltest.Issued("late-coupon", lateSeries.ID, "LATE1", "late-cust")}, nil); err != nil {
		t.Fatal(err)
	}
	start := sqltest.Settled(t, s).Next

	// The late transaction: its redemption's event takes the next number.
	tx, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	lateReq := sqltest.RedeemReq(0, "late")
	lateReq.Code, lateReq.Customer.ID = "LATE1", "late-cust"
	late, err := sqltest.NewEngine(t, s.WithTx(tx), t0).Redeem(ctx, lateReq)
	if err != nil {
		t.Fatal(err)
	}
	lateSeq := seqOf(t, tx, late.Redemption.ID)

	// A reader follows the feed from start throughout.
	var stop atomic.Bool
	var followed []store.FeedEvent
	var wg sync.WaitGroup
	wg.Go(func() { followed = follow(t, s, start, &stop) })

	var ww sync.WaitGroup
	for i := 1; i <= writers; i++ {
		ww.Go(func() {
			if _, err := e.Redeem(ctx, sqltest.RedeemReq(i, fmt.Sprintf("w%d", i))); err != nil {
				t.Errorf("writer %d: %v", i, err)
			}
		})
	}
	ww.Wait()
	if t.Failed() {
		stop.Store(true)
		wg.Wait()
		t.FailNow()
	}
	// All 32 are committed with numbers above the late one's: a reader by
	// number would read them and pass the late one's number.
	var above int
	if err := s.DB().QueryRowContext(ctx, "SELECT count(*) FROM ck_events WHERE seq > $1", lateSeq).Scan(&above); err != nil {
		t.Fatal(err)
	}
	if above != writers {
		t.Fatalf("setup: %d committed events numbered after the open transaction's %d; want %d", above, lateSeq, writers)
	}
	if got, _, err := s.EventsAfter(ctx, start, 0); err != nil || len(got) != 0 {
		t.Fatalf("while the late transaction is open the feed returned %d events (%v); want none: the writers' events wait behind it", len(got), err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	sqltest.Settled(t, s)
	got := sqltest.ReadFeed(t, s, start).Events
	stop.Store(true)
	wg.Wait()
	if len(got) != writers+1 || got[0].Event.RedemptionID != late.Redemption.ID {
		t.Fatalf("after the late commit the feed holds %d events after the start; want %d, the late transaction's first (its id is the smallest)", len(got), writers+1)
	}
	same := func(a, b store.FeedEvent) bool { return a.Position == b.Position && a.Event.ID == b.Event.ID }
	if !slices.EqualFunc(followed, got, same) {
		t.Errorf("the reader that followed the feed throughout read %d events; the feed holds %d: every event once, in position order", len(followed), len(got))
	}
}

// seqOf returns the number of the event of redemption id, read in tx.
func seqOf(t *testing.T, tx *sql.Tx, id string) int64 {
	t.Helper()
	var seq int64
	if err := tx.QueryRowContext(ctx, "SELECT seq FROM ck_events WHERE redemption_id = $1", id).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	return seq
}

// follow reads the feed from start in reads of three until stop is set
// and a read after it finds nothing.
func follow(t *testing.T, s store.Store, start store.Position, stop *atomic.Bool) []store.FeedEvent {
	var out []store.FeedEvent
	pos := start
	for {
		done := stop.Load()
		got, next, err := s.EventsAfter(ctx, pos, 3)
		if err != nil {
			t.Errorf("following the feed: %v", err)
			return out
		}
		out, pos = append(out, got...), next
		if len(got) == 0 {
			if done {
				return out
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// The feed orders transaction ids as numbers: an event of transaction 9
// comes before one of transaction 10 (and 10 before 100), whatever their
// numbers and however the ids read as text.
func TestFeedOrdersTransactionsAsNumbers(t *testing.T) {
	s := open(t)
	for _, r := range []struct{ id, tx string }{{"tx100", "100"}, {"tx10", "10"}, {"tx9", "9"}} {
		if _, err := s.DB().ExecContext(ctx, "INSERT INTO ck_events (id, kind, coupon_id, series_id, code, customer, actor, reason, "+
			"counterparty, redemption_id, old_code, new_code, new_coupon_id, notify, tx) "+
			"VALUES ($1, 1, 'c', 's', 'C', '', '', '', '', '', '', '', '', false, $2::text::xid8)", r.id, r.tx); err != nil {
			t.Fatal(err)
		}
	}
	got := sqltest.Settled(t, s)
	var ids []string
	for _, fe := range got.Events {
		ids = append(ids, fe.Event.ID)
	}
	if !slices.Equal(ids, []string{"tx9", "tx10", "tx100"}) {
		t.Errorf("the feed lists %v; want the events by transaction id as a number: tx9, tx10, tx100", ids)
	}
	if hi, _ := got.Next.Parts(); hi != 100 {
		t.Errorf("the feed ends at %s; want transaction 100's event", got.Next)
	}
	if after, _, err := s.EventsAfter(ctx, got.Events[0].Position, 0); err != nil || len(after) != 2 || after[0].Event.ID != "tx10" {
		t.Errorf("after transaction 9's event: %d events, %v", len(after), err)
	}
}

// BenchmarkFeedRead: see sqltest.BenchFeedRead.
func BenchmarkFeedRead(b *testing.B) { sqltest.BenchFeedRead(b, backend) }
