package tillsim

import (
	"context"
	"errors"
	"fmt"

	"pgregory.net/rapid"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
)

// errLost is a till's call that got no answer: its request or its answer
// was lost, or it is still in flight. The till cannot tell which: its
// deadline passed (so till.Unanswered holds, and a till.Till decides a
// sale offline).
var errLost = fmt.Errorf("tillsim: no answer from the central: %w", context.DeadlineExceeded)

// errCrash is the till dying in the middle of something.
var errCrash = errors.New("tillsim: the till crashed")

// fate is what the link does with one message.
type fate uint8

const (
	delivered   fate = iota
	requestLost      // the central never sees it
	answerLost       // the central applies it; the till gets no answer
	twice            // delivered, and a copy held in flight, delivered later
	held             // in flight: delivered later, after newer messages
)

var fateNames = [...]string{delivered: "delivered", requestLost: "request lost", answerLost: "answer lost", twice: "delivered twice", held: "held"}

func (f fate) String() string { return fateNames[f] }

// fates weighs the link's fates: most messages get through.
var fates = []fate{delivered, delivered, delivered, delivered, requestLost, answerLost, twice, held, held}

// network is the link between the tills and the central.
type network struct {
	// healed: every message gets through at once.
	healed bool
	// inflight are the messages held, in the order they were sent.
	inflight []*message
}

// message is one call of a till to the central.
type message struct {
	till *simTill
	what string
	// do is the central handling the call.
	do func() (any, error)
	// late is the till handling an answer that comes back after it
	// stopped waiting for it (a copy delivered twice, a held message).
	late func(any, error)
}

// send puts m on the link and returns the answer the till gets, or
// errLost.
func (w *world) send(m *message) (any, error) {
	f := delivered
	switch {
	case w.cut(m.till):
		f = requestLost
	case !w.net.healed:
		f = rapid.SampledFrom(fates).Draw(w.t, "link")
	}
	w.stats["link: "+f.String()]++
	w.logf("  %s -> central: %s: %s", m.till.name, m.what, f)
	switch f {
	case requestLost:
		return nil, errLost
	case answerLost:
		m.do()
		return nil, errLost
	case twice:
		w.net.inflight = append(w.net.inflight, m)
		return m.do()
	case held:
		w.net.inflight = append(w.net.inflight, m)
		return nil, errLost
	}
	return m.do()
}

// deliverHeld delivers the i-th message in flight; its answer reaches
// the till unless the till is cut off or the link loses it.
func (w *world) deliverHeld(i int) {
	m := w.net.inflight[i]
	w.net.inflight = append(w.net.inflight[:i:i], w.net.inflight[i+1:]...)
	w.delivering = true
	v, err := m.do()
	w.delivering = false
	back := w.net.healed || (!w.cut(m.till) && rapid.Bool().Draw(w.t, "answer gets back"))
	w.logf("  held %s -> central: %s delivered; answer back: %v", m.till.name, m.what, back)
	if back {
		m.late(v, err)
	}
}

// call sends the till's lease call c, which becomes its outstanding call
// until it is answered.
func (w *world) call(tl *simTill, c *leaseCall) {
	tl.pending = c
	m := &message{till: tl, what: c.kind.String(),
		do:   func() (any, error) { return w.doLease(c) },
		late: func(v any, err error) { w.answer(tl, c, leaseResult(v), err) },
	}
	v, err := w.send(m)
	w.answer(tl, c, leaseResult(v), err)
}

func leaseResult(v any) couponkit.LeaseResult {
	r, _ := v.(couponkit.LeaseResult)
	return r
}

// doLease is the central handling a lease call.
func (w *world) doLease(c *leaseCall) (any, error) {
	switch c.kind {
	case lease.Grant:
		return w.eng.GrantLease(w.ctx, c.grant)
	case lease.Renew:
		return w.eng.RenewLease(w.ctx, c.call)
	case lease.TopUp:
		return w.eng.TopUpLease(w.ctx, c.call)
	}
	return w.eng.ReturnLease(w.ctx, c.call)
}

// uploader is a till's journal upload over the link. An upload the
// central applied may be followed by the till crashing before it marks
// the entries synced.
type uploader struct {
	w  *world
	tl *simTill
}

// UploadJournal implements till.Uploader.
func (u uploader) UploadJournal(_ context.Context, b couponkit.JournalBatch) (couponkit.JournalAck, error) {
	w, tl := u.w, u.tl
	m := &message{till: tl, what: "upload",
		do:   func() (any, error) { return w.eng.ApplyJournal(context.WithValue(w.ctx, uploading{}, true), b) },
		late: func(v any, err error) { w.lateAck(tl, v, err) },
	}
	v, err := w.send(m)
	if err != nil {
		if !errors.Is(err, errLost) {
			w.violation("%s: the central refused an upload of %d entries: %v", tl.name, len(b.Entries), err)
		}
		if w.broken == marksLostUploadsSynced {
			ack := couponkit.JournalAck{}
			for _, x := range b.Entries {
				ack.Entries = append(ack.Entries, lease.Entry{Key: x.Key})
			}
			return ack, nil
		}
		return couponkit.JournalAck{}, err
	}
	if !w.net.healed && rapid.IntRange(0, 9).Draw(w.t, "crash before MarkSynced") == 0 {
		tl.crashAfterUpload = true
		return couponkit.JournalAck{}, errCrash
	}
	return v.(couponkit.JournalAck), nil
}

// lateAck is a till marking synced what an upload's late answer
// acknowledged.
func (w *world) lateAck(tl *simTill, v any, err error) {
	if err != nil {
		w.violation("%s: the central refused a late upload: %v", tl.name, err)
		return
	}
	ack := v.(couponkit.JournalAck)
	keys := make([]string, len(ack.Entries))
	for i, e := range ack.Entries {
		keys[i] = e.Key
	}
	if err := tl.j.MarkSynced(w.ctx, keys); err != nil {
		w.violation("%s: MarkSynced: %v", tl.name, err)
	}
}

// expected reports whether err is an answer the central may give a till
// that follows the protocol: a typed refusal, not a key used twice or an
// untyped failure.
func expected(err error) bool {
	return err == nil || (errcode.CodeOf(err) != 0 && !errors.Is(err, errcode.ErrKeyMismatch))
}
