// Package tillproc is the fleet example's till: a process with its own
// SQLite file (the till package's journal, and its own record of sales)
// that sells the demo offer through the till package's online-first
// till.Till: each sale is asked of the central first, within a deadline,
// and decided offline within the till's leases, under the same key, when
// the central does not answer. It syncs (till.Till.Sync) when it can. It
// links no PostgreSQL driver (see the layout test).
//
// # Acknowledged sales
//
// A sale's coupon use, its journal entry and the till's record of the
// sale commit in one SQLite transaction (till.Till.Redeem runs the record
// as its hook, online and offline alike); only then does the till append
// "sold <key> <customer> online|offline" to its acks file, with one
// write(2) to a file opened for appending, and count the sale as
// acknowledged. A till killed at any point has therefore journaled every
// sale in its acks file: an offline one is synced, an online one is
// already recorded centrally, and the central records each exactly once.
// A sale whose online answer was lost (the till killed, or cut off, after
// the central made the use and before the till committed it) is asked
// again with the same key: the central answers with its first record, or,
// when it cannot be reached, the till decides the sale offline under that
// key and the central answers the journal's upload with the same record.
//
// A sale the till asked the central in vain and then refused or declined
// offline (no lease left to it, say) is recorded as refused or declined;
// the central may have made its use all the same. till.Till keeps such a
// sale in doubt (till.Journal.Doubts), and its Sync settles it: it asks
// the central again under the sale's key and gives back at once the use
// the central answers with (a reversal keyed by the sale's key and
// "/void"), so that no coupon stays used up by a sale the customer never
// had. A till stopped between keeping a sale in doubt and recording its
// refusal does not try the sale again once its journal holds the key (the
// settlement recorded the central's use under it): it records the attempt
// as declined. At the end the till syncs until it holds no sale in doubt.
//
// A small share of sales are given back (till.Journal.Reverse, for online
// and offline uses alike): the reversal's entry and the mark on the till's
// record of the sale commit together, then "reversed <key> <customer>" is
// appended to the acks file. The journal uploads the reversal after the
// use.
//
// # Leases
//
// till.Till.Sync keeps the till's lease of the offer: it grants one when
// the till has none usable, renews it, and tops it up when fewer than half
// of LeaseUses uses are left. A grant or top-up the series cannot fit
// halves the size asked next; one refused for a single use means the offer
// is sold out, and the till stops selling. At the end the till syncs its
// journal, then returns what it has left of each lease: each return is
// written to the file, with the lease marked returned in the journal,
// before it is sent, and a restarted till sends it again with its key.
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
	"slices"
	"time"

	"github.com/couponkit/couponkit"
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
	// Reverse is the share of sales, in percent, that are given back
	// right after they are acknowledged.
	Reverse int
	// LeaseUses and LeaseFor size the leases the till asks for; Skew is
	// the clock-skew allowance (the till stops using a lease that long
	// before its end).
	LeaseUses int64
	LeaseFor  time.Duration
	Skew      time.Duration
	// Deadline bounds the online decision of a sale; past it the sale is
	// decided offline.
	Deadline time.Duration
	// SyncEvery is how often the till syncs while selling; Pace the
	// pause between two sales; Finish how long it keeps trying to sync
	// and return its leases at the end.
	SyncEvery, Pace, Finish time.Duration
	// Acks is the file acknowledged sales are appended to ("" for none).
	Acks string
	// Log receives the till's log lines.
	Log io.Writer
}

// Summary is what a till did, across its restarts: its sales (Sold, of
// which Online were decided by the central and the others offline, and
// Reversed given back since), the attempts the rules refused, those it
// declined (no lease, or no series configuration, while cut off), how
// many of those two were sales in doubt that Till.Sync voided (asked of
// the central in vain, used there all the same, and given back), and the
// uses it returned at the end.
type Summary struct {
	Till     string `json:"till"`
	Sold     int    `json:"sold"`
	Online   int    `json:"online"`
	Offline  int    `json:"offline"`
	Reversed int    `json:"reversed"`
	Refused  int    `json:"refused"`
	Declined int    `json:"declined"`
	Voided   int    `json:"voided"`
	Returned int64  `json:"returned"`
	SoldOut  bool   `json:"sold_out"`
}

// node is a running till.
type node struct {
	o    Options
	db   *sql.DB
	j    *till.Journal
	t    *till.Till
	c    *central
	acks *os.File
	lg   *log.Logger
	size *sizer

	lastSync time.Time
	soldOut  bool
	returned int64
}

// central is the till's client of the central, which notes the key of
// the last sale the central answered online, so that the sale's record
// (the hook of Till.Redeem, in the same transaction) says how it was
// decided.
type central struct {
	*tillhttp.Client
	answered string
}

// RedeemAtTill asks the central to decide a sale, and notes its key when
// the central answered with a use.
func (c *central) RedeemAtTill(ctx context.Context, req couponkit.TillRedeemRequest) (couponkit.TillRedeemResult, error) {
	res, err := c.Client.RedeemAtTill(ctx, req)
	if err == nil {
		c.answered = req.Key
	}
	return res, err
}

// Run runs the till until it has made o.Sales sale attempts (or the offer
// is sold out), synced its journal and returned its leases' leftovers.
func Run(ctx context.Context, o Options) (Summary, error) {
	n, err := open(ctx, o)
	if err != nil {
		return Summary{}, err
	}
	defer n.close()
	for !n.soldOut {
		a, err := nextAttempt(ctx, n.db)
		if err != nil {
			return Summary{}, err
		}
		if a > o.Sales {
			break
		}
		if time.Since(n.lastSync) >= o.SyncEvery {
			if err := n.sync(ctx); err != nil {
				return Summary{}, err
			}
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

// open opens the till's file, its journal, its client and its till.
func open(ctx context.Context, o Options) (*node, error) {
	db, err := sqlite.OpenDB(ctx, o.File)
	if err != nil {
		return nil, err
	}
	n := &node{o: o, db: db, lg: log.New(o.Log, "till "+o.Till+": ", log.Lmicroseconds), size: newSizer(o.LeaseUses)}
	if err := n.openParts(ctx); err != nil {
		n.close()
		return nil, err
	}
	return n, nil
}

func (n *node) openParts(ctx context.Context) error {
	var err error
	o := n.o
	if n.j, err = till.Open(ctx, n.db, o.Skew, till.WithTill(o.Till)); err != nil {
		return err
	}
	if _, err := n.db.ExecContext(ctx, stateSchema); err != nil {
		return fmt.Errorf("tillproc: creating the till's tables: %w", err)
	}
	if o.Acks != "" {
		if n.acks, err = os.OpenFile(o.Acks, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err != nil {
			return err
		}
	}
	n.c = &central{Client: &tillhttp.Client{BaseURL: o.Central, Till: o.Till, Secret: []byte(o.Secret),
		HTTP: &http.Client{}, Timeout: time.Second, Retries: 1, Backoff: 50 * time.Millisecond}}
	n.t, err = till.New(till.Config{ID: o.Till, Journal: n.j, Central: n.c, Deadline: o.Deadline,
		Size: n.size.size, LeaseFor: o.LeaseFor, Series: []string{o.SeriesID}})
	return err
}

func (n *node) close() {
	if n.acks != nil {
		n.acks.Close()
	}
	n.db.Close()
}

// use is the sale of attempt a: a customer with the offer's code, a bill
// of 20 to 79.99 EUR. Its key is the till's and the attempt's: a sale
// attempted again after a restart has the same key (and another time).
func (n *node) use(a int) till.Sale {
	x := n.hash(a)
	k := n.o.From + int(x%uint64(n.o.To-n.o.From+1))
	cents := 2000 + int(x>>32%6000)
	return till.Sale{Key: fmt.Sprintf("%s-%d", n.o.Till, a), SeriesID: n.o.SeriesID, Code: offer.Code, Customer: offer.Customer(k),
		Bill: fmt.Sprintf("%d.%02d", cents/100, cents%100), Currency: "EUR", At: time.Now().UTC()}
}

func (n *node) hash(a int) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%d", n.o.Till, a)
	return h.Sum64()
}

// sale makes sale attempt a, records its outcome and acknowledges it; a
// share of the sales are given back. Only a failure of the till itself
// (its file) is returned.
func (n *node) sale(ctx context.Context, a int) error {
	u := n.use(a)
	if _, found, err := n.j.Entry(ctx, u.Key); err != nil || found {
		// Only the settlement of a sale in doubt journals a key without
		// the attempt's record: this attempt, refused or declined before
		// the till stopped, and voided since.
		if err != nil {
			return err
		}
		n.lg.Printf("sale %s was settled as in doubt before its refusal was recorded", u.Key)
		return recordAttempt(ctx, n.db, a, declined, u.Key, u.Code, false)
	}
	n.c.answered = ""
	hook := func(tx *sql.Tx) error {
		return recordAttempt(ctx, tx, a, sold, u.Key, u.Code, n.c.answered == u.Key)
	}
	res, err := n.t.Redeem(ctx, u, hook)
	if errors.Is(err, errcode.ErrUnavailable) && n.fetchSeries(ctx) == nil {
		res, err = n.t.Redeem(ctx, u, hook)
	}
	var re *refusal.Error
	switch {
	case err == nil:
		if err := n.ack("sold", u.Key, u.Customer, map[bool]string{true: "online", false: "offline"}[res.Online]); err != nil {
			return err
		}
		if int(n.hash(-a)%100) < n.o.Reverse {
			return n.reverse(ctx, u)
		}
		return nil
	case errors.As(err, &re), errors.Is(err, errcode.ErrLimitReached):
		// Final, online or offline: a refusal by the rules (or a limit
		// the central found reached by a concurrent use) asks for no
		// lease. The series' limit refusing it (the till holds no lease
		// with a use left) makes the till sync at once.
		if re == nil || slices.ContainsFunc(re.Refusals, func(r refusal.Refusal) bool { return r.Rule == refusal.SeriesLimit }) {
			n.lastSync = time.Time{}
		}
		return recordAttempt(ctx, n.db, a, refused, u.Key, u.Code, false)
	case errors.Is(err, errcode.ErrNoLease), errors.Is(err, errcode.ErrUnavailable), errors.Is(err, errcode.ErrAllowanceExceeded):
		return recordAttempt(ctx, n.db, a, declined, u.Key, u.Code, false)
	}
	return err
}

// reverse gives back the sale u just acknowledged (the customer brought
// the goods back) and acknowledges the reversal.
func (n *node) reverse(ctx context.Context, u till.Sale) error {
	err := n.giveBack(ctx, u.Key)
	if errors.Is(err, errcode.ErrUnavailable) {
		n.lg.Printf("sale %s not given back: %v", u.Key, err)
		return nil // an online use on no lease, and the till holds none to report it under
	}
	if err != nil {
		return err
	}
	return n.ack("reversed", u.Key, u.Customer)
}

// giveBack reverses the use of key through the journal, whether the
// central decided it online or the till offline, and marks its sale
// given back in the same transaction.
func (n *node) giveBack(ctx context.Context, key string) error {
	r := till.Reversal{Key: key + "-r", Reverses: key, At: time.Now().UTC()}
	_, err := n.j.Reverse(ctx, r, func(tx *sql.Tx) error { return markReversed(ctx, tx, key) })
	return err
}

// ack appends an acknowledged sale or reversal to the acks file, in one
// write.
func (n *node) ack(fields ...any) error {
	if n.acks == nil {
		return nil
	}
	_, err := n.acks.WriteString(fmt.Sprintln(fields...))
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

// summary reads what the till did from its file.
func (n *node) summary(ctx context.Context) (Summary, error) {
	c, err := counts(ctx, n.db)
	if err != nil {
		return Summary{}, err
	}
	voided, err := voidedCount(ctx, n.db, n.j)
	return Summary{Till: n.o.Till, Sold: c.sold, Online: c.online, Offline: c.sold - c.online, Reversed: c.reversed,
		Refused: c.refused, Declined: c.declined, Voided: voided, Returned: n.returned, SoldOut: n.soldOut}, err
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
