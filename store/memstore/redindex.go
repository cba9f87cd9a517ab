package memstore

import (
	"hash/maphash"
	"iter"

	"github.com/couponkit/couponkit/coupon"
)

// redTable stores the redemptions and finds them by id.
//
// Redemptions live in slabs of slabSize boxes, in the order stored; each
// box has room for the first entry of its coupon's redemption list, so a
// coupon's first redemption costs no allocation of its own. Redemptions are
// never removed and their ids never change.
//
// The index by id is an open-addressing hash table of (hash of the id,
// position in the slabs) pairs. It holds no pointers, so the collector never
// scans it however many redemptions there are; growing it moves 16-byte
// entries and never reads an id again; a lookup costs one probe sequence
// and one comparison of ids. Ids whose hashes are equal are told apart by
// that comparison.
type redTable struct {
	hash   func(id string) uint64
	chunks [][]redBox
	n      int       // redemptions stored
	slots  []redSlot // len is 0 or a power of two; at most 3/4 used
}

// redBox is a stored redemption with room for the first entry of its
// coupon's redemption list.
type redBox struct {
	r   coupon.Redemption
	ref [1]redRef
}

// slabSize is the number of redBoxes allocated at once.
const slabSize = 256

// redSlot is an entry of the index: the hash of a redemption's id and its
// position plus one (0 marks an empty slot).
type redSlot struct {
	hash uint64
	pos  uint64
}

func newRedTable() redTable {
	seed := maphash.MakeSeed()
	return redTable{hash: func(id string) uint64 { return maphash.String(seed, id) }}
}

func (t *redTable) at(pos int) *redBox { return &t.chunks[pos/slabSize][pos%slabSize] }

// get returns the redemption with the id, or nil.
func (t *redTable) get(id string) *coupon.Redemption {
	if len(t.slots) == 0 {
		return nil
	}
	h := t.hash(id)
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s.pos == 0 {
			return nil
		}
		if s.hash == h {
			if b := t.at(int(s.pos - 1)); b.r.ID == id {
				return &b.r
			}
		}
	}
}

// add stores a copy of r, whose id is not stored yet, and returns its box.
func (t *redTable) add(r *coupon.Redemption) *redBox {
	pos := t.n
	if pos%slabSize == 0 {
		t.chunks = append(t.chunks, make([]redBox, slabSize))
	}
	b := t.at(pos)
	b.r = *r
	t.n++
	if 4*t.n > 3*len(t.slots) {
		t.grow()
	}
	t.insert(redSlot{hash: t.hash(r.ID), pos: uint64(pos) + 1})
	return b
}

func (t *redTable) insert(s redSlot) {
	mask := uint64(len(t.slots) - 1)
	i := s.hash & mask
	for t.slots[i].pos != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = s
}

func (t *redTable) grow() {
	old := t.slots
	t.slots = make([]redSlot, max(1024, 2*len(old)))
	for _, s := range old {
		if s.pos != 0 {
			t.insert(s)
		}
	}
}

// all yields every stored redemption, in the order stored.
func (t *redTable) all() iter.Seq[*coupon.Redemption] {
	return func(yield func(*coupon.Redemption) bool) {
		for pos := range t.n {
			if !yield(&t.at(pos).r) {
				return
			}
		}
	}
}
