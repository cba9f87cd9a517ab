package limits

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"
)

var base = time.Date(2026, time.March, 1, 0, 0, 0, 0, time.UTC)

func genTime(t *rapid.T, label string) time.Time {
	return base.Add(time.Duration(rapid.IntRange(0, 60*24).Draw(t, label)) * time.Hour)
}

func genLimit(t *rapid.T, label string) Limit {
	return Limit(rapid.IntRange(0, 5).Draw(t, label))
}

func genMoney(t *rapid.T, label string) decimal.Decimal {
	return decimal.New(int64(rapid.IntRange(0, 50000).Draw(t, label)), -int32(rapid.IntRange(0, 3).Draw(t, label+"Exp")))
}

var placeIDs = []string{"a", "b", "c"}

func genPlaceRefs(t *rapid.T) []PlaceRef {
	return rapid.SliceOfN(rapid.Custom(func(t *rapid.T) PlaceRef {
		return PlaceRef{Kind: PlaceKind(rapid.IntRange(1, 4).Draw(t, "kind")), ID: rapid.SampledFrom(placeIDs).Draw(t, "id")}
	}), 0, 4).Draw(t, "places")
}

// genRules draws valid redemption rules.
func genRules(t *rapid.T) RedemptionRules {
	var r RedemptionRules
	r.AnyoneMayRedeem = rapid.Bool().Draw(t, "anyone")
	if r.AnyoneMayRedeem {
		r.MaxPerCode = genLimit(t, "maxCode")
	}
	r.Repeat = rapid.Bool().Draw(t, "repeat")
	if r.Repeat {
		r.MaxPerCustomer = genLimit(t, "maxCustomer")
		if r.MaxPerCustomer != 1 {
			r.MinGap = time.Duration(rapid.IntRange(0, 72).Draw(t, "gapHours")) * time.Hour
		}
	}
	r.MaxPerSeries = genLimit(t, "maxSeries")
	if rapid.Bool().Draw(t, "hasStart") {
		r.Start = genTime(t, "start")
	}
	r.Weekdays = Weekdays(rapid.IntRange(0, 127).Draw(t, "weekdays"))
	r.MonthDays = MonthDays(rapid.Uint32().Draw(t, "monthdays") &^ 1)
	for range rapid.IntRange(0, 2).Draw(t, "nHours") {
		from := rapid.IntRange(0, 23).Draw(t, "from")
		r.Hours = append(r.Hours, HourRange{From: from, To: rapid.IntRange(from+1, 24).Draw(t, "to")})
	}
	r.Places = NewPlaceSet(genPlaceRefs(t)...)
	if rapid.Bool().Draw(t, "hasMin") {
		r.MinBill = decimal.NewNullDecimal(genMoney(t, "min"))
	}
	if rapid.Bool().Draw(t, "hasMax") {
		m := genMoney(t, "max")
		if r.MinBill.Valid && m.LessThan(r.MinBill.Decimal) {
			m = r.MinBill.Decimal
		}
		r.MaxBill = decimal.NewNullDecimal(m)
	}
	if rapid.Bool().Draw(t, "hasRegFrom") {
		r.NewCustomers.RegisteredFrom = genTime(t, "regFrom")
	}
	if rapid.Bool().Draw(t, "hasRegTo") {
		to := genTime(t, "regTo")
		if to.Before(r.NewCustomers.RegisteredFrom) {
			to = r.NewCustomers.RegisteredFrom
		}
		r.NewCustomers.RegisteredTo = to
	}
	if rapid.Bool().Draw(t, "limitTx") {
		r.NewCustomers.LimitTransactions = true
		r.NewCustomers.MaxTransactions = int64(rapid.IntRange(0, 3).Draw(t, "maxTx"))
	}
	if err := r.Validate(""); err != nil {
		t.Fatalf("generator drew invalid rules: %v", err)
	}
	return r
}

func genCounts(t *rapid.T) RedemptionCounts {
	c := RedemptionCounts{
		Code:         int64(rapid.IntRange(0, 6).Draw(t, "code")),
		CustomerCode: int64(rapid.IntRange(0, 6).Draw(t, "customerCode")),
		Series:       int64(rapid.IntRange(0, 6).Draw(t, "series")),
	}
	if rapid.Bool().Draw(t, "hasLast") {
		c.CustomerLast = genTime(t, "last")
	}
	return c
}

func genRequest(t *rapid.T) RedemptionRequest {
	q := RedemptionRequest{
		At:     genTime(t, "at"),
		Bill:   genMoney(t, "bill"),
		Holder: rapid.Bool().Draw(t, "holder"),
		Issued: rapid.Float64Range(0, 1).Draw(t, "issuedP") < 0.9,
	}
	pick := rapid.SampledFrom(append([]string{""}, placeIDs...))
	q.Place = Place{Till: pick.Draw(t, "till"), Store: pick.Draw(t, "store"), Zone: pick.Draw(t, "zone"), Concept: pick.Draw(t, "concept")}
	if rapid.Bool().Draw(t, "knownReg") {
		q.Customer.Registered = genTime(t, "registered")
	}
	q.Customer.Transactions = int64(rapid.IntRange(0, 5).Draw(t, "tx"))
	return q
}

// tighten returns r with one more restriction, chosen at random.
func tighten(t *rapid.T, r RedemptionRules) RedemptionRules {
	lower := func(l Limit) Limit {
		if l == NoLimit {
			return Limit(rapid.IntRange(1, 5).Draw(t, "newLimit"))
		}
		return Limit(rapid.IntRange(1, int(l)).Draw(t, "lowerLimit"))
	}
	switch rapid.IntRange(0, 13).Draw(t, "which") {
	case 0:
		if r.AnyoneMayRedeem {
			r.MaxPerCode = lower(r.MaxPerCode)
		}
	case 1:
		if r.Repeat {
			// A gap does not apply to a single-use coupon, so
			// lowering the level to one would drop the gap: not a pure
			// tightening. With a gap, stop at two.
			if l := lower(r.MaxPerCustomer); r.MinGap == 0 || l >= 2 {
				r.MaxPerCustomer = l
			}
		}
	case 2:
		r.MaxPerSeries = lower(r.MaxPerSeries)
	case 3:
		if r.Repeat && r.MaxPerCustomer != 1 {
			r.MinGap += time.Duration(rapid.IntRange(1, 48).Draw(t, "moreGap")) * time.Hour
		}
	case 4:
		later := genTime(t, "laterStart")
		if r.Start.IsZero() || later.After(r.Start) {
			r.Start = later
		}
	case 5:
		if r.Weekdays == 0 {
			r.Weekdays = Weekdays(rapid.IntRange(1, 127).Draw(t, "someDays"))
		} else if sub := r.Weekdays & Weekdays(rapid.IntRange(0, 127).Draw(t, "mask")); sub != 0 {
			r.Weekdays = sub
		}
	case 6:
		if r.MonthDays == 0 {
			r.MonthDays = MonthDays(rapid.Uint32Range(2, 1<<32-1).Draw(t, "someMonthDays")) &^ 1
		} else if sub := r.MonthDays & MonthDays(rapid.Uint32().Draw(t, "mdMask")); sub != 0 {
			r.MonthDays = sub
		}
	case 7:
		if len(r.Hours) == 0 {
			from := rapid.IntRange(0, 23).Draw(t, "hFrom")
			r.Hours = []HourRange{{From: from, To: rapid.IntRange(from+1, 24).Draw(t, "hTo")}}
		} else if len(r.Hours) > 1 {
			r.Hours = slices.Clone(r.Hours[1:])
		}
	case 8:
		if r.Places.Empty() {
			r.Places = NewPlaceSet(PlaceRef{Kind: PlaceKind(rapid.IntRange(1, 4).Draw(t, "k")), ID: rapid.SampledFrom(placeIDs).Draw(t, "pid")})
		} else if refs := r.Places.Refs(); len(refs) > 1 {
			r.Places = NewPlaceSet(refs[1:]...)
		}
	case 9:
		m := genMoney(t, "raiseMin")
		if (!r.MinBill.Valid || m.GreaterThan(r.MinBill.Decimal)) && (!r.MaxBill.Valid || !m.GreaterThan(r.MaxBill.Decimal)) {
			r.MinBill = decimal.NewNullDecimal(m)
		}
	case 10:
		m := genMoney(t, "lowerMax")
		if (!r.MaxBill.Valid || m.LessThan(r.MaxBill.Decimal)) && (!r.MinBill.Valid || !m.LessThan(r.MinBill.Decimal)) {
			r.MaxBill = decimal.NewNullDecimal(m)
		}
	case 11:
		from := genTime(t, "laterFrom")
		if (r.NewCustomers.RegisteredFrom.IsZero() || from.After(r.NewCustomers.RegisteredFrom)) &&
			(r.NewCustomers.RegisteredTo.IsZero() || !from.After(r.NewCustomers.RegisteredTo)) {
			r.NewCustomers.RegisteredFrom = from
		}
	case 12:
		if !r.NewCustomers.LimitTransactions {
			r.NewCustomers.LimitTransactions = true
			r.NewCustomers.MaxTransactions = int64(rapid.IntRange(0, 3).Draw(t, "txLimit"))
		} else if r.NewCustomers.MaxTransactions > 0 {
			r.NewCustomers.MaxTransactions--
		}
	case 13:
		if r.Repeat && r.MaxPerCustomer != 1 && r.MinGap == 0 {
			r.Repeat, r.MaxPerCustomer = false, 0
		}
	}
	return r
}

// Adding a rule never turns a denial into an allowance, and never removes a
// reason other than the one it replaces with a stricter one.
func TestPropertyTighteningNeverAllowsMore(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := genRules(t)
		c := genCounts(t)
		q := genRequest(t)
		tight := tighten(t, r)
		if err := tight.Validate(""); err != nil {
			t.Fatalf("tighten drew invalid rules: %v", err)
		}
		before := EvaluateRedemption(&r, &c, &q)
		after := EvaluateRedemption(&tight, &c, &q)
		if !before.Allowed() && after.Allowed() {
			t.Fatalf("adding a rule turned denial %v into an allowance", before)
		}
		if after.Count() < before.Count() {
			t.Fatalf("adding a rule dropped reasons: before %v, after %v", before, after)
		}
	})
}

// More usage never turns a denial into an allowance.
func TestPropertyMoreUsageNeverAllowsMore(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := genRules(t)
		c := genCounts(t)
		q := genRequest(t)
		more := c
		more.Code += int64(rapid.IntRange(0, 3).Draw(t, "dCode"))
		more.CustomerCode += int64(rapid.IntRange(0, 3).Draw(t, "dCustomer"))
		more.Series += int64(rapid.IntRange(0, 3).Draw(t, "dSeries"))
		if !c.CustomerLast.IsZero() {
			more.CustomerLast = c.CustomerLast.Add(time.Duration(rapid.IntRange(0, 48).Draw(t, "dLast")) * time.Hour)
		}
		before := EvaluateRedemption(&r, &c, &q)
		after := EvaluateRedemption(&r, &more, &q)
		if !before.Allowed() && after.Allowed() {
			t.Fatalf("more usage turned denial %v into an allowance", before)
		}
	})
}

// A decision does not depend on the order of sets and lists in the rules.
func TestPropertyOrderIndependent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := genRules(t)
		c := genCounts(t)
		q := genRequest(t)
		refs := genPlaceRefs(t)
		r.Places = NewPlaceSet(refs...)
		days := rapid.SliceOfN(rapid.IntRange(0, 6), 0, 7).Draw(t, "days")
		wd := make([]time.Weekday, len(days))
		for i, d := range days {
			wd[i] = time.Weekday(d)
		}
		r.Weekdays = WeekdaysOf(wd...)
		md := rapid.SliceOfN(rapid.IntRange(1, 31), 0, 6).Draw(t, "mdays")
		r.MonthDays = MonthDaysOf(md...)
		want := EvaluateRedemption(&r, &c, &q)

		perm := func(n int, label string) []int {
			return rapid.Permutation(seq(n)).Draw(t, label)
		}
		shuffled := r
		shuffled.Places = NewPlaceSet(permuted(refs, perm(len(refs), "pPerm"))...)
		shuffled.Weekdays = WeekdaysOf(permuted(wd, perm(len(wd), "wPerm"))...)
		shuffled.MonthDays = MonthDaysOf(permuted(md, perm(len(md), "mPerm"))...)
		shuffled.Hours = permuted(r.Hours, perm(len(r.Hours), "hPerm"))
		if got := EvaluateRedemption(&shuffled, &c, &q); got != want {
			t.Fatalf("reordering the rules changed the decision: %v vs %v", want, got)
		}
	})
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

func permuted[T any](xs []T, p []int) []T {
	out := make([]T, len(xs))
	for i, j := range p {
		out[i] = xs[j]
	}
	return out
}

// Issuance: tightening never allows more, and the customer limit is exact.
func TestPropertyIssuance(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := IssuanceRules{
			MaxPerCustomer:  genLimit(t, "maxCustomer"),
			MinGap:          time.Duration(rapid.IntRange(0, 48).Draw(t, "gap")) * time.Hour,
			MaxTotal:        genLimit(t, "maxTotal"),
			OncePerCustomer: rapid.Bool().Draw(t, "once"),
			AudienceOnly:    rapid.Bool().Draw(t, "audience"),
		}
		c := IssuanceCounts{Series: int64(rapid.IntRange(0, 6).Draw(t, "series")), Customer: int64(rapid.IntRange(0, 6).Draw(t, "customer"))}
		if rapid.Bool().Draw(t, "hasLast") {
			c.CustomerLast = genTime(t, "last")
		}
		q := IssuanceRequest{At: genTime(t, "at"), InAudience: rapid.Bool().Draw(t, "in"), Excluded: rapid.Bool().Draw(t, "excluded")}
		d := EvaluateIssuance(&r, &c, &q)
		lim := r.CustomerLimit()
		if lim != NoLimit && c.Customer >= int64(lim) && d.Allowed() {
			t.Fatalf("customer at %d of %d was allowed", c.Customer, lim)
		}
		tight := r
		switch rapid.IntRange(0, 3).Draw(t, "which") {
		case 0:
			tight.MaxTotal = Limit(rapid.IntRange(1, 5).Draw(t, "newTotal"))
			if r.MaxTotal != NoLimit && tight.MaxTotal > r.MaxTotal {
				tight.MaxTotal = r.MaxTotal
			}
		case 1:
			tight.OncePerCustomer = true
		case 2:
			tight.AudienceOnly = true
		case 3:
			tight.MinGap += time.Hour
		}
		if after := EvaluateIssuance(&tight, &c, &q); !d.Allowed() && after.Allowed() {
			t.Fatalf("adding an issuance rule turned denial %v into an allowance", d)
		}
	})
}

func TestPropertyCmpMoney(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := decimal.New(rapid.Int64().Draw(t, "a"), int32(rapid.IntRange(-20, 5).Draw(t, "ea")))
		b := decimal.New(rapid.Int64().Draw(t, "b"), int32(rapid.IntRange(-20, 5).Draw(t, "eb")))
		if got, want := cmpMoney(a, b), a.Cmp(b); got != want {
			t.Fatalf("cmpMoney(%v, %v) = %d, want %d", a, b, got, want)
		}
	})
}

// Issuance: where the rules do not decide on the customer's issue counter
// (DecidesOnCustomer), its value changes nothing in the decision, so a
// caller that does not read it decides the same as one that does.
func TestPropertyIssuanceWithoutCustomerCounter(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := IssuanceRules{MaxTotal: genLimit(t, "maxTotal"), AudienceOnly: rapid.Bool().Draw(t, "audience")}
		if rapid.Bool().Draw(t, "customerLimit") {
			r.MaxPerCustomer = Limit(rapid.IntRange(1, 5).Draw(t, "maxCustomer"))
			r.OncePerCustomer = rapid.Bool().Draw(t, "once")
		}
		if rapid.Bool().Draw(t, "hasGap") {
			r.MinGap = time.Duration(rapid.IntRange(1, 48).Draw(t, "gap")) * time.Hour
		}
		q := IssuanceRequest{At: genTime(t, "at"), InAudience: rapid.Bool().Draw(t, "in"), Excluded: rapid.Bool().Draw(t, "excluded")}
		read := IssuanceCounts{Series: int64(rapid.IntRange(0, 6).Draw(t, "series")), Customer: int64(rapid.IntRange(0, 6).Draw(t, "customer"))}
		if rapid.Bool().Draw(t, "hasLast") {
			read.CustomerLast = q.At.Add(-time.Duration(rapid.IntRange(-24, 72).Draw(t, "since")) * time.Hour)
		}
		unread := IssuanceCounts{Series: read.Series}
		d, u := EvaluateIssuance(&r, &read, &q), EvaluateIssuance(&r, &unread, &q)
		if !r.DecidesOnCustomer() && !reflect.DeepEqual(d, u) {
			t.Fatalf("rules %+v do not decide on the customer's counter, yet it changed the decision: %v read, %v unread", r, d, u)
		}
	})
}
