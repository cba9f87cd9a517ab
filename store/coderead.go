package store

import (
	"context"
	"strconv"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
)

// CodeReader is an optional interface a Store may implement: what a use of
// a code is decided on, in one read. The engine reads, for every
// redemption, the coupons of the code, the version of their series (to
// reuse the series it has decoded, see SeriesVersioner) and the counters
// of the coupon's uses; a database store answers them with one statement
// instead of three round trips.
type CodeReader interface {
	// ReadCode appends to dst one CodeRead for each coupon that
	// CouponsByCode(ctx, seriesID, code) returns, in its order: the coupon,
	// the stored version of its series, and the counters that counters
	// name for it (Counts[i] is counters[i]'s). It reads all of them at
	// one instant, as one read of the store. More than MaxCodeCounters
	// counters is an errcode.InvalidArgument error.
	ReadCode(ctx context.Context, seriesID, code string, counters []CouponCounter, dst []CodeRead) ([]CodeRead, error)
}

// MaxCodeCounters bounds the counters of one ReadCode.
const MaxCodeCounters = 6

// CodeRead is one coupon of a ReadCode, with what was read with it.
type CodeRead struct {
	Coupon coupon.Coupon
	// SeriesVersion is the stored version of the coupon's series.
	SeriesVersion int64
	// Counts are the counters of the ReadCode's counters, for this coupon.
	Counts [MaxCodeCounters]Count
}

// CouponCounter names a counter relative to a coupon (Key): the counters
// of a coupon's uses are in its series, and those of code-level scope are
// keyed by its canonical code and slot.
type CouponCounter struct {
	Counter limits.Counter
	// ByCode: the key's Code and Holder are the coupon's canonical code
	// and Slot; else they are empty.
	ByCode bool
	// Customer is the key's customer.
	Customer string
}

// Key returns the key of the counter cc names for coupon c.
func (cc CouponCounter) Key(c *coupon.Coupon) CounterKey {
	k := CounterKey{Counter: cc.Counter, Series: c.SeriesID, Customer: cc.Customer}
	if cc.ByCode {
		k.Code, k.Holder = c.Canonical, Slot(c)
	}
	return k
}

// ReadCodeWith is ReadCode for a store that does not implement CodeReader:
// CouponsByCode, then the version of each series met and the counters of
// each coupon, read one after another. A store or adapter may use it to
// implement CodeReader trivially; it is the rule the SQL stores' one
// statement is tested against.
func ReadCodeWith(ctx context.Context, s Store, seriesID, code string, counters []CouponCounter, dst []CodeRead) ([]CodeRead, error) {
	if len(counters) > MaxCodeCounters {
		return dst, tooManyCounters()
	}
	cs, err := s.CouponsByCode(ctx, seriesID, code)
	if err != nil {
		return dst, err
	}
	versions := map[string]int64{}
	keys := make([]CounterKey, len(counters))
	for i := range cs {
		r := CodeRead{Coupon: cs[i]}
		v, ok := versions[cs[i].SeriesID]
		if !ok {
			if v, err = seriesVersion(ctx, s, cs[i].SeriesID); err != nil {
				return dst, err
			}
			versions[cs[i].SeriesID] = v
		}
		r.SeriesVersion = v
		for j := range counters {
			keys[j] = counters[j].Key(&cs[i])
		}
		if err := s.Counters(ctx, keys, r.Counts[:len(keys)]); err != nil {
			return dst, err
		}
		dst = append(dst, r)
	}
	return dst, nil
}

// seriesVersion is the stored version of series id: by SeriesVersioner
// when s implements it, else by reading the series.
func seriesVersion(ctx context.Context, s Store, id string) (int64, error) {
	if sv, ok := s.(SeriesVersioner); ok {
		return sv.SeriesVersion(ctx, id)
	}
	sr, err := s.Series(ctx, id)
	return sr.Version, err
}

func tooManyCounters() error {
	return errcode.New(errcode.InvalidArgument, "counters", "at most "+strconv.Itoa(MaxCodeCounters)+" counters")
}

// ReadAhead is an optional interface a Store may implement to say whether
// reading while a change is being written costs that write little, as on a
// database server, whose reads run on other connections in processes of
// their own. When ReadsAhead reports true, Engine.IssueBatches reads and
// checks the next batch while the one before it is written. A store in
// the writer's process (memstore, SQLite) leaves it out: reading ahead
// would take the CPU and memory the write needs.
type ReadAhead interface {
	ReadsAhead() bool
}
