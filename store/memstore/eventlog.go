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
// Appending never moves or changes logged bytes, nor any chunk or ends
// entry once written: a copy of the eventLog value taken under the lock can
// be read after the lock is released, for every position below its end.
type eventLog struct {
	chunks [][]byte // each allocated at its full length; the last is being filled
	ends   []int    // bytes used in each chunk but the last
	tail   int      // bytes used in the last chunk
}

// eventChunkSize is the size of a chunk of the log; an event larger than it
// gets a chunk of its own.
const eventChunkSize = 64 << 10

// evPos is the position of an event in the log, plus one: chunk index in
// the high 32 bits, byte offset in the low. The zero evPos is no event.
type evPos uint64

func (p evPos) chunk() int  { return int((p - 1) >> 32) }
func (p evPos) offset() int { return int((p - 1) & (1<<32 - 1)) }

// append logs e, whose coupon's previous event is at prevCoupon and whose
// customer's is at prevCustomer, and returns its position.
func (l *eventLog) append(e *coupon.Event, prevCoupon, prevCustomer evPos) evPos {
	size := encodedEventSize(e)
	last := len(l.chunks) - 1
	if last < 0 || len(l.chunks[last])-l.tail < size {
		if last >= 0 {
			l.ends = append(l.ends, l.tail)
		}
		l.chunks = append(l.chunks, make([]byte, max(eventChunkSize, size)))
		last, l.tail = last+1, 0
	}
	pos := evPos(uint64(last)<<32|uint64(l.tail)) + 1
	// Encode in place: the room left is at least size.
	b := appendEncodedEvent(l.chunks[last][l.tail:l.tail], e, prevCoupon, prevCustomer)
	l.tail += len(b)
	return pos
}

// end returns the bytes used in chunk c.
func (l *eventLog) end(c int) int {
	if c < len(l.ends) {
		return l.ends[c]
	}
	return l.tail
}

// The encoding of an event: the two previous positions (8 bytes each),
// kind, notify, the time as time.Time.AppendBinary writes it (after a
// length byte), then each string field as a uvarint length and its bytes.

// eventStrings lists the string fields of e in encoding order.
func eventStrings(e *coupon.Event) [12]*string {
	return [12]*string{&e.ID, &e.CouponID, &e.SeriesID, &e.Code, &e.Customer, &e.Actor,
		&e.Reason, &e.Counterparty, &e.RedemptionID, &e.OldCode, &e.NewCode, &e.NewCouponID}
}

// maxTimeSize bounds what time.Time.AppendBinary writes.
const maxTimeSize = 16

func encodedEventSize(e *coupon.Event) int {
	n := 8 + 8 + 2 + 1 + maxTimeSize
	for _, p := range eventStrings(e) {
		n += binary.MaxVarintLen64 + len(*p)
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
	at := len(b)
	b = append(b, 0)
	t, err := e.At.AppendBinary(b)
	if err != nil { // a zone offset it cannot write: keep the instant
		t, _ = e.At.UTC().AppendBinary(b)
	}
	b = t
	b[at] = byte(len(b) - at - 1)
	for _, p := range eventStrings(e) {
		b = binary.AppendUvarint(b, uint64(len(*p)))
		b = append(b, *p...)
	}
	return b
}

// prevs returns the positions of the previous events of the coupon and the
// customer of the event at p.
func (l *eventLog) prevs(p evPos) (coupon, customer evPos) {
	b := l.chunks[p.chunk()][p.offset():]
	return evPos(binary.LittleEndian.Uint64(b)), evPos(binary.LittleEndian.Uint64(b[8:]))
}

// decode returns the event at p and the position of the next one.
func (l *eventLog) decode(p evPos) (coupon.Event, int) {
	b := l.chunks[p.chunk()][p.offset():]
	var e coupon.Event
	i := 16
	e.Kind, e.Notify = coupon.EventKind(b[i]), b[i+1] == 1
	i += 2
	n := int(b[i])
	i++
	if err := e.At.UnmarshalBinary(b[i : i+n]); err != nil {
		panic("memstore: corrupt event log: " + err.Error()) // only appendEncodedEvent writes it
	}
	i += n
	for _, f := range eventStrings(&e) {
		n, w := binary.Uvarint(b[i:])
		i += w
		if n > 0 {
			*f = string(b[i : i+int(n)])
		}
		i += int(n)
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
