package memstore

import (
	"hash/maphash"
	"iter"

	"github.com/couponkit/couponkit/coupon"
)

// redIndex maps redemption ids to the stored redemptions. It is keyed by a
// 64-bit hash of the id rather than by the id: growing a map of millions of
// string keys reads every key's bytes again, which costs a cache miss each,
// where a hash is rehashed in place. The rare id whose hash another id
// already has is kept in clash instead. Redemptions are never removed and
// their ids never change, so an id whose hash has no entry is not stored.
type redIndex struct {
	hash   func(id string) uint64
	byHash map[uint64]*coupon.Redemption
	clash  map[string]*coupon.Redemption
}

func newRedIndex() redIndex {
	seed := maphash.MakeSeed()
	return redIndex{
		hash:   func(id string) uint64 { return maphash.String(seed, id) },
		byHash: make(map[uint64]*coupon.Redemption),
	}
}

// get returns the redemption with the id, or nil.
func (x *redIndex) get(id string) *coupon.Redemption {
	p := x.byHash[x.hash(id)]
	if p == nil || p.ID == id {
		return p
	}
	return x.clash[id]
}

// put adds p, whose id is not stored yet.
func (x *redIndex) put(p *coupon.Redemption) {
	h := x.hash(p.ID)
	if _, taken := x.byHash[h]; !taken {
		x.byHash[h] = p
		return
	}
	if x.clash == nil {
		x.clash = make(map[string]*coupon.Redemption)
	}
	x.clash[p.ID] = p
}

// all yields every stored redemption, in no particular order.
func (x *redIndex) all() iter.Seq[*coupon.Redemption] {
	return func(yield func(*coupon.Redemption) bool) {
		for _, p := range x.byHash {
			if !yield(p) {
				return
			}
		}
		for _, p := range x.clash {
			if !yield(p) {
				return
			}
		}
	}
}
