package tillsim

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"pgregory.net/rapid"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/till"
)

// A till of the library (till.Till) talks to the central through
// simCentral: every call is a message on the simulated link, and one that
// gets no answer fails with errLost, a passed deadline, which the Till
// takes as the central not answering (till.Unanswered): a sale is then
// decided offline under the same key, a lease call stays written down in
// the journal, to be sent again by the next Sync.
type simCentral struct {
	w  *world
	tl *simTill
}

var _ till.Central = simCentral{}

func (c simCentral) send(what string, do func() (any, error), late func(any, error)) (any, error) {
	if late == nil {
		late = func(any, error) {}
	}
	return c.w.send(&message{till: c.tl, what: what, do: do, late: late})
}

// lateLease is a lease call's answer that comes back late: the till keeps
// it if it is newer than what its journal holds (the journal's guard).
func (c simCentral) lateLease(v any, err error) {
	if err == nil {
		c.w.learn(c.tl, leaseResult(v).Lease)
	}
}

func (c simCentral) lease(kind lease.Kind, do func() (couponkit.LeaseResult, error)) (couponkit.LeaseResult, error) {
	v, err := c.send(kind.String(), func() (any, error) { return do() }, c.lateLease)
	if err == nil {
		c.w.known(c.tl, leaseResult(v).Lease)
	}
	c.w.stats["library till: "+kind.String()+": "+answerName(err)]++
	return leaseResult(v), err
}

func answerName(err error) string {
	if errors.Is(err, errLost) {
		return "no answer"
	}
	return errcode.CodeOf(err).String()
}

func (c simCentral) GrantLease(_ context.Context, req couponkit.LeaseRequest) (couponkit.LeaseResult, error) {
	return c.lease(lease.Grant, func() (couponkit.LeaseResult, error) { return c.w.eng.GrantLease(c.w.ctx, req) })
}

func (c simCentral) RenewLease(_ context.Context, x couponkit.LeaseCall) (couponkit.LeaseResult, error) {
	return c.lease(lease.Renew, func() (couponkit.LeaseResult, error) { return c.w.eng.RenewLease(c.w.ctx, x) })
}

func (c simCentral) TopUpLease(_ context.Context, x couponkit.LeaseCall) (couponkit.LeaseResult, error) {
	return c.lease(lease.TopUp, func() (couponkit.LeaseResult, error) { return c.w.eng.TopUpLease(c.w.ctx, x) })
}

func (c simCentral) ReturnLease(_ context.Context, x couponkit.LeaseCall) (couponkit.LeaseResult, error) {
	return c.lease(lease.Return, func() (couponkit.LeaseResult, error) { return c.w.eng.ReturnLease(c.w.ctx, x) })
}

func (c simCentral) UploadJournal(ctx context.Context, b couponkit.JournalBatch) (couponkit.JournalAck, error) {
	return uploader(c).UploadJournal(ctx, b)
}

// RedeemAtTill is the online call of a sale. Its key is in doubt until
// the till acknowledges the sale: the central may make a use the till
// never learns of (its answer lost and the sale then refused offline, or
// a copy of a refused call delivered later and allowed then).
func (c simCentral) RedeemAtTill(_ context.Context, req couponkit.TillRedeemRequest) (couponkit.TillRedeemResult, error) {
	w := c.w
	c.tl.doubt[req.Key] = true
	tl := c.tl
	v, err := c.send("redeem online "+req.Key, func() (any, error) {
		if w.delivering {
			tl.copied[req.Key] = true // decided after the till stopped waiting
		}
		return w.eng.RedeemAtTill(w.ctx, req)
	}, nil)
	w.stats["online sales: "+answerName(err)]++
	if errors.Is(err, errLost) {
		c.tl.unanswered[req.Key] = true
	}
	r, _ := v.(couponkit.TillRedeemResult)
	return r, err
}

// TillFeed reads a page of the feed; a page that comes back late is
// applied then (applying an old page again changes nothing).
func (c simCentral) TillFeed(_ context.Context, req couponkit.TillFeedRequest) (couponkit.TillFeedPage, error) {
	w, tl := c.w, c.tl
	late := func(v any, err error) {
		if err == nil {
			if err := tl.j.ApplyFeed(w.ctx, v.(couponkit.TillFeedPage)); err != nil {
				w.violation("%s: a late feed page: %v", tl.name, err)
			}
		}
	}
	v, err := c.send("feed", func() (any, error) { return w.eng.TillFeed(w.ctx, req) }, late)
	p, _ := v.(couponkit.TillFeedPage)
	w.stats["feed events read"] += len(p.Events)
	return p, err
}

// newLibrary makes tl a till of the library, keeping a lease of the
// series drawn, after its journal is (re)opened.
func (w *world) newLibrary(tl *simTill) {
	lib, err := till.New(till.Config{ID: tl.name, Journal: tl.j, Central: simCentral{w, tl}, Deadline: time.Minute,
		Now: func() time.Time { return w.clock(tl) }, LeaseFor: time.Hour, Series: tl.libSeries, Tills: len(w.tills),
		Size: func(in lease.SizeInput) int64 {
			n := min(max(1, int64(in.RatePerHour/2)), 3)
			if in.Remaining >= 0 {
				n = min(n, in.Remaining)
			}
			return n
		}})
	if err != nil {
		w.t.Fatal(err)
	}
	tl.lib = lib
}

// drawLibrary draws whether tl is a till of the library, and the series
// it keeps leases of. A till mutant breaks the protocol of the tills that
// make their own lease calls: then every till does.
func (w *world) drawLibrary(tl *simTill) {
	if w.broken != 0 || !rapid.Bool().Draw(w.t, tl.name+" is a till.Till") {
		return
	}
	for _, s := range w.series {
		if rapid.Bool().Draw(w.t, "keeps a lease of "+s.kind) {
			tl.libSeries = append(tl.libSeries, s.id)
		}
	}
	if len(tl.libSeries) == 0 {
		tl.libSeries = []string{w.series[0].id}
	}
	w.newLibrary(tl)
}

// libRedeem is a sale through till.Till: online first, offline when the
// central does not answer. A sale whose hook crashed is tried again with
// its key (the central answers a use it made from its record).
func (w *world) libRedeem(tl *simTill, u *till.Use) {
	var hook func(*sql.Tx) error
	crash := rapidInt(w, "crash during the sale", 0, 11) == 0
	if crash {
		hook = func(*sql.Tx) error { return errCrash }
	}
	r, err := tl.lib.Redeem(w.ctx, *u, hook)
	w.logf("  %s sells %s %s to %s for %s (key %s, crash %v): online %v, lease %s, %v",
		tl.name, w.kind(u.SeriesID), u.Code, u.Customer, u.Bill, u.Key, crash, r.Online, r.Entry.LeaseID, err)
	tl.sale = nil
	switch {
	case errors.Is(err, errCrash):
		w.stats["crashes during a sale"]++
		tl.sale = u
		w.crash(tl)
	case err == nil:
		w.ack(tl, r.Entry)
		if r.Online {
			w.stats["sales acknowledged online"]++
			tl.online[u.Key] = true
		} else {
			w.stats["sales acknowledged offline"]++
		}
	case refused(err) || expected(err):
		w.stats["sales refused: "+errcode.CodeOf(err).String()]++
	default:
		w.violation("%s: Till.Redeem(%s): %v", tl.name, u.Key, err)
	}
	if tl.crashAfterUpload { // in the upload Redeem makes before it asks online
		w.stats["crashes before MarkSynced"]++
		tl.crashAfterUpload = false
		w.crash(tl)
	}
}

// ack records a use the till acknowledged.
func (w *world) ack(tl *simTill, e till.Entry) {
	tl.acked[e.Key] = e
	tl.madeAt[e.Key] = w.now
	delete(tl.doubt, e.Key)
	if e.LeaseID == "" || e.Online {
		return
	}
	if end := w.leaseEnd(tl, e.LeaseID); !w.now.Before(end) {
		w.violation("(a) %s used lease %s at %s, not before its end %s by the central's clock", tl.name, e.LeaseID, w.now.Sub(t0), end.Sub(t0))
	}
}

// leaseEnd is the End of a lease as the till's journal holds it.
func (w *world) leaseEnd(tl *simTill, id string) time.Time {
	ls, err := tl.j.Leases(w.ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, l := range ls {
		if l.ID == id {
			return l.End
		}
	}
	return time.Time{}
}

// libSync is a till of the library syncing: upload, its lease calls left
// unanswered, its leases sized, the feed. It stops at the first call that
// gets no answer, or at a refusal.
func (w *world) libSync(tl *simTill) {
	rep, err := tl.lib.Sync(w.ctx)
	w.logf("  %s syncs: %d uploaded, %d events, leases %v: %v", tl.name, rep.Uploaded, rep.Events, rep.Leases, err)
	switch {
	case err == nil:
		w.stats["library syncs complete"]++
	case errors.Is(err, errLost) || errors.Is(err, errCrash):
	case !expected(err):
		w.violation("%s: Till.Sync: %v", tl.name, err)
	default:
		w.stats["library syncs refused: "+errcode.CodeOf(err).String()]++
	}
	if tl.crashAfterUpload {
		w.stats["crashes before MarkSynced"]++
		tl.crashAfterUpload = false
		w.crash(tl)
	}
}

// reverse gives back a use the till acknowledged (offline or online), as
// a journal entry synced up later; the till may crash before its commit.
func (w *world) reverse(tl *simTill) {
	if w.noReversals {
		return
	}
	var keys []string
	for _, k := range sortedKeys(tl.acked) {
		if !tl.reversed[k] {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return
	}
	r := till.Reversal{Key: w.key(tl.name + "-reversal"), Reverses: rapid.SampledFrom(keys).Draw(w.t, "use"), At: w.clock(tl)}
	var hook func(*sql.Tx) error
	if rapidInt(w, "crash during the reversal", 0, 11) == 0 {
		hook = func(*sql.Tx) error { return errCrash }
	}
	e, err := tl.j.Reverse(w.ctx, r, hook)
	w.logf("  %s reverses %s (key %s): %v", tl.name, r.Reverses, r.Key, err)
	switch {
	case errors.Is(err, errCrash):
		w.crash(tl)
	case err == nil:
		w.stats["reversals acknowledged"]++
		tl.reversals[e.Key] = e
		tl.reversed[r.Reverses] = true
	case errors.Is(err, errcode.ErrUnavailable):
		w.stats["reversals refused: no lease to report under"]++
	default:
		w.violation("%s: Reverse(%s): %v", tl.name, r.Reverses, err)
	}
}

// settleLibrary is a till of the library at the end of a run, on a
// healed network: the sale that crashed is tried again with its key, and
// a Sync uploads the journal and settles every lease call.
func (w *world) settleLibrary(tl *simTill) {
	if tl.sale != nil {
		u := tl.sale
		if e, found, _ := tl.j.Entry(w.ctx, u.Key); found {
			u.At = e.At
		}
		if r, err := tl.lib.Redeem(w.ctx, *u, nil); err == nil && !r.Entry.Reversed {
			w.ack(tl, r.Entry)
			if r.Online {
				tl.online[u.Key] = true
			}
		}
		tl.sale = nil
	}
	w.libSync(tl)
	if doubts, _ := tl.j.Doubts(w.ctx); len(doubts) > 0 {
		// The first Sync may have granted the lease a sale in doubt needs
		// to report its reversal under: the next gives it back.
		w.libSync(tl)
	}
	if calls, err := tl.j.Calls(w.ctx); err != nil || len(calls) > 0 {
		w.violation("%s: lease calls still unanswered on a healed network: %+v, %v", tl.name, calls, err)
	}
	doubts, err := tl.j.Doubts(w.ctx)
	if err != nil {
		w.violation("%s: Doubts: %v", tl.name, err)
	}
	held := map[string]bool{}
	for _, l := range tl.known {
		held[l.SeriesID] = true
	}
	for _, d := range doubts {
		if held[d.SeriesID] {
			w.violation("%s: the sale %s is still in doubt on a healed network", tl.name, d.Key)
		}
		// A till with no lease of the series has none to report the
		// reversal under: the sale stays in doubt until it has one.
		w.stats["sales left in doubt: no lease of the series"]++
		tl.stuck[d.Key] = true
	}
}
