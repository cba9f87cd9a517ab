package memstore

import (
	"encoding/binary"
	"hash/maphash"
	"iter"
	"time"

	"github.com/couponkit/couponkit/coupon"
)

// redTable stores the redemptions and finds them by id.
//
// Each redemption has a number, given in the order stored, that never
// changes; the indexes (by coupon, by series, the held ones) list numbers.
// Its fields are kept encoded in a byteLog, and an update writes a new
// encoding and points the number at it. Nothing in the table is a pointer,
// so the collector never traces it, and a redemption adds about a hundred
// bytes to the heap where a coupon.Redemption value and its strings and
// decimals took four times as much.
//
// The index by id is an open-addressing hash table of (hash of the id,
// number) pairs: growing it moves 16-byte entries and never reads an id
// again; a lookup costs one probe sequence and one comparison of ids, which
// also tells apart ids whose hashes are equal.
type redTable struct {
	hash  func(s string) uint64
	log   byteLog
	cur   []logPos  // by number: where the redemption's encoding is
	slots []redSlot // len is 0 or a power of two; at most 3/4 used
}

// redSlot is an entry of the index: the hash of a redemption's id and its
// number plus one (0 marks an empty slot).
type redSlot struct {
	hash uint64
	num  uint64
}

func newRedTable() redTable {
	hashKey := maphash.MakeSeed()
	return redTable{hash: func(s string) uint64 { return maphash.String(hashKey, s) }}
}

// get returns the number of the redemption with the id.
func (t *redTable) get(id string) (int, bool) {
	if len(t.slots) == 0 {
		return 0, false
	}
	h := t.hash(id)
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s.num == 0 {
			return 0, false
		}
		if s.hash == h && t.idIs(int(s.num-1), id) {
			return int(s.num - 1), true
		}
	}
}

// add stores r, whose id is not stored yet, and returns its number.
func (t *redTable) add(r *coupon.Redemption) int {
	num := len(t.cur)
	t.cur = append(t.cur, t.encode(r))
	if 4*len(t.cur) > 3*len(t.slots) {
		t.grow()
	}
	t.insert(redSlot{hash: t.hash(r.ID), num: uint64(num) + 1})
	return num
}

// update replaces redemption num by r, which has the same id.
func (t *redTable) update(num int, r *coupon.Redemption) { t.cur[num] = t.encode(r) }

func (t *redTable) insert(s redSlot) {
	mask := uint64(len(t.slots) - 1)
	i := s.hash & mask
	for t.slots[i].num != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = s
}

func (t *redTable) grow() {
	old := t.slots
	t.slots = make([]redSlot, max(1024, 2*len(old)))
	for _, s := range old {
		if s.num != 0 {
			t.insert(s)
		}
	}
}

// all yields the number of every stored redemption, in the order stored.
func (t *redTable) all() iter.Seq[int] {
	return func(yield func(int) bool) {
		for num := range t.cur {
			if !yield(num) {
				return
			}
		}
	}
}

// The encoding of a redemption: status; a byte with bit i set when the
// i-th time of redTimes is set; the id, the idempotency key and the coupon
// id, which lookups read without decoding the rest (see field); the set
// times; the other strings; the bill and the discount; then what a use
// made on a basket or under a budget records (appendCheckout).

// redTimes lists the times of r in encoding order.
func redTimes(r *coupon.Redemption) [5]*time.Time {
	return [5]*time.Time{&r.At, &r.HoldExpiresAt, &r.ConfirmedAt, &r.ReleasedAt, &r.ReversedAt}
}

// redStrings lists the strings of r after the times, in encoding order.
func redStrings(r *coupon.Redemption) [7]*string {
	return [7]*string{&r.SeriesID, &r.Customer, &r.Location.Till,
		&r.Location.Store, &r.Location.Zone, &r.Location.Concept, &r.Currency}
}

func (t *redTable) encode(r *coupon.Redemption) logPos {
	size := 2 + stringSize(r.ID) + stringSize(r.IdempotencyKey) + stringSize(r.CouponID) + 5*maxTimeSize +
		decimalSize(r.Bill) + decimalSize(r.Discount) + checkoutSize(r)
	for _, p := range redStrings(r) {
		size += stringSize(*p)
	}
	return t.log.append(size, func(b []byte) []byte {
		set := byte(0)
		for i, p := range redTimes(r) {
			if !p.IsZero() {
				set |= 1 << i
			}
		}
		b = append(b, byte(r.Status), set)
		b = appendString(b, r.ID)
		b = appendString(b, r.IdempotencyKey)
		b = appendString(b, r.CouponID)
		for _, p := range redTimes(r) {
			if !p.IsZero() {
				b = appendTime(b, *p)
			}
		}
		for _, p := range redStrings(r) {
			b = appendString(b, *p)
		}
		b = appendDecimal(b, r.Bill)
		b = appendDecimal(b, r.Discount)
		return appendCheckout(b, r)
	})
}

// The checkout fields of a redemption (Lines, Parts, Reduced, Budget,
// Returns) are written as a byte of flags (checkoutSet, checkoutReduced);
// when set, the digest of the lines, the budget and the parts follow, each
// part its line, quantity, base and discount, then the returns
// (appendReturns).
const (
	checkoutSet = 1 << iota
	checkoutReduced
)

func checkoutSize(r *coupon.Redemption) int {
	n := 1 + stringSize(r.Lines) + 2*binary.MaxVarintLen64
	for i := range r.Parts {
		n += stringSize(r.Parts[i].Line) + 3*binary.MaxVarintLen64
	}
	return n + returnsSize(r.Returns)
}

func appendCheckout(b []byte, r *coupon.Redemption) []byte {
	var flags byte
	if r.Lines != "" || len(r.Parts) > 0 || r.Budget != 0 || len(r.Returns) > 0 {
		flags |= checkoutSet
	}
	if r.Reduced {
		flags |= checkoutReduced
	}
	b = append(b, flags)
	if flags&checkoutSet == 0 {
		return b
	}
	b = appendString(b, r.Lines)
	b = binary.AppendVarint(b, r.Budget)
	b = binary.AppendUvarint(b, uint64(len(r.Parts)))
	for i := range r.Parts {
		p := &r.Parts[i]
		b = appendString(b, p.Line)
		b = binary.AppendVarint(b, p.Quantity)
		b = binary.AppendVarint(b, p.Base)
		b = binary.AppendVarint(b, p.Discount)
	}
	return appendReturns(b, r.Returns)
}

// readCheckout reads what appendCheckout wrote at b[i:] into r.
func readCheckout(b []byte, i int, r *coupon.Redemption) {
	flags := b[i]
	i++
	r.Reduced = flags&checkoutReduced != 0
	if flags&checkoutSet == 0 {
		return
	}
	i = readString(b, i, &r.Lines)
	v, w := binary.Varint(b[i:])
	r.Budget, i = v, i+w
	n, w := binary.Uvarint(b[i:])
	i += w
	if n > 0 {
		r.Parts = make([]coupon.Part, n)
	}
	for k := range r.Parts {
		p := &r.Parts[k]
		i = readString(b, i, &p.Line)
		for _, x := range [...]*int64{&p.Quantity, &p.Base, &p.Discount} {
			v, w := binary.Varint(b[i:])
			*x, i = v, i+w
		}
	}
	r.Returns = readReturns(b, i)
}

// decode returns redemption num.
func (t *redTable) decode(num int) coupon.Redemption {
	b := t.log.at(t.cur[num])
	var r coupon.Redemption
	r.Status = coupon.RedemptionStatus(b[0])
	set := b[1]
	i := readString(b, 2, &r.ID)
	i = readString(b, i, &r.IdempotencyKey)
	i = readString(b, i, &r.CouponID)
	for k, p := range redTimes(&r) {
		if set&(1<<k) != 0 {
			i = readTime(b, i, p)
		}
	}
	for _, p := range redStrings(&r) {
		i = readString(b, i, p)
	}
	i = readDecimal(b, i, &r.Bill)
	i = readDecimal(b, i, &r.Discount)
	readCheckout(b, i, &r)
	return r
}

// status returns the status of redemption num.
func (t *redTable) status(num int) coupon.RedemptionStatus {
	return coupon.RedemptionStatus(t.log.at(t.cur[num])[0])
}

// Fields of an encoded redemption that field reads.
const (
	fieldID = iota
	fieldKey
	fieldCoupon
)

// field returns the bytes of one of the first strings of redemption num's
// encoding, without decoding the rest.
func (t *redTable) field(num, f int) []byte {
	b := t.log.at(t.cur[num])
	i := 2
	for {
		l, w := binary.Uvarint(b[i:])
		i += w
		if f == 0 {
			return b[i : i+int(l)]
		}
		i += int(l)
		f--
	}
}

func (t *redTable) idIs(num int, id string) bool   { return string(t.field(num, fieldID)) == id }
func (t *redTable) keyIs(num int, key string) bool { return string(t.field(num, fieldKey)) == key }
