package limits

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/errcode"
)

// Limit is a maximum count. The zero value means no limit; a negative limit
// is invalid.
type Limit int64

// NoLimit is the Limit that never refuses.
const NoLimit Limit = 0

// Bounds on rules, checked by Validate: counts far beyond any real offer
// and durations far beyond any real gap are refused, so that arithmetic on
// them cannot overflow.
const (
	// MaxLimit is the largest Limit and the largest count a rule may name
	// (NewCustomerRule.MaxTransactions): a million million.
	MaxLimit Limit = 1e12
	// MaxDuration is the longest duration a rule may name (MinGap): a
	// hundred years of 365.25 days.
	MaxDuration = 36525 * 24 * time.Hour
)

// Unlimited reports whether l sets no limit.
func (l Limit) Unlimited() bool { return l == NoLimit }

// Allows reports whether a counter that stands at n may be bumped once more
// without passing l.
func (l Limit) Allows(n int64) bool { return l <= NoLimit || n < int64(l) }

// String returns the limit as a number, or "no limit".
func (l Limit) String() string {
	if l == NoLimit {
		return "no limit"
	}
	return strconv.FormatInt(int64(l), 10)
}

// Weekdays is a set of days of the week. The zero value allows every day.
type Weekdays uint8

// WeekdaysOf returns the set holding the given days.
func WeekdaysOf(days ...time.Weekday) Weekdays {
	var w Weekdays
	for _, d := range days {
		w |= 1 << uint(d)
	}
	return w
}

// Has reports whether d is in the set. The empty set has every day.
func (w Weekdays) Has(d time.Weekday) bool { return w == 0 || w&(1<<uint(d)) != 0 }

// MonthDays is a set of days of the month, 1 to 31. The zero value allows
// every day. Bit d stands for day d; bit 0 is unused.
type MonthDays uint32

// MonthDaysOf returns the set holding the given days (1 to 31). Days outside
// that range are kept so that Validate can report them.
func MonthDaysOf(days ...int) MonthDays {
	var m MonthDays
	for _, d := range days {
		if d >= 0 && d < 32 {
			m |= 1 << uint(d)
		} else {
			m |= 1 // bit 0 marks an out-of-range day for Validate
		}
	}
	return m
}

// Has reports whether day d is in the set. The empty set has every day.
func (m MonthDays) Has(d int) bool { return m == 0 || (d > 0 && d < 32 && m&(1<<uint(d)) != 0) }

// HourRange is the hours [From, To) of a day, 0 <= From < To <= 24.
type HourRange struct {
	From int `json:"from"`
	To   int `json:"to"`
}

// PlaceKind is the kind of place a redemption can be restricted to.
type PlaceKind uint8

// The place kinds, from the narrowest to the widest.
const (
	Till PlaceKind = iota + 1
	Store
	Zone
	Concept
)

var placeKindNames = [...]string{Till: "till", Store: "store", Zone: "zone", Concept: "concept"}

// String returns "till", "store", "zone" or "concept".
func (k PlaceKind) String() string {
	if int(k) < len(placeKindNames) && placeKindNames[k] != "" {
		return placeKindNames[k]
	}
	return fmt.Sprintf("PlaceKind(%d)", uint8(k))
}

// placeKinds lists the place kinds for messages.
const placeKinds = "one of: till, store, zone, concept"

// valid reports whether k is one of the place kinds.
func (k PlaceKind) valid() bool { return int(k) < len(placeKindNames) && placeKindNames[k] != "" }

// MarshalText implements encoding.TextMarshaler.
func (k PlaceKind) MarshalText() ([]byte, error) {
	if !k.valid() {
		return nil, errcode.New(errcode.InvalidArgument, "PlaceKind", fmt.Sprintf("unknown place kind %d; %s", uint8(k), placeKinds))
	}
	return []byte(placeKindNames[k]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler, ignoring the case of
// ASCII letters.
func (k *PlaceKind) UnmarshalText(b []byte) error {
	for i, n := range placeKindNames {
		if n != "" && equalFoldASCII(n, b) {
			*k = PlaceKind(i)
			return nil
		}
	}
	return errcode.New(errcode.InvalidArgument, "PlaceKind", fmt.Sprintf("unknown place kind %q; %s", b, placeKinds))
}

// equalFoldASCII reports whether name and b are equal when ASCII letters are
// compared without case. Other bytes must be equal: Unicode case folding
// would accept look-alikes such as "ſ" for "s" or the Kelvin sign (U+212A) for
// "k".
func equalFoldASCII(name string, b []byte) bool {
	if len(name) != len(b) {
		return false
	}
	for i := range len(b) {
		if lowerASCII(name[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

// PlaceRef names one till, store, zone or concept.
type PlaceRef struct {
	Kind PlaceKind `json:"kind"`
	ID   string    `json:"id"`
}

// Place is where a request is made: the till and the store, zone and concept
// it belongs to. Empty fields are unknown and match nothing.
type Place struct {
	Till    string `json:"till,omitempty"`
	Store   string `json:"store,omitempty"`
	Zone    string `json:"zone,omitempty"`
	Concept string `json:"concept,omitempty"`
}

// PlaceSet is a set of places where redemption is allowed. The zero value is
// empty and means "everywhere". Build one with NewPlaceSet; it is read-only
// afterwards and safe for concurrent use.
type PlaceSet struct {
	set  map[PlaceRef]struct{}
	refs []PlaceRef // sorted, for stable output
}

// NewPlaceSet returns the set of the given places. Order and duplicates do
// not matter.
func NewPlaceSet(refs ...PlaceRef) PlaceSet {
	if len(refs) == 0 {
		return PlaceSet{}
	}
	s := PlaceSet{set: make(map[PlaceRef]struct{}, len(refs))}
	for _, r := range refs {
		if _, dup := s.set[r]; !dup {
			s.set[r] = struct{}{}
			s.refs = append(s.refs, r)
		}
	}
	slices.SortFunc(s.refs, func(a, b PlaceRef) int {
		if a.Kind != b.Kind {
			return int(a.Kind) - int(b.Kind)
		}
		return strings.Compare(a.ID, b.ID)
	})
	return s
}

// Empty reports whether the set restricts nothing.
func (s PlaceSet) Empty() bool { return len(s.set) == 0 }

// Refs returns the places in the set, sorted by kind and id.
func (s PlaceSet) Refs() []PlaceRef { return slices.Clone(s.refs) }

// Contains reports whether the set names this exact place.
func (s PlaceSet) Contains(kind PlaceKind, id string) bool {
	if id == "" {
		return false
	}
	_, ok := s.set[PlaceRef{kind, id}]
	return ok
}

// Allows reports whether a request made at p may redeem: the set is empty,
// or it names p's till, store, zone or concept.
func (s PlaceSet) Allows(p *Place) bool {
	if len(s.set) == 0 {
		return true
	}
	return s.Contains(Till, p.Till) || s.Contains(Store, p.Store) ||
		s.Contains(Zone, p.Zone) || s.Contains(Concept, p.Concept)
}

// MarshalJSON writes the set as a sorted list of places.
func (s PlaceSet) MarshalJSON() ([]byte, error) {
	if s.refs == nil {
		return []byte("[]"), nil
	}
	return json.Marshal(s.refs)
}

// UnmarshalJSON reads a list of places.
func (s *PlaceSet) UnmarshalJSON(b []byte) error {
	var refs []PlaceRef
	if err := json.Unmarshal(b, &refs); err != nil {
		return err
	}
	*s = NewPlaceSet(refs...)
	return nil
}

// NewCustomerRule restricts redemption to new customers. Each part applies
// only when set.
type NewCustomerRule struct {
	// RegisteredFrom and RegisteredTo bound the customer's registration time,
	// both inclusive; a zero bound is open.
	RegisteredFrom time.Time `json:"registered_from,omitzero"`
	RegisteredTo   time.Time `json:"registered_to,omitzero"`
	// LimitTransactions turns on MaxTransactions: the customer may have made
	// at most MaxTransactions earlier transactions (0 means first-time
	// customers only), 0 to MaxLimit. MaxTransactions needs
	// LimitTransactions.
	LimitTransactions bool  `json:"limit_transactions,omitempty"`
	MaxTransactions   int64 `json:"max_transactions,omitempty"`
}

// RedemptionRules are the rules a redemption must pass.
type RedemptionRules struct {
	// AnyoneMayRedeem lets a customer other than the holder redeem the code.
	// The coupon must still have been issued to someone first.
	AnyoneMayRedeem bool `json:"anyone_may_redeem,omitempty"`
	// MaxPerCode limits redemptions of one code across all customers (code
	// level). It applies only with AnyoneMayRedeem, and must be unset
	// without it: the code level is then the customer level. Each Max* is
	// 0 (no limit) to MaxLimit.
	MaxPerCode Limit `json:"max_per_code,omitempty"`
	// MaxPerCustomer limits redemptions of one code by one customer
	// (customer level). It applies only with Repeat, and must be unset
	// without it: a customer who may not repeat has a customer level of
	// one.
	MaxPerCustomer Limit `json:"max_per_customer,omitempty"`
	// MaxPerSeries limits redemptions across all codes of the series.
	MaxPerSeries Limit `json:"max_per_series,omitempty"`
	// Repeat lets one customer redeem one code more than once.
	Repeat bool `json:"repeat,omitempty"`
	// Start, when set, is the earliest time a redemption is allowed.
	Start time.Time `json:"start,omitzero"`
	// Weekdays, MonthDays and Hours restrict the calendar; empty means
	// always. Hours are ranges of the day; a time matches if any range holds it.
	Weekdays  Weekdays    `json:"weekdays,omitempty"`
	MonthDays MonthDays   `json:"month_days,omitempty"`
	Hours     []HourRange `json:"hours,omitempty"`
	// MinGap is the least time between two redemptions by one customer in
	// the series, 0 to MaxDuration. It needs a customer level above one.
	MinGap time.Duration `json:"min_gap,omitempty"`
	// Places restricts where a redemption may happen; empty is everywhere.
	Places PlaceSet `json:"places"`
	// MinBill and MaxBill bound the bill, in the series' currency, both
	// inclusive.
	MinBill decimal.NullDecimal `json:"min_bill"`
	MaxBill decimal.NullDecimal `json:"max_bill"`
	// NewCustomers restricts redemption to new customers.
	NewCustomers NewCustomerRule `json:"new_customers"`
}

// CustomerLimit is the effective customer level: one when the customer may
// not repeat, else MaxPerCustomer.
func (r *RedemptionRules) CustomerLimit() Limit {
	if !r.Repeat {
		return 1
	}
	return r.MaxPerCustomer
}

// DecidesOnCustomer reports whether the customer's issue counter (its count
// and last issue) can change what EvaluateIssuance decides under r: only a
// per-customer limit or a gap between issues reads it. Where it cannot, a
// caller need not read the counter to decide.
func (r *IssuanceRules) DecidesOnCustomer() bool {
	return !r.CustomerLimit().Unlimited() || r.MinGap > 0
}

// CodeLimit is the effective code level: MaxPerCode when anyone may redeem,
// else the customer level (only the holder redeems).
func (r *RedemptionRules) CodeLimit() Limit {
	if r.AnyoneMayRedeem {
		return r.MaxPerCode
	}
	return r.CustomerLimit()
}

// Validate reports every field of r that breaks a rule, each as an
// *errcode.Error with code InvalidConfig and the field's name prefixed by
// prefix (for example "Redemption."). It returns nil when r is valid.
func (r *RedemptionRules) Validate(prefix string) error {
	var f errcode.Fields
	r.ValidateInto(&f, prefix)
	return f.Err()
}

// ValidateInto adds r's field errors to f, for a caller that validates a
// larger value; Validate is ValidateInto on a fresh errcode.Fields.
func (r *RedemptionRules) ValidateInto(f *errcode.Fields, p string) {
	checkLimit(f, p+"MaxPerCode", r.MaxPerCode)
	checkLimit(f, p+"MaxPerCustomer", r.MaxPerCustomer)
	checkLimit(f, p+"MaxPerSeries", r.MaxPerSeries)
	if !r.AnyoneMayRedeem && r.MaxPerCode != NoLimit {
		f.Add(errcode.InvalidConfig, p+"MaxPerCode", "the code level applies only when anyone may redeem; without it the code level is the customer level")
	}
	if !r.Repeat && r.MaxPerCustomer > NoLimit {
		f.Add(errcode.InvalidConfig, p+"MaxPerCustomer", "the customer level applies only with Repeat; without it a customer redeems a code once")
	}
	if checkDuration(f, p+"MinGap", r.MinGap) && r.MinGap > 0 && r.CustomerLimit() == 1 {
		f.Add(errcode.InvalidConfig, p+"MinGap", "a gap between redemptions does not apply when a customer may redeem only once")
	}
	if r.Weekdays>>7 != 0 {
		f.Add(errcode.InvalidConfig, p+"Weekdays", "holds a day outside Sunday..Saturday")
	}
	if r.MonthDays&1 != 0 {
		f.Add(errcode.InvalidConfig, p+"MonthDays", "days of the month run from 1 to 31")
	}
	for i, h := range r.Hours {
		if h.From < 0 || h.To > 24 || h.From >= h.To {
			f.Add(errcode.InvalidConfig, fmt.Sprintf("%sHours[%d]", p, i),
				fmt.Sprintf("hour window %d..%d is inverted or outside 0..24", h.From, h.To))
		}
	}
	if r.MinBill.Valid && r.MinBill.Decimal.Sign() < 0 {
		f.Add(errcode.InvalidConfig, p+"MinBill", "must not be negative")
	}
	if r.MaxBill.Valid && r.MaxBill.Decimal.Sign() < 0 {
		f.Add(errcode.InvalidConfig, p+"MaxBill", "must not be negative")
	}
	if r.MinBill.Valid && r.MaxBill.Valid && r.MaxBill.Decimal.Cmp(r.MinBill.Decimal) < 0 {
		f.Add(errcode.InvalidConfig, p+"MaxBill", "is below MinBill")
	}
	for _, ref := range r.Places.refs {
		switch {
		case ref.Kind == 0:
			f.Add(errcode.InvalidConfig, p+"Places", fmt.Sprintf("place %q: its kind is required; %s", ref.ID, placeKinds))
		case !ref.Kind.valid():
			f.Add(errcode.InvalidConfig, p+"Places", fmt.Sprintf("place %q: unknown place kind %d; %s", ref.ID, uint8(ref.Kind), placeKinds))
		case strings.TrimSpace(ref.ID) == "":
			f.Add(errcode.InvalidConfig, p+"Places", fmt.Sprintf("a place of kind %s needs an id", ref.Kind))
		}
	}
	n := r.NewCustomers
	if !n.RegisteredFrom.IsZero() && !n.RegisteredTo.IsZero() && n.RegisteredTo.Before(n.RegisteredFrom) {
		f.Add(errcode.InvalidConfig, p+"NewCustomers.RegisteredTo", "is before RegisteredFrom")
	}
	switch {
	case n.MaxTransactions < 0:
		f.Add(errcode.InvalidConfig, p+"NewCustomers.MaxTransactions", "must not be negative")
	case n.MaxTransactions > int64(MaxLimit):
		f.Add(errcode.InvalidConfig, p+"NewCustomers.MaxTransactions", fmt.Sprintf("%d is above %d", n.MaxTransactions, int64(MaxLimit)))
	case n.MaxTransactions > 0 && !n.LimitTransactions:
		f.Add(errcode.InvalidConfig, p+"NewCustomers.MaxTransactions", "applies only with LimitTransactions")
	}
}

// IssuanceRules are the rules an issue must pass.
type IssuanceRules struct {
	// MaxPerCustomer limits the coupons of the series one customer holds
	// over time, 0 (no limit) to MaxLimit.
	MaxPerCustomer Limit `json:"max_per_customer,omitempty"`
	// MinGap is the least time between two issues to one customer, 0 to
	// MaxDuration.
	MinGap time.Duration `json:"min_gap,omitempty"`
	// MaxTotal limits the coupons issued from the series, 0 (no limit) to
	// MaxLimit.
	MaxTotal Limit `json:"max_total,omitempty"`
	// OncePerCustomer allows one issue per customer; MaxPerCustomer must
	// then be unset. A common code is issued to a customer at most once.
	OncePerCustomer bool `json:"once_per_customer,omitempty"`
	// AudienceOnly restricts issuance to listed customers.
	AudienceOnly bool `json:"audience_only,omitempty"`
}

// CustomerLimit is the effective per-customer maximum.
func (r *IssuanceRules) CustomerLimit() Limit {
	if r.OncePerCustomer {
		return 1
	}
	return r.MaxPerCustomer
}

// Validate reports every field of r that breaks a rule, like
// [RedemptionRules.Validate].
func (r *IssuanceRules) Validate(prefix string) error {
	var f errcode.Fields
	r.ValidateInto(&f, prefix)
	return f.Err()
}

// ValidateInto adds r's field errors to f, for a caller that validates a
// larger value.
func (r *IssuanceRules) ValidateInto(f *errcode.Fields, p string) {
	checkLimit(f, p+"MaxPerCustomer", r.MaxPerCustomer)
	checkLimit(f, p+"MaxTotal", r.MaxTotal)
	if r.OncePerCustomer && r.MaxPerCustomer != NoLimit {
		f.Add(errcode.InvalidConfig, p+"MaxPerCustomer", "does not apply with OncePerCustomer, which allows one issue per customer")
	}
	checkDuration(f, p+"MinGap", r.MinGap)
}

func checkLimit(f *errcode.Fields, field string, l Limit) {
	switch {
	case l < 0:
		f.Add(errcode.InvalidConfig, field, fmt.Sprintf("limit %d is negative; use 0 for no limit", l))
	case l > MaxLimit:
		f.Add(errcode.InvalidConfig, field, fmt.Sprintf("limit %d is above %d", l, MaxLimit))
	}
}

// checkDuration adds an error for field unless 0 <= d <= MaxDuration, and
// reports whether d is within that range.
func checkDuration(f *errcode.Fields, field string, d time.Duration) bool {
	switch {
	case d < 0:
		f.Add(errcode.InvalidConfig, field, "must not be negative")
	case d > MaxDuration:
		f.Add(errcode.InvalidConfig, field, fmt.Sprintf("%v is above %v (a hundred years)", d, MaxDuration))
	default:
		return true
	}
	return false
}
