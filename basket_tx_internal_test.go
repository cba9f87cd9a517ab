package couponkit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strconv"
	"testing"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"

	"github.com/couponkit/couponkit/basket"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// The basket transaction's fast paths give what the plain computations
// give: the lines' total in int64 (decimals where a line is invalid) and
// the digests, which redemptions record and repeats are compared with, so
// that they must never change.

func drawTxBasket(t *rapid.T) *basket.Basket {
	cur := rapid.SampledFrom([]string{"EUR", "JPY", "KWD", "eur"}).Draw(t, "currency")
	places := int32(series.MinorUnits(cur))
	text := rapid.StringMatching(`[a-z0-9]{0,6}|.{0,3}`)
	b := &basket.Basket{Currency: cur}
	// Mostly valid amounts, so that both ways are taken.
	quantity := rapid.OneOf(rapid.Int64Range(1, 20), rapid.Int64Range(1, 20), rapid.Int64Range(-2, 2*basket.MaxQuantity))
	price := rapid.OneOf(rapid.Int64Range(0, 100_000), rapid.Int64Range(0, 100_000), rapid.Int64Range(-100, 1_000_000_000_000_000))
	exponent := rapid.OneOf(rapid.Just(0), rapid.Just(0), rapid.IntRange(-2, 2))
	for range rapid.IntRange(0, 12).Draw(t, "lines") {
		b.Lines = append(b.Lines, basket.Line{
			ID: text.Draw(t, "id"), Product: text.Draw(t, "product"),
			Categories: rapid.SliceOfN(text, 0, 3).Draw(t, "categories"),
			Quantity:   quantity.Draw(t, "quantity"),
			UnitPrice:  decimal.New(price.Draw(t, "price"), -places+int32(exponent.Draw(t, "exponent"))),
		})
	}
	return b
}

func TestLinesTotalFastEqualsDecimal(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := drawTxBasket(t)
		var sum decimal.Decimal
		for _, l := range b.Lines {
			sum = sum.Add(l.UnitPrice.Mul(decimal.NewFromInt(l.Quantity)))
		}
		mu := int32(series.MinorUnits(b.Currency))
		want := decimal.New(sum.Shift(mu).IntPart(), -mu)
		if got := linesTotal(b.Lines, b.Currency); !got.Equal(want) {
			t.Fatalf("linesTotal %s, want %s", got, want)
		}
	})
}

// plainBasketDigest and plainCodesDigest are the digests as first written.
func plainBasketDigest(bk *basket.Basket) string {
	buf := make([]byte, 0, 64*len(bk.Lines)+8)
	str := func(s string) {
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	str(bk.Currency)
	buf = binary.AppendUvarint(buf, uint64(len(bk.Lines)))
	for i := range bk.Lines {
		l := &bk.Lines[i]
		str(l.ID)
		str(l.Product)
		buf = binary.AppendUvarint(buf, uint64(len(l.Categories)))
		for _, c := range l.Categories {
			str(c)
		}
		buf = binary.AppendVarint(buf, l.Quantity)
		buf = appendPrice(buf, l.UnitPrice)
	}
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:16])
}

func plainCodesDigest(cs []basket.Coupon) string {
	codes := make([]string, len(cs))
	for i := range cs {
		codes[i] = cs[i].Code
	}
	slices.Sort(codes)
	h := sha256.New()
	for _, c := range codes {
		h.Write([]byte(strconv.Itoa(len(c)) + ":" + c))
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

func TestDigestsEqualPlain(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := drawTxBasket(t)
		if got, want := basketDigest(b), plainBasketDigest(b); got != want {
			t.Fatalf("basketDigest %s, want %s", got, want)
		}
		var cs []basket.Coupon
		for _, c := range rapid.SliceOfNDistinct(rapid.StringMatching(`[A-Z0-9-]{1,40}`), 1, 12, rapid.ID).Draw(t, "codes") {
			cs = append(cs, basket.Coupon{Code: c})
		}
		var bd [32]byte
		appendBasketDigest(bd[:0], b)
		if got, want := txDigest(bd[:], cs), plainBasketDigest(b)+"/"+plainCodesDigest(cs); got != want {
			t.Fatalf("txDigest %s, want %s", got, want)
		}
	})
}

// mergeBumps adds a bump of a key already bumped to that bump, and appends
// any other: two coupons of one series share its counters, not those of
// another series or of their codes.
func TestMergeBumps(t *testing.T) {
	key := func(c limits.Counter, s, code string) store.CounterKey {
		return store.CounterKey{Counter: c, Series: s, Code: code, Customer: "alice"}
	}
	a := []store.Bump{{Key: key(limits.CodeUses, "s1", "A"), Delta: 1}, {Key: key(limits.SeriesUses, "s1", ""), Delta: 1},
		{Key: key(limits.SeriesBudget, "s1", ""), Delta: 250}}
	b := []store.Bump{{Key: key(limits.CodeUses, "s1", "B"), Delta: 1}, {Key: key(limits.SeriesUses, "s1", ""), Delta: 1},
		{Key: key(limits.SeriesBudget, "s1", ""), Delta: 100}}
	c := []store.Bump{{Key: key(limits.SeriesUses, "s2", ""), Delta: 1}}
	got := mergeBumps(mergeBumps(mergeBumps(nil, a), b), c)
	want := []store.Bump{{Key: key(limits.CodeUses, "s1", "A"), Delta: 1}, {Key: key(limits.SeriesUses, "s1", ""), Delta: 2},
		{Key: key(limits.SeriesBudget, "s1", ""), Delta: 350}, {Key: key(limits.CodeUses, "s1", "B"), Delta: 1},
		{Key: key(limits.SeriesUses, "s2", ""), Delta: 1}}
	if !slices.Equal(got, want) {
		t.Fatalf("merged\n%+v\nwant\n%+v", got, want)
	}
}
