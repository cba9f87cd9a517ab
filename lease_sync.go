package couponkit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/internal/input"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/observe"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// Sync up: a till uploads the uses it made offline within its leases,
// and the central records each exactly once, evaluated at its sale time.

// MaxJournalBatch is the most entries one JournalBatch may carry.
const MaxJournalBatch = 500

// JournalEntry is one use a till made offline, as it uploads it.
type JournalEntry struct {
	// Key is the sale's idempotency key, unique in the till's journal.
	Key string `json:"key"`
	// LeaseID is the till's lease the use drew on.
	LeaseID  string       `json:"lease_id"`
	Code     string       `json:"code"`
	Customer string       `json:"customer,omitempty"`
	Bill     series.Money `json:"bill"`
	// At is the sale time, by the till's clock.
	At time.Time `json:"at"`
	// Discount is the discount the till gave, for a series with a budget:
	// what the use takes of its lease's money (the till may have reduced
	// it to what the lease had left). Zero: the series' discount of Bill.
	Discount series.Money `json:"discount,omitzero"`
	// Reverses, when set, makes the entry a reversal: it gives back the
	// whole use the till recorded under that key (Code, Customer and Bill
	// repeat that use's). The use goes back to the series and to its
	// code and customer levels, not to the lease.
	Reverses string `json:"reverses,omitempty"`
}

// JournalBatch is a part of a till's journal, in journal order.
type JournalBatch struct {
	Till    string         `json:"till"`
	Entries []JournalEntry `json:"entries"`
}

// JournalAck answers a batch: each entry as the central recorded it, in
// the batch's order. The till marks them synced.
type JournalAck struct {
	Entries []lease.Entry `json:"entries"`
}

func (b *JournalBatch) validate() error {
	if err := first(required("Till", b.Till), input.Text("Till", input.ID, b.Till)); err != nil {
		return err
	}
	if len(b.Entries) > MaxJournalBatch {
		return errcode.New(errcode.TooMany, "Entries", "a batch carries at most 500 entries")
	}
	for i := range b.Entries {
		x := &b.Entries[i]
		err := first(
			required("Key", x.Key), input.Text("Key", input.Key, x.Key), input.Text("Key", input.Key, b.Till+"/"+x.Key),
			required("LeaseID", x.LeaseID), idArg("LeaseID", x.LeaseID),
			required("Code", x.Code), input.Text("Code", input.Code, x.Code),
			input.Text("Customer", input.ID, x.Customer), required("At", timeText(x.At)), input.Time("At", x.At),
			input.Text("Reverses", input.Key, x.Reverses),
		)
		if err == nil && x.Reverses == x.Key {
			err = errcode.New(errcode.InvalidArgument, "Reverses", "an entry cannot reverse itself")
		}
		if err == nil && x.Bill.Amount.IsNegative() {
			err = errcode.New(errcode.InvalidArgument, "Bill", "must not be negative")
		}
		if err != nil {
			return input.WithinAt("Entries", i, err)
		}
	}
	return nil
}

// ApplyJournal records a batch of a till's offline uses, each exactly
// once: an entry uploaded again (a retry, a duplicate) is answered with
// its first record and changes nothing, and the same key with another use
// is refused with an error matching errcode.ErrKeyMismatch.
//
// Each use is evaluated at its sale time (the series' windows, the
// coupon's expiry) against the central's state, and counted against its
// lease, which the series counted when it was granted, never again
// against the series. A use the central would have refused (the code used
// elsewhere, revoked, not this customer's, a customer level passed across
// tills) is still recorded, since the till gave the discount: flagged with
// its reasons (lease.Entry.Conflicts), its coupon unchanged. A use whose
// lease can no longer take it (reclaimed after it lapsed) is counted
// against the series again, and flagged when the series' limit cannot fit
// it.
//
// The whole batch is checked first: a malformed entry, a lease that is not
// the till's, or a key used for another use refuses the batch with a typed
// error, and nothing is recorded.
//
// The entries are recorded in journal order, in few store changes: runs of
// consecutive entries that touch disjoint records (other coupons, other
// customers, at most one that reads or moves the series' use counter, no
// key recorded or reversed earlier in the run) go into one change, at most
// Config.JournalGroup of them, with one write of each lease carrying the
// sum of its uses and conflicts (so a lease's Version grows by one per
// change, not per use). Each entry is decided against the state its
// predecessors leave, so the outcome is the one recording them one at a
// time would give: the same records, conflicts, counters, redemptions and
// events. A change that meets a concurrent writer wrote nothing, and its
// entries are then recorded one at a time. After an error the returned
// ack holds the records of the entries before the first that may not be
// recorded; an upload of the batch again records each entry once all the
// same.
func (e *Engine) ApplyJournal(ctx context.Context, b JournalBatch) (JournalAck, error) {
	ctx, o := e.begin(ctx, observe.ApplyJournal, "")
	ack, err := e.applyJournal(ctx, b)
	if err == nil && e.log != nil {
		e.logJournal(ctx, b.Till, &ack)
	}
	o.end(&err)
	return ack, err
}

// applyJournal is ApplyJournal, unobserved.
func (e *Engine) applyJournal(ctx context.Context, b JournalBatch) (JournalAck, error) {
	if err := e.admit(b.validate()); err != nil {
		return JournalAck{}, err
	}
	ls, err := e.leaseStore()
	if err != nil {
		return JournalAck{}, err
	}
	chk := journalCheck{uses: map[string]*JournalEntry{}, leases: map[string]lease.Lease{}, seen: map[string]bool{}, fresh: make([]bool, len(b.Entries))}
	for i := range b.Entries {
		if err := e.checkEntry(ctx, ls, b.Till, &b.Entries[i], &chk, i); err != nil {
			return JournalAck{}, input.WithinAt("Entries", i, err)
		}
	}
	if e.group > 1 {
		recs, err := e.applyGrouped(ctx, ls, b.Till, b.Entries, chk.fresh)
		return JournalAck{Entries: recs}, err
	}
	ack := JournalAck{Entries: make([]lease.Entry, 0, len(b.Entries))}
	for i := range b.Entries {
		rec, err := e.applyEntry(ctx, ls, b.Till, &b.Entries[i])
		if err != nil {
			return ack, err
		}
		ack.Entries = append(ack.Entries, rec)
	}
	return ack, nil
}

// journalCheck is what checking a batch learns: the uses among its
// entries (for the reversals after them), the leases it names, the keys
// seen, and which entries are fresh: not recorded when checked, their key
// first in the batch.
type journalCheck struct {
	uses   map[string]*JournalEntry
	leases map[string]lease.Lease
	seen   map[string]bool
	fresh  []bool
}

// checkEntry refuses the batch's i-th entry x when it names a lease that
// is not the till's (as one that does not exist), repeats a recorded key
// with another use, or reverses a use that is neither recorded nor among
// the uses earlier in its batch (checkReversal).
func (e *Engine) checkEntry(ctx context.Context, ls store.LeaseStore, till string, x *JournalEntry, c *journalCheck, i int) error {
	l, ok := c.leases[x.LeaseID]
	if !ok {
		var err error
		if l, err = ls.Lease(ctx, x.LeaseID); err != nil {
			return err
		}
		c.leases[x.LeaseID] = l
	}
	if l.Till != till {
		return store.NotFound("lease", x.LeaseID)
	}
	c.fresh[i] = !c.seen[x.Key]
	c.seen[x.Key] = true
	if x.Reverses == "" {
		defer func() { c.uses[x.Key] = x }()
	}
	rec, err := ls.TillEntry(ctx, till, x.Key)
	if errors.Is(err, errcode.ErrNotFound) {
		if x.Reverses != "" {
			return checkReversal(ctx, ls, till, x, c.uses)
		}
		return nil
	}
	c.fresh[i] = false
	if err != nil {
		return err
	}
	return sameEntry(&rec, till, l.SeriesID, x)
}

// sameEntry checks that x, uploaded again under rec's key, is rec's use:
// the same lease, series, code, customer, bill and sale time, or, for a
// use recorded online (RedeemAtTill), the same series, code, customer and
// bill (the till may have drawn another lease, at another time, when it
// fell back to its journal); and the same use reversed, if any.
func sameEntry(rec *lease.Entry, till, seriesID string, x *JournalEntry) error {
	want := lease.Entry{Till: till, Key: x.Key, LeaseID: x.LeaseID, SeriesID: seriesID, Code: x.Code, Customer: x.Customer, Bill: x.Bill, At: x.At}
	same := rec.SameUse(&want)
	if rec.Online {
		same = rec.SameSale(&want)
	}
	if !same || rec.Reverses != x.Reverses {
		return errcode.New(errcode.KeyMismatch, "Key", "the idempotency key was used for another sale; use a new key for a new request")
	}
	return nil
}

// applyEntry records one entry, or answers a recorded one.
func (e *Engine) applyEntry(ctx context.Context, ls store.LeaseStore, till string, x *JournalEntry) (lease.Entry, error) {
	var out lease.Entry
	err := e.retry(ctx, func() error {
		l, err := ls.Lease(ctx, x.LeaseID)
		if err != nil {
			return err
		}
		if rec, err := ls.TillEntry(ctx, till, x.Key); err == nil {
			out = rec
			return sameEntry(&rec, till, l.SeriesID, x)
		} else if !errors.Is(err, errcode.ErrNotFound) {
			return err
		}
		record := e.entryChange
		if x.Reverses != "" {
			record = e.reversalChange
		}
		ch, rec, err := record(ctx, till, x, &l)
		if err != nil {
			return err
		}
		if err := e.st.Apply(ctx, ch); err != nil {
			var ex *store.ExistsError
			if errors.As(err, &ex) {
				// The same key was recorded meanwhile, from the journal or
				// online (its entry, or its redemption's key): the next
				// attempt answers it.
				return &store.ConflictError{Kind: ex.Kind, ID: ex.Key}
			}
			return err
		}
		out = rec
		return nil
	})
	return out, err
}

// entryChange builds the change that records x on lease l: the use
// evaluated at its sale time (decideEntry), counted on the lease when it
// can take it, else on the series, and the entry's record.
func (e *Engine) entryChange(ctx context.Context, till string, x *JournalEntry, l *lease.Lease) (*store.Change, lease.Entry, error) {
	now := e.now()
	spend := e.entrySpend(ctx, l.SeriesID, x)
	take := lease.Slice{Uses: 1, Money: spend.minor}
	used, useErr := l.Use(take, now)
	onLease := useErr == nil
	ch, rec, err := e.decideEntry(ctx, till, x, l.SeriesID, onLease, &spend)
	if err != nil {
		return nil, rec, err
	}
	rec.Applied = now
	if onLease {
		rec.Budget = spend.minor
	}
	rec.Counted = lease.OnSeries
	if onLease {
		rec.Counted = lease.OnLease
	} else if rec.Conflicted() {
		// An allowed use bumps the series' counter under its guard
		// (decideEntry); a refused one is counted all the same, since
		// the discount was given.
		b, err := e.conflictedSeriesUse(ctx, l.SeriesID, x.At, &rec)
		if err != nil {
			return nil, rec, err
		}
		ch.Bumps = append(ch.Bumps, b)
	}
	n, write, over := used, onLease, false
	switch {
	case onLease && rec.Conflicted():
		n, over, err = l.UseConflicted(take, now)
	case rec.Conflicted():
		n, over = l.Conflict(now)
		write = true
	}
	if err != nil {
		return nil, rec, err
	}
	if over {
		rec.Conflicts = append(rec.Conflicts, overAllowance(&n))
	}
	if write {
		ch.Leases = []store.LeaseWrite{{Lease: n, ExpectVersion: l.Version}}
	}
	ch.TillEntries = []lease.Entry{rec}
	return ch, rec, nil
}

// conflictedSeriesUse is the bump of the series' use counter by a use
// the central refused (rec's conflicts) and that its lease cannot take:
// the discount was given, so the use is counted on the series all the
// same. A use that passes the series' limit says so: when the limit is
// reached already, rec gets the series-limit conflict (unless the plan
// found it), whatever other conflict it has (a coupon used up stops the
// rules from being weighed); when it is not, the bump is guarded by the
// limit, so that a use filling the series meanwhile fails the change and
// the next attempt flags this one.
func (e *Engine) conflictedSeriesUse(ctx context.Context, seriesID string, at time.Time, rec *lease.Entry) (store.Bump, error) {
	k := store.CounterKey{Counter: limits.SeriesUses, Series: seriesID}
	b := store.Bump{Key: k, Delta: 1, At: at}
	s, err := e.series(ctx, seriesID)
	if err != nil {
		return b, err
	}
	lim := s.Redemption.MaxPerSeries
	if lim.Unlimited() {
		return b, nil
	}
	var n [1]store.Count
	if err := e.st.Counters(ctx, []store.CounterKey{k}, n[:]); err != nil {
		return b, err
	}
	switch {
	case lim.Allows(n[0].N):
		b.Guard = limits.Guard{Counter: limits.SeriesUses, Limit: lim}
	case !slices.ContainsFunc(rec.Conflicts, func(r refusal.Refusal) bool { return r.Rule == refusal.SeriesLimit }):
		rec.Conflicts = append(rec.Conflicts, refusal.OfferUsedUp(int64(lim), n[0].N))
	}
	return b, nil
}

// overAllowance is the extra conflict of a conflicted use that took its
// lease past its allowance of unverified uses.
func overAllowance(l *lease.Lease) refusal.Refusal {
	return refusal.Refusal{Code: errcode.AllowanceExceeded, Rule: refusal.LeaseAllowance,
		Message: fmt.Sprintf("the till's unverified uses of lease %s (%d) passed its allowance of %d", l.ID, l.Conflicted, l.Allowance),
		Params:  refusal.Params{Limit: l.Allowance, Used: l.Conflicted}}
}

// decideEntry evaluates x at its sale time as a redemption of its code in
// the lease's series, and returns the change of an allowed use (its
// redemption, the coupon's update, its counters but, when onLease, the
// series' use counter, which the lease already counted) or an empty
// change for a refused one, with the entry's record and its conflicts.
func (e *Engine) decideEntry(ctx context.Context, till string, x *JournalEntry, seriesID string, onLease bool, spend *tillSpend) (*store.Change, lease.Entry, error) {
	rec := lease.Entry{Till: till, Key: x.Key, LeaseID: x.LeaseID, SeriesID: seriesID, Code: x.Code, Customer: x.Customer, Bill: x.Bill, At: x.At}
	req := RedeemRequest{Code: x.Code, SeriesID: seriesID, Customer: ByID(x.Customer), IdempotencyKey: till + "/" + x.Key, Bill: x.Bill, Actor: "till " + till}
	b := new(changeBuf)
	var p useplan
	err := e.planEntry(ctx, &req, x.At, onLease, spend.budgeted && onLease, &b.read, &p)
	if err != nil {
		if !conflictOf(err) {
			return nil, rec, err
		}
		rec.Conflicts = refusalsOf(err)
		rec.Discount = e.entryDiscount(ctx, seriesID, x.Bill)
		return &store.Change{}, rec, nil
	}
	rec.Discount = p.discount
	if spend.budgeted {
		rec.Discount = spend.given
		if p.allowed() && spend.minor > p.co.spend {
			// The till gave more than the budget can count for this use
			// (a per-customer budget, or the series' when the lease
			// could not take it): the money went out all the same.
			rec.Conflicts = []refusal.Refusal{budgetPassed(spend.minor, p.co.spend)}
			return &store.Change{}, rec, nil
		}
		p.co.spend, p.discount = spend.minor, spend.given
	}
	if !p.allowed() {
		if p.state != nil && !stateRefusal(p.state) {
			rec.Conflicts = refusalsOf(p.state)
		} else {
			rec.Conflicts = p.refusals(time.Time{})
		}
		return &store.Change{}, rec, nil
	}
	_, r, err := useChange(b, &p, &req, 0, x.At, e)
	if err != nil {
		return nil, rec, err
	}
	rec.RedemptionID = r.ID
	rec.Budget = r.Budget
	ch := b.ch
	if onLease {
		ch.Bumps = dropCounter(ch.Bumps, limits.SeriesUses)
		// The lease's money paid for the discount.
		ch.Bumps = dropCounter(ch.Bumps, limits.SeriesBudget)
	}
	return &ch, rec, nil
}

// planEntry reads and decides the redemption req at the sale time at.
// When the use is counted on a lease, the series' use counter, which
// already holds it, is left out of the decision; and so is the series'
// budget counter when leaseMoney, the lease's money paying the discount.
func (e *Engine) planEntry(ctx context.Context, req *RedeemRequest, at time.Time, onLease, leaseMoney bool, rb *readBuf, p *useplan) error {
	cust, err := e.customers.Resolve(ctx, req.Customer)
	if err != nil {
		return err
	}
	snap, err := e.readUse(ctx, req, cust, at, rb)
	if err != nil {
		return err
	}
	if onLease {
		snap.counts[2].N = 0
	}
	if leaseMoney {
		snap.spent[0].N = 0
	}
	return decideUse(p, &snap, req, at)
}

// dropCounter returns bs without the bumps of counter c.
func dropCounter(bs []store.Bump, c limits.Counter) []store.Bump {
	out := bs[:0]
	for _, b := range bs {
		if b.Key.Counter != c {
			out = append(out, b)
		}
	}
	return out
}

// entryDiscount is what the series' discount takes off bill, or nothing
// when the series or the bill's currency cannot tell.
func (e *Engine) entryDiscount(ctx context.Context, seriesID string, bill series.Money) series.Money {
	s, err := e.series(ctx, seriesID)
	if err != nil {
		return series.Money{}
	}
	if bill.Currency == "" {
		bill.Currency = s.Discount.Currency
	}
	d, err := s.Discount.Apply(bill, e.rates)
	if err != nil {
		return series.Money{}
	}
	return d
}

// conflictOf reports whether err is the central refusing the use (a
// refusal, the coupon's state, a code it does not know), rather than a
// failure to decide (the store, the context), which ApplyJournal returns.
func conflictOf(err error) bool {
	switch errcode.CodeOf(err) {
	case 0, errcode.Conflict, errcode.Unavailable, errcode.GuardFailed:
		return false
	}
	return true
}

// refusalsOf lists the reasons of a refusal error: a *refusal.Error's
// refusals, or the error's code and text.
func refusalsOf(err error) []refusal.Refusal {
	var re *refusal.Error
	if errors.As(err, &re) {
		return append([]refusal.Refusal(nil), re.Refusals...)
	}
	return []refusal.Refusal{{Code: errcode.CodeOf(err), Message: err.Error()}}
}
