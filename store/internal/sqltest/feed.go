package sqltest

import (
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/internal/sqlcore"
)

// FeedRead is what a read of a feed to its end returned.
type FeedRead struct {
	Events []store.FeedEvent
	Next   store.Position
}

// ReadFeed reads the feed of s after from to its end now, in reads of 100.
func ReadFeed(t testing.TB, s store.Store, from store.Position) FeedRead {
	t.Helper()
	r := FeedRead{Next: from}
	for {
		got, next, err := s.EventsAfter(ctx, r.Next, 100)
		if err != nil {
			t.Fatal(err)
		}
		r.Events, r.Next = append(r.Events, got...), next
		if len(got) < 100 {
			return r
		}
	}
}

// Settled waits until the feed of s holds every event s keeps, at most a
// minute, and returns all of it. The feed of PostgreSQL lags behind any
// transaction open on the server, other tests' too: the tests wait for it
// rather than take the lag for a loss.
func Settled(t testing.TB, s store.Store) FeedRead {
	t.Helper()
	all, err := s.Events(ctx, store.EventQuery{})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		r := ReadFeed(t, s, store.Position{})
		if len(r.Events) >= len(all) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a minute the feed holds %d events; the store keeps %d", len(r.Events), len(all))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// IsField reports whether err holds an *errcode.Error with the code and
// field.
func IsField(err error, code errcode.Code, field string) bool {
	var ce *errcode.Error
	return errors.As(err, &ce) && ce.Code == code && ce.Field == field
}

// testFeedPositionForms: a position of a form the database never makes is
// refused as an InvalidArgument on "Position", and one beyond any event as
// from the future, on reads and on saved checkpoints.
func testFeedPositionForms(t *testing.T, be Backend) {
	s := be.Open(t)
	ev := coupon.Event{ID: "e1", Kind: coupon.EventCreated, CouponID: "c1", At: t0}
	if err := s.Apply(ctx, &store.Change{Events: []coupon.Event{ev}}); err != nil {
		t.Fatal(err)
	}
	head := Settled(t, s).Next
	hi, lo := head.Parts()
	cp := s.(store.Checkpointer)
	foreign := store.MakePosition(0, 5) // PostgreSQL's positions name a transaction
	future := []store.Position{store.MakePosition(hi, 1<<63), store.MakePosition(hi, lo+1), store.MakePosition(1<<63, lo)}
	if be.Name == "sqlite" {
		if hi != 0 {
			t.Errorf("an SQLite position has a high part: %s", head)
		}
		foreign, future = store.MakePosition(7, lo), future[:2] // SQLite's have no high part
	}
	if _, _, err := s.EventsAfter(ctx, foreign, 1); !IsField(err, errcode.InvalidArgument, "Position") {
		t.Errorf("EventsAfter(%s) = %v; want InvalidArgument on Position", foreign, err)
	}
	if err := cp.SaveCheckpoint(ctx, "c", foreign); !IsField(err, errcode.InvalidArgument, "Position") {
		t.Errorf("SaveCheckpoint(%s) = %v; want InvalidArgument on Position", foreign, err)
	}
	for _, p := range future {
		if _, _, err := s.EventsAfter(ctx, p, 1); !errors.Is(err, errcode.ErrFuturePosition) {
			t.Errorf("EventsAfter(%s) = %v; want FuturePosition", p, err)
		}
		if err := cp.SaveCheckpoint(ctx, "c", p); !errors.Is(err, errcode.ErrFuturePosition) {
			t.Errorf("SaveCheckpoint(%s) = %v; want FuturePosition", p, err)
		}
	}
}

// testMigrateFeedFromVersion5: events written before the feed's schema
// step are on the feed afterwards, in the order they were written, and
// the events written after it follow them.
func testMigrateFeedFromVersion5(t *testing.T, be Backend) {
	db := be.OpenDB(t)
	ms, err := sqlcore.ReadMigrations(be.Migrations)
	if err != nil || len(ms) < 6 || ms[4].Version != 5 {
		t.Fatalf("migrations: %v", err)
	}
	setup := []string{sqlcore.MigrationsTable}
	for _, m := range ms[:5] {
		setup = append(setup, m.Stmts...)
		setup = append(setup, "INSERT INTO ck_migrations (version, name, applied_at) VALUES ("+strconv.Itoa(m.Version)+", '"+m.Name+"', 0)")
	}
	for i := range 3 {
		setup = append(setup, fmt.Sprintf("INSERT INTO ck_events (id, kind, coupon_id, series_id, code, customer, actor, happened_at, "+
			"reason, counterparty, redemption_id, old_code, new_code, new_coupon_id, notify) "+
			"VALUES ('old%d', 1, 'c', 's', 'C', '', '', 0, '', '', '', '', '', '', false)", i))
	}
	for _, st := range setup {
		if _, err := db.ExecContext(ctx, st); err != nil {
			t.Fatalf("setting up version 5: %s: %v", st, err)
		}
	}
	s := be.New(db)
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ev := coupon.Event{ID: "new", Kind: coupon.EventCreated, CouponID: "c", At: t0}
	if err := s.Apply(ctx, &store.Change{Events: []coupon.Event{ev}}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, fe := range Settled(t, s).Events {
		ids = append(ids, fe.Event.ID)
	}
	if fmt.Sprint(ids) != "[old0 old1 old2 new]" {
		t.Errorf("after the feed's schema step the feed lists %v; want the older events in their order, then the new", ids)
	}
}

// BenchFeedRead is the benchmark FeedRead of each database: it reads a
// feed of 20,000 events from its start in reads of 1,000 and reports
// events read per second.
func BenchFeedRead(b *testing.B, be Backend) {
	const events, batch = 20000, 1000
	s := be.Open(b)
	for from := 0; from < events; from += batch {
		evs := make([]coupon.Event, batch)
		for i := range evs {
			evs[i] = coupon.Event{ID: fmt.Sprintf("e%d", from+i), Kind: coupon.EventRedeemed, CouponID: fmt.Sprintf("c%d", (from+i)%977),
				SeriesID: "s", Code: "CODE", Customer: "cust", Actor: "till", At: t0, RedemptionID: fmt.Sprintf("r%d", from+i)}
		}
		if err := s.Apply(ctx, &store.Change{Events: evs}); err != nil {
			b.Fatal(err)
		}
	}
	Settled(b, s)
	b.ResetTimer()
	n := 0
	for b.Loop() {
		pos := store.Position{}
		for {
			got, next, err := s.EventsAfter(ctx, pos, batch)
			if err != nil {
				b.Fatal(err)
			}
			n, pos = n+len(got), next
			if len(got) < batch {
				break
			}
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}
