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
type eventLog struct {
	byteLog
}

// append logs e, whose coupon's previous event is at prevCoupon and whose
// customer's is at prevCustomer, and returns its position.
func (l *eventLog) append(e *coupon.Event, prevCoupon, prevCustomer evPos) evPos {
	return l.byteLog.append(encodedEventSize(e), func(b []byte) []byte {
		return appendEncodedEvent(b, e, prevCoupon, prevCustomer)
	})
}

// evPos is the position of an event in the log.
type evPos = logPos

// The encoding of an event: the two previous positions (8 bytes each),
// kind, notify, the time as time.Time.AppendBinary writes it (after a
// length byte), then each string field as a uvarint length and its bytes.

// eventStrings lists the string fields of e in encoding order.
func eventStrings(e *coupon.Event) [12]*string {
	return [12]*string{&e.ID, &e.CouponID, &e.SeriesID, &e.Code, &e.Customer, &e.Actor,
		&e.Reason, &e.Counterparty, &e.RedemptionID, &e.OldCode, &e.NewCode, &e.NewCouponID}
}

func encodedEventSize(e *coupon.Event) int {
	n := 8 + 8 + 2 + maxTimeSize
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
	b = append(b, byte(e.Kind), notify)
	b = appendTime(b, e.At)
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
	e.Kind, e.Notify = coupon.EventKind(b[i]), b[i+1] == 1
	i = readTime(b, i+2, &e.At)
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
