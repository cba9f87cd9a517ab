package memstore

import (
	"encoding/binary"

	"github.com/couponkit/couponkit/coupon"
)

// The returns of a redemption (coupon.Redemption.Returns) are written as
// their count, then each return: its key, its time, a byte of flags
// (returnWhole, returnChargeback, returnUse), its amount, discount and
// budget, and its lines (a count, then each line's id and units).
const (
	returnWhole = 1 << iota
	returnChargeback
	returnUse
)

func returnsSize(rs []coupon.Return) int {
	n := binary.MaxVarintLen64
	for i := range rs {
		n += stringSize(rs[i].Key) + maxTimeSize + 1 + 4*binary.MaxVarintLen64
		for _, l := range rs[i].Lines {
			n += stringSize(l.Line) + binary.MaxVarintLen64
		}
	}
	return n
}

func appendReturns(b []byte, rs []coupon.Return) []byte {
	b = binary.AppendUvarint(b, uint64(len(rs)))
	for i := range rs {
		x := &rs[i]
		b = appendString(b, x.Key)
		b = appendTime(b, x.At)
		var flags byte
		for bit, on := range [...]bool{x.Whole, x.Chargeback, x.Use} {
			if on {
				flags |= 1 << bit
			}
		}
		b = append(b, flags)
		b = binary.AppendVarint(b, x.Amount)
		b = binary.AppendVarint(b, x.Discount)
		b = binary.AppendVarint(b, x.Budget)
		b = binary.AppendUvarint(b, uint64(len(x.Lines)))
		for _, l := range x.Lines {
			b = appendString(b, l.Line)
			b = binary.AppendVarint(b, l.Quantity)
		}
	}
	return b
}

// readReturns reads what appendReturns wrote at b[i:]; nil for none.
func readReturns(b []byte, i int) []coupon.Return {
	n, w := binary.Uvarint(b[i:])
	i += w
	if n == 0 {
		return nil
	}
	rs := make([]coupon.Return, n)
	varint := func(x *int64) {
		v, w := binary.Varint(b[i:])
		*x, i = v, i+w
	}
	for k := range rs {
		x := &rs[k]
		i = readString(b, i, &x.Key)
		i = readTime(b, i, &x.At)
		flags := b[i]
		i++
		x.Whole, x.Chargeback, x.Use = flags&returnWhole != 0, flags&returnChargeback != 0, flags&returnUse != 0
		varint(&x.Amount)
		varint(&x.Discount)
		varint(&x.Budget)
		m, w := binary.Uvarint(b[i:])
		i += w
		if m > 0 {
			x.Lines = make([]coupon.ReturnLine, m)
		}
		for j := range x.Lines {
			i = readString(b, i, &x.Lines[j].Line)
			varint(&x.Lines[j].Quantity)
		}
	}
	return rs
}
