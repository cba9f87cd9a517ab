// Command pos is a till that keeps its own SQLite file and survives a crash
// in the middle of a sale. Every sale gets the idempotency key
// "<till>-<sale number>"; the till writes the sale (number, code, customer,
// bill) to its file BEFORE it sends the redemption, and marks it done after
// the answer. A till that restarts with a sale still open sends it again
// with the same key: the engine answers with the first redemption
// (Replayed), and the coupon is used exactly once.
//
//	go run ./examples/pos
//
// The database is a file in a temporary directory, removed at the end; pass
// -db to keep it somewhere.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store/sqlite"
)

func main() {
	db := flag.String("db", "", "SQLite file to use (default: a temporary file, removed at exit)")
	flag.Parse()
	path := *db
	if path == "" {
		dir, err := os.MkdirTemp("", "couponkit-pos")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "till.db")
	}
	start := time.Date(2026, time.November, 18, 12, 0, 0, 0, time.UTC)
	if err := run(context.Background(), os.Stdout, path, start); err != nil {
		log.Fatal(err)
	}
}

// tillTable is the till's own state, kept in the store's SQLite file: its
// last sale number and whether that sale's answer was recorded.
const tillTable = `CREATE TABLE IF NOT EXISTS pos_till (
	till     TEXT PRIMARY KEY,
	sale     INTEGER NOT NULL,
	code     TEXT NOT NULL,
	customer TEXT NOT NULL,
	bill     TEXT NOT NULL,
	done     INTEGER NOT NULL
) STRICT`

// sale is the till's current (or last) sale as persisted.
type sale struct {
	n              int64
	code, customer string
	bill           decimal.Decimal
	done           bool
}

// till is one point of sale: an engine, its id and its sale counter.
type till struct {
	eng   *couponkit.Engine
	db    *sql.DB
	place limits.Place
	last  sale
}

// openTill loads till id's state from db, creating its table if needed.
func openTill(ctx context.Context, eng *couponkit.Engine, db *sql.DB, id string) (*till, error) {
	if _, err := db.ExecContext(ctx, tillTable); err != nil {
		return nil, err
	}
	t := &till{eng: eng, db: db, place: limits.Place{Till: id, Store: "store-12", Zone: "north"}, last: sale{done: true}}
	var bill string
	err := db.QueryRowContext(ctx, "SELECT sale, code, customer, bill, done FROM pos_till WHERE till = $1", id).
		Scan(&t.last.n, &t.last.code, &t.last.customer, &bill, &t.last.done)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return t, nil
	case err != nil:
		return nil, err
	}
	t.last.bill, err = decimal.NewFromString(bill)
	return t, err
}

// key is the idempotency key of sale n.
func (t *till) key(n int64) string { return fmt.Sprintf("%s-%d", t.place.Till, n) }

// begin numbers a new sale and persists it before anything is sent.
func (t *till) begin(ctx context.Context, code, customer string, bill decimal.Decimal) error {
	s := sale{n: t.last.n + 1, code: code, customer: customer, bill: bill}
	_, err := t.db.ExecContext(ctx, `INSERT INTO pos_till (till, sale, code, customer, bill, done) VALUES ($1, $2, $3, $4, $5, 0)
		ON CONFLICT (till) DO UPDATE SET sale = excluded.sale, code = excluded.code, customer = excluded.customer, bill = excluded.bill, done = 0`,
		t.place.Till, s.n, s.code, s.customer, s.bill.String())
	if err == nil {
		t.last = s
	}
	return err
}

// send sends the open sale's redemption with the sale's key.
func (t *till) send(ctx context.Context) (couponkit.RedeemResult, error) {
	return t.eng.Redeem(ctx, couponkit.RedeemRequest{
		Code: t.last.code, Customer: couponkit.ByID(t.last.customer), IdempotencyKey: t.key(t.last.n),
		Bill: series.Money{Amount: t.last.bill, Currency: "EUR"}, Place: t.place, Actor: t.place.Till,
	})
}

// finish records that the open sale's answer arrived.
func (t *till) finish(ctx context.Context) error {
	_, err := t.db.ExecContext(ctx, "UPDATE pos_till SET done = 1 WHERE till = $1 AND sale = $2", t.place.Till, t.last.n)
	if err == nil {
		t.last.done = true
	}
	return err
}

// sell is one sale: persist it, redeem, record the answer.
func (t *till) sell(ctx context.Context, code, customer string, bill decimal.Decimal) (couponkit.RedeemResult, error) {
	if err := t.begin(ctx, code, customer, bill); err != nil {
		return couponkit.RedeemResult{}, err
	}
	return t.resume(ctx)
}

// resume sends the open sale (again, after a restart) with its own key
// and records the answer.
func (t *till) resume(ctx context.Context) (couponkit.RedeemResult, error) {
	if t.last.done {
		return couponkit.RedeemResult{}, errors.New("no sale in flight")
	}
	r, err := t.send(ctx)
	if err != nil {
		return r, err
	}
	return r, t.finish(ctx)
}

// open opens the SQLite file at path with a migrated store and an engine
// whose clock reads *now.
func open(ctx context.Context, path string, now *time.Time) (*sql.DB, *couponkit.Engine, error) {
	db, err := sqlite.OpenDB(ctx, path)
	if err != nil {
		return nil, nil, err
	}
	st := sqlite.New(db)
	if err := st.Migrate(ctx); err != nil {
		db.Close()
		return nil, nil, err
	}
	eng, err := couponkit.New(couponkit.Config{
		Store:   st,
		Now:     func() time.Time { return *now },
		CodeKey: func(context.Context, string) ([]byte, error) { return []byte("pos demo key, not secret"), nil },
	})
	if err != nil {
		db.Close()
	}
	return db, eng, err
}

// run is the demo: a sale crashes after its redemption committed, the till
// restarts from the same file and resends the sale with the same key.
func run(ctx context.Context, w io.Writer, path string, start time.Time) error {
	say := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	now := start
	db, eng, err := open(ctx, path, &now)
	if err != nil {
		return err
	}
	defer func() { db.Close() }() // db is replaced on restart
	s, err := eng.CreateSeries(ctx, series.Series{
		Name: "Till 10%", TimeZone: "Europe/Berlin",
		Source:   series.Source{Kind: series.Generated, Length: 8, Alphabet: series.ConfusionFree, CheckChar: true, Prefix: "T"},
		Expiry:   series.Expiry{Kind: series.DaysFromIssue, N: 14},
		Discount: series.Discount{Kind: series.Percent, Percent: decimal.NewFromInt(10), Currency: "EUR"},
	})
	if err != nil {
		return err
	}
	codes := map[string]string{}
	for _, who := range []string{"ana", "ben"} {
		iss, err := eng.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID(who), Actor: "crm"})
		if err != nil {
			return err
		}
		codes[who] = iss.Coupon.Code
		say("issued %s to %s (series %q, 10%% off)", iss.Coupon.Code, who, s.Name)
	}
	code := codes["ana"]

	t, err := openTill(ctx, eng, db, "till-7")
	if err != nil {
		return err
	}
	say("till-7 opened, last sale %d", t.last.n)
	bill := decimal.RequireFromString("52.00")
	if err := t.begin(ctx, code, "ana", bill); err != nil {
		return err
	}
	first, err := t.send(ctx)
	if err != nil {
		return err
	}
	say("sale %d sent as %s: redemption %s committed, discount %s", t.last.n, t.key(t.last.n), first.Redemption.ID, first.Discount)
	// Crash: the till dies before recording the answer.
	if err := db.Close(); err != nil {
		return err
	}
	t, eng = nil, nil
	say("crash: till-7 died before recording the answer")

	now = now.Add(2 * time.Minute)
	if db, eng, err = open(ctx, path, &now); err != nil {
		return err
	}
	if t, err = openTill(ctx, eng, db, "till-7"); err != nil {
		return err
	}
	say("till-7 restarted: sale %d in flight=%v, resending as %s", t.last.n, !t.last.done, t.key(t.last.n))
	again, err := t.resume(ctx)
	if err != nil {
		return err
	}
	say("resent: replayed=%v, same redemption=%v, discount %s", again.Replayed, again.Redemption.ID == first.Redemption.ID, again.Discount)

	d, err := eng.Coupon(ctx, s.ID, code, couponkit.CustomerRef{})
	if err != nil {
		return err
	}
	cs, err := eng.Counters(ctx, s.ID)
	if err != nil {
		return err
	}
	say("coupon %s is %s: %d redemption record(s), redeemed %d time(s); series uses %d", d.Code, d.Now, len(d.Uses), d.Coupon.Redemptions, cs.Uses)

	// The next sale continues the numbering: a new key, a new redemption.
	next, err := t.sell(ctx, codes["ben"], "ben", decimal.RequireFromString("30.00"))
	if err != nil {
		return err
	}
	say("next sale %d as %s: ben's %s, discount %s, replayed=%v", t.last.n, t.key(t.last.n), next.Coupon.Code, next.Discount, next.Replayed)
	return nil
}
