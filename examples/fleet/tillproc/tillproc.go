// Package tillproc is the fleet example's till: a process with its own
// SQLite file (the till package's journal, and its own record of sales)
// that leases uses of the demo offer from the central, sells through its
// journal whether the central answers or not, and syncs when it can. It
// links no PostgreSQL driver (see the layout test).
//
// # Acknowledged sales
//
// A sale's coupon use, its journal entry and the till's record of the
// sale commit in one SQLite transaction; only then does the till append
// "sold <key> <customer>" to its acks file, with one write(2) to a
// file opened for appending, and count the sale as acknowledged. A till
// killed at any point has therefore journaled every sale in its acks
// file: each will be synced, and the central records it exactly once.
// (A sale committed but killed before its line is synced all the same;
// it was just never acknowledged.)
//
// # Leases
//
// The till asks for a lease of LeaseUses uses for LeaseFor whenever it has
// fewer than half that many usable and can reach the central, and when a
// sale finds none. A grant the series cannot fit is asked again for half
// as many; one refused for a single use means the offer is sold out, and
// the till stops. Every lease call's key is written to the file before it
// is sent, and a restarted till sends an unanswered call again with it. At
// the end the till syncs its journal, then returns what it has left of
// each lease.
package tillproc

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/examples/fleet/offer"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/store/sqlite"
	"github.com/couponkit/couponkit/till"
	"github.com/couponkit/couponkit/till/tillhttp"
)

// Options configure a till process.
type Options struct {
	// Central is the central's base URL; Till and Secret the till's id
	// and secret there.
	Central, Till, Secret string
	// File is the till's SQLite file; a restarted till goes on from it.
	File     string
	SeriesID string
	// Sales is how many sale attempts the till makes in all, across
	// restarts; at attempt n, customer number From + (a hash of the till
	// and n) mod (To - From + 1) brings the offer's code.
	Sales    int
	From, To int
	// LeaseUses and LeaseFor size the leases the till asks for; Skew is
	// the clock-skew allowance (the till stops using a lease that long
	// before its end).
	LeaseUses int64
	LeaseFor  time.Duration
	Skew      time.Duration
	// SyncEvery is how often the till syncs its journal while selling;
	// Pace the pause between two sales; Finish how long it keeps trying
	// to sync and return its leases at the end.
	SyncEvery, Pace, Finish time.Duration
	// Acks is the file acknowledged sales are appended to ("" for none).
	Acks string
	// Log receives the till's log lines.
	Log io.Writer
}

// Summary is what a till did, across its restarts.
type Summary struct {
	Till     string `json:"till"`
	Sold     int    `json:"sold"`
	Refused  int    `json:"refused"`
	Declined int    `json:"declined"`
	Returned int64  `json:"returned"`
	SoldOut  bool   `json:"sold_out"`
}

// Seller makes the coupon use of one sale and runs hook in the same
// transaction (the till's own record of the sale).
type Seller func(ctx context.Context, u till.Use, hook func(*sql.Tx) error) (till.Entry, error)

// node is a running till.
type node struct {
	o    Options
	db   *sql.DB
	j    *till.Journal
	c    *tillhttp.Client
	acks *os.File
	lg   *log.Logger
	// sell is the one step a sale goes through: today the journal's
	// offline decision (Journal.Redeem), which every sale takes; an
	// online-first till would decide at the central when it answers and
	// fall back to the journal when it does not, with the same key.
	sell     Seller
	lastSync time.Time
	soldOut  bool
	returned int64
}

// Run runs the till until it has made o.Sales sale attempts (or the offer
// is sold out), synced its journal and returned its leases' leftovers.
func Run(ctx context.Context, o Options) (Summary, error) {
	n, err := open(ctx, o)
	if err != nil {
		return Summary{}, err
	}
	defer n.close()
	if err := n.fetchSeries(ctx); err != nil {
		n.lg.Printf("no series configuration yet: %v", err)
	}
	for !n.soldOut {
		a, err := nextAttempt(ctx, n.db)
		if err != nil {
			return Summary{}, err
		}
		if a > o.Sales {
			break
		}
		if time.Since(n.lastSync) >= o.SyncEvery {
			n.syncAndLease(ctx)
		}
		if err := n.sale(ctx, a); err != nil {
			return Summary{}, err
		}
		if err := sleep(ctx, o.Pace); err != nil {
			return Summary{}, err
		}
	}
	if err := n.finish(ctx); err != nil {
		return Summary{}, err
	}
	return n.summary(ctx)
}

// open opens the till's file, its journal and its client.
func open(ctx context.Context, o Options) (*node, error) {
	db, err := sqlite.OpenDB(ctx, o.File)
	if err != nil {
		return nil, err
	}
	n := &node{o: o, db: db, lg: log.New(o.Log, "till "+o.Till+": ", log.Lmicroseconds)}
	if n.j, err = till.Open(ctx, db, o.Skew); err != nil {
		db.Close()
		return nil, err
	}
	if _, err := db.ExecContext(ctx, stateSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("tillproc: creating the till's tables: %w", err)
	}
	if o.Acks != "" {
		if n.acks, err = os.OpenFile(o.Acks, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err != nil {
			db.Close()
			return nil, err
		}
	}
	n.c = &tillhttp.Client{BaseURL: o.Central, Till: o.Till, Secret: []byte(o.Secret),
		HTTP: &http.Client{}, Timeout: time.Second, Retries: 1, Backoff: 50 * time.Millisecond}
	n.sell = n.j.Redeem
	return n, nil
}

func (n *node) close() {
	if n.acks != nil {
		n.acks.Close()
	}
	n.db.Close()
}

// use is the sale of attempt a: a customer with the offer's code, a bill
// of 20 to 79.99 EUR.
func (n *node) use(a int) till.Use {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%d", n.o.Till, a)
	x := h.Sum64()
	k := n.o.From + int(x%uint64(n.o.To-n.o.From+1))
	cents := 2000 + int(x>>32%6000)
	return till.Use{Key: fmt.Sprintf("%s-%d", n.o.Till, a), SeriesID: n.o.SeriesID, Code: offer.Code, Customer: offer.Customer(k),
		Bill: fmt.Sprintf("%d.%02d", cents/100, cents%100), Currency: "EUR", At: time.Now().UTC()}
}

// sale makes sale attempt a and records its outcome. Only a failure of
// the till itself (its file) is returned.
func (n *node) sale(ctx context.Context, a int) error {
	u := n.use(a)
	hook := func(tx *sql.Tx) error { return recordAttempt(ctx, tx, a, sold, u.Key, u.Code) }
	_, err := n.sell(ctx, u, hook)
	// A refusal by the rules matches errcode sentinels too (a customer
	// level is a LimitReached): it is final, and asks for no lease.
	var re *refusal.Error
	if errors.As(err, &re) {
		return recordAttempt(ctx, n.db, a, refused, u.Key, u.Code)
	}
	if errors.Is(err, errcode.ErrUnavailable) && n.fetchSeries(ctx) == nil {
		_, err = n.sell(ctx, u, hook)
	}
	if errors.Is(err, errcode.ErrNoLease) && !n.soldOut && n.lease(ctx) == nil {
		_, err = n.sell(ctx, u, hook)
	}
	switch {
	case err == nil:
		return n.ack(u)
	case errors.As(err, &re):
		return recordAttempt(ctx, n.db, a, refused, u.Key, u.Code)
	case errors.Is(err, errcode.ErrNoLease), errors.Is(err, errcode.ErrUnavailable):
		return recordAttempt(ctx, n.db, a, declined, u.Key, u.Code)
	}
	return err
}

// ack appends the acknowledged sale u to the acks file, in one write.
func (n *node) ack(u till.Use) error {
	if n.acks == nil {
		return nil
	}
	_, err := n.acks.WriteString(fmt.Sprintf("sold %s %s\n", u.Key, u.Customer))
	return err
}

// fetchSeries keeps the series' configuration from the central.
func (n *node) fetchSeries(ctx context.Context) error {
	s, err := n.c.Series(ctx, n.o.SeriesID)
	if err != nil {
		return err
	}
	return n.j.PutSeries(ctx, s)
}

// syncAndLease syncs the journal and, when that worked and the till runs
// low, asks for another lease. Failures mean the central is out of reach:
// the till sells on.
func (n *node) syncAndLease(ctx context.Context) {
	n.lastSync = time.Now()
	if _, err := n.j.Sync(ctx, n.o.Till, n.c, 100); err != nil {
		return
	}
	if left, err := n.usable(ctx); err == nil && left < n.o.LeaseUses/2 && !n.soldOut {
		_ = n.lease(ctx)
	}
}

// usable is how many uses the till's leases have left that it may still
// use by its clock.
func (n *node) usable(ctx context.Context) (int64, error) {
	ls, err := leases(ctx, n.db)
	if err != nil {
		return 0, err
	}
	var sum int64
	for _, l := range ls {
		if !time.Now().Before(l.End.Add(-n.o.Skew)) {
			continue
		}
		left, err := n.j.Left(ctx, l.ID)
		if err != nil {
			return 0, err
		}
		sum += left
	}
	return sum, nil
}

// summary reads what the till did from its file.
func (n *node) summary(ctx context.Context) (Summary, error) {
	c, err := counts(ctx, n.db)
	return Summary{Till: n.o.Till, Sold: c[sold], Refused: c[refused], Declined: c[declined], Returned: n.returned, SoldOut: n.soldOut}, err
}

// String is the summary as one line of JSON.
func (s Summary) String() string {
	b, _ := json.Marshal(s)
	return string(b)
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// refusedBy reports whether err is the central's answer refusing a call,
// rather than a failure to reach it.
func refusedBy(err error) bool {
	switch errcode.CodeOf(err) {
	case 0, errcode.Unavailable, errcode.Conflict:
		return false
	}
	return true
}
