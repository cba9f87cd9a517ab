package sqlcore

import (
	"database/sql"
	"strings"

	"github.com/couponkit/couponkit/store"
)

// Bulk changes written a dialect's own way.
//
// A dialect that loads rows faster than any INSERT (PostgreSQL's COPY)
// writes the new rows of a large change so: its coupons, its events, and
// the counters its bumps would create (FreshBumps), and then the rest of
// the change with the usual statements (PlanRest). A counter row loaded
// that way is exactly what the bump's guarded upsert would insert into a
// table without that counter; where the counter exists the load breaks
// the primary key, and the dialect then bumps those counters the usual
// way instead.

// CounterColumns are the columns of a counter row, in the order of
// CounterRows.
var CounterColumns = strings.Split(counterCols, ", ")

// FreshBumps splits the bumps of c, by index, into those that may be
// loaded as new counter rows and the rest. A bump may be loaded when it
// adds to a counter that a counter never bumped would let it pass (as one
// row of a multi-row upsert: classOf), is not on a series-wide counter
// (a hot row, which exists after the first change) and is on no counter
// one of c's notices watches. fresh comes in lock order (bumpOrder), the
// order the rows are to be loaded in, so that two changes loading the
// same new counters never wait for each other in a cycle.
func FreshBumps(c *store.Change) (fresh, rest []int) {
	noticed := make(map[store.CounterKey]bool, len(c.Notices))
	for i := range c.Notices {
		noticed[c.Notices[i].Key] = true
	}
	for _, i := range bumpOrder(c.Bumps) {
		b := &c.Bumps[i]
		if _, ok := classOf(b); ok && seriesWide(&b.Key) == 0 && !noticed[b.Key] {
			fresh = append(fresh, i)
		} else {
			rest = append(rest, i)
		}
	}
	return fresh, rest
}

// CounterRows returns the counter rows (CounterColumns) that the bumps
// fresh of c insert into a table without their counters: the key, the
// bump's delta as the count and its time as the last bump. A time the
// store cannot keep is an InvalidArgument error.
func CounterRows(c *store.Change, fresh []int) ([][]any, error) {
	var e encoder
	rows := make([][]any, len(fresh))
	for j, i := range fresh {
		b := &c.Bumps[i]
		rows[j] = append(CounterKeyArgs(&b.Key), b.Delta, e.time("At", b.At))
	}
	return rows, e.err
}

// FreshAfter sets the After of the bumps fresh of c whose counter rows
// CounterRows gave were inserted: the counter as the row stands.
func FreshAfter(c *store.Change, fresh []int, rows [][]any) {
	for j, i := range fresh {
		var last sql.NullInt64
		last.Int64, last.Valid = rows[j][nCounterCols-1].(int64)
		c.Bumps[i].After = store.Count{N: c.Bumps[i].Delta, Last: FromNanos(last)}
	}
}

// PlanRest plans, with multi-row statements, the rest of a bulk change c
// whose new coupons and events, and whose bumps other than rest, the
// dialect writes its own way: the bumps rest (indexes in c.Bumps), the
// notices and the sequence advance, in the order Apply writes them.
// Run its Ops, then call SetRestAfter.
func PlanRest(s *Store, c *store.Change, rest []int) (*Planned, error) {
	r := &store.Change{Bumps: make([]store.Bump, len(rest)), Notices: c.Notices, Sequence: c.Sequence}
	for j, i := range rest {
		r.Bumps[j] = c.Bumps[i]
	}
	return s.plan(r, true)
}

// SetRestAfter sets the After of the bumps rest of c from p, the plan of
// PlanRest once its Ops have run.
func SetRestAfter(c *store.Change, rest []int, p *Planned) {
	for j, i := range rest {
		c.Bumps[i].After = p.after[j]
	}
}
