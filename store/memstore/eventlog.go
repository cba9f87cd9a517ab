package memstore

import (
	"encoding/binary"
	"slices"

	"github.com/couponkit/couponkit/coupon"
)

// eventLog is the append-only event history, kept encoded in chunks of
// bytes. Events are written on every change and read rarely, so they are
// stored without pointers: the collector never scans the log, however long
// it grows, and appending one costs a copy of its bytes and no allocation.
//
// Each event records where the previous event of the same coupon and of the
// same customer is, so the history of a coupon or a customer is a chain
// walked backwards from its last event (couponRec.lastEvent,
// custRec.lastEvent), with no index list to grow.
//
// The log also numbers its events, for the feed: n counts them, and
// firsts[c] is the number of events logged before chunk c, so the event
// with a given number is found in its chunk (see from).
type eventLog struct {
	byteLog
	n      uint64
	firsts []uint64
}

// append logs e, whose coupon's previous event is at prevCoupon and whose
// customer's is at prevCustomer, and returns its position.
func (l *eventLog) append(e *coupon.Event, prevCoupon, prevCustomer evPos) evPos {
	p := l.byteLog.append(encodedEventSize(e), func(b []byte) []byte {
		return appendEncodedEvent(b, e, prevCoupon, prevCustomer)
	})
	if p.chunk() == len(l.firsts) {
		l.firsts = append(l.firsts, l.n)
	}
	l.n++
	return p
}

// evPos is the position of an event in the log.
type evPos = logPos

// The encoding of an event: the two previous positions (8 bytes each),
// kind, notify (bit 0; bit 1 is UseBack), the time as
// time.Time.AppendBinary writes it (after a length byte), Remaining,
// Returned and BudgetBack as varints, then each string field as a uvarint
// length and its bytes.

// eventStrings lists the string fields of e in encoding order.
func eventStrings(e *coupon.Event) [13]*string {
	return [13]*string{&e.ID, &e.CouponID, &e.SeriesID, &e.Code, &e.Customer, &e.Actor,
		&e.Reason, &e.Counterparty, &e.RedemptionID, &e.OldCode, &e.NewCode, &e.NewCouponID, &e.Channel}
}

func encodedEventSize(e *coupon.Event) int {
	n := 8 + 8 + 2 + maxTimeSize + 3*binary.MaxVarintLen64
	for _, p := range eventStrings(e) {
		n += stringSize(*p)
	}
	return n
}

func appendEncodedEvent(b []byte, e *coupon.Event, prevCoupon, prevCustomer evPos) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(prevCoupon))
	b = binary.LittleEndian.AppendUint64(b, uint64(prevCustomer))
	notify := byte(0)
	if e.Notify {
		notify = 1
	}
	if e.UseBack {
		notify |= 2
	}
	b = append(b, byte(e.Kind), notify)
	b = appendTime(b, e.At)
	b = binary.AppendVarint(b, e.Remaining)
	b = binary.AppendVarint(b, e.Returned)
	b = binary.AppendVarint(b, e.BudgetBack)
	for _, p := range eventStrings(e) {
		b = appendString(b, *p)
	}
	return b
}

// prevs returns the positions of the previous events of the coupon and the
// customer of the event at p.
func (l *eventLog) prevs(p evPos) (coupon, customer evPos) {
	b := l.at(p)
	return evPos(binary.LittleEndian.Uint64(b)), evPos(binary.LittleEndian.Uint64(b[8:]))
}

// decode returns the event at p and the position of the next one.
func (l *eventLog) decode(p evPos) (coupon.Event, int) {
	b := l.at(p)
	var e coupon.Event
	i := 16
	e.Kind, e.Notify, e.UseBack = coupon.EventKind(b[i]), b[i+1]&1 != 0, b[i+1]&2 != 0
	i = readTime(b, i+2, &e.At)
	for _, x := range [...]*int64{&e.Remaining, &e.Returned, &e.BudgetBack} {
		r, w := binary.Varint(b[i:])
		*x, i = r, i+w
	}
	for _, f := range eventStrings(&e) {
		i = readString(b, i, f)
	}
	return e, p.offset() + i
}

// all yields every logged event in order.
func (l *eventLog) all(yield func(*coupon.Event) bool) {
	for c := range l.chunks {
		for off, end := 0, l.end(c); off < end; {
			e, next := l.decode(evPos(uint64(c)<<32|uint64(off)) + 1)
			if !yield(&e) {
				return
			}
			off = next
		}
	}
}

// skip returns the position of the event after the one at p, in the same
// chunk, reading only the lengths of its fields.
func (l *eventLog) skip(p evPos) evPos {
	b := l.at(p)
	i := 18
	i += 1 + int(b[i]) // the time
	for range 3 {      // Remaining, Returned, BudgetBack
		_, w := binary.Varint(b[i:])
		i += w
	}
	for range len(eventStrings(&coupon.Event{})) {
		n, w := binary.Uvarint(b[i:])
		i += w + int(n)
	}
	return p + evPos(i)
}

// from yields, in order, the events numbered k (counting from 0) up to
// but not including end, which is at most l.n. It does not lock: call it
// on a copy of the log taken under the lock, as for all.
func (l *eventLog) from(k, end uint64, yield func(*coupon.Event) bool) {
	if k >= end {
		return
	}
	c, _ := slices.BinarySearch(l.firsts, k+1) // the first chunk numbered after k, less one
	c--
	p := evPos(uint64(c)<<32) + 1
	for n := l.firsts[c]; n < k; n++ {
		p = l.skip(p)
	}
	for ; k < end; k++ {
		if p.offset() >= l.end(p.chunk()) {
			p = evPos(uint64(p.chunk()+1)<<32) + 1
		}
		e, next := l.decode(p)
		if !yield(&e) {
			return
		}
		p = evPos(uint64(p.chunk())<<32|uint64(next)) + 1
	}
}

// chain yields, in the order logged, the events of the chain that ends at
// last, following each event's previous position of the coupon (byCoupon)
// or of the customer.
func (l *eventLog) chain(last evPos, byCoupon bool, yield func(*coupon.Event) bool) {
	var ps []evPos
	for p := last; p != 0; {
		ps = append(ps, p)
		c, u := l.prevs(p)
		if byCoupon {
			p = c
		} else {
			p = u
		}
	}
	slices.Reverse(ps)
	for _, p := range ps {
		if e, _ := l.decode(p); !yield(&e) {
			return
		}
	}
}
