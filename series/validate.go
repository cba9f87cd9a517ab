package series

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
)

// Validate reports every field of s that breaks a rule, each as an
// *errcode.Error with code errcode.InvalidConfig and a dotted field path
// ("TimeZone", "Source.Sample", "Redemption.MaxPerCode",
// "Reminders[1].At"); errcode.All lists them. It returns nil when s is
// valid. A store saves only a valid series.
//
// Besides each part's own rules (see the field documentation and
// limits.RedemptionRules.ValidateInto, limits.IssuanceRules.ValidateInto),
// Validate enforces which limits apply to which kind of series:
//   - with AnyoneMayRedeem off only the holder redeems, so the code level is
//     the customer level and Redemption.MaxPerCode must be unset, whatever
//     the code source;
//   - a common code has no code level (customer and series levels only):
//     Redemption.MaxPerCode must be unset even with AnyoneMayRedeem;
//   - third-party codes are issued by an outside provider: they never allow
//     AnyoneMayRedeem, and the series' issuance and reminder settings do
//     not apply to them, so every Issuance field and Reminders must be
//     unset;
//   - a common code is issued to a customer at most once, implied rather
//     than configured (see [Series.EffectiveIssuance]); a per-customer
//     maximum, a gap between issues and a series maximum do not apply to
//     it, so Issuance.MaxPerCustomer, MinGap and MaxTotal must be unset.
func (s *Series) Validate() error {
	var f errcode.Fields
	if strings.TrimSpace(s.Name) == "" {
		f.Add(errcode.InvalidConfig, "Name", "is required")
	}
	checkEnum(&f, "Status", statusNames, s.Status, "status")
	if !s.Start.IsZero() && !s.End.IsZero() && !s.End.After(s.Start) {
		f.Add(errcode.InvalidConfig, "End", "must be after Start")
	}
	if _, err := s.Location(); err != nil {
		f.Add(errcode.InvalidConfig, "TimeZone", errcode.All(err)[0].Message)
	}
	s.Source.validateInto(&f, "Source.")
	s.validateIssuance(&f, "Issuance.")
	s.validateRedemption(&f, "Redemption.")
	s.Expiry.validateInto(&f, "Expiry.", s.End)
	s.Discount.validateInto(&f, "Discount.")
	s.validateReminders(&f)
	s.validateCheckout(&f)
	s.validateInput(&f)
	if s.Version < 0 {
		f.Add(errcode.InvalidConfig, "Version", "must not be negative")
	}
	if !s.CreatedAt.IsZero() && !s.UpdatedAt.IsZero() && s.UpdatedAt.Before(s.CreatedAt) {
		f.Add(errcode.InvalidConfig, "UpdatedAt", "is before CreatedAt")
	}
	return f.Err()
}

func (s *Series) validateRedemption(f *errcode.Fields, p string) {
	// limits compares MinBill with MaxBill; leave out a bound too large to
	// compare cheaply, after reporting it.
	r := s.Redemption
	if r.MinBill.Valid && !checkDigits(f, p, "MinBill", r.MinBill.Decimal) {
		r.MinBill = decimal.NullDecimal{}
	}
	if r.MaxBill.Valid && !checkDigits(f, p, "MaxBill", r.MaxBill.Decimal) {
		r.MaxBill = decimal.NullDecimal{}
	}
	r.ValidateInto(f, p)
	switch s.Source.Kind {
	case Common:
		// Without AnyoneMayRedeem, limits already refuses a code level.
		if r.AnyoneMayRedeem && r.MaxPerCode != limits.NoLimit {
			f.Add(errcode.InvalidConfig, p+"MaxPerCode", "a common code has no code level; use the customer and series levels")
		}
	case ThirdParty:
		if r.AnyoneMayRedeem {
			f.Add(errcode.InvalidConfig, p+"AnyoneMayRedeem", "third-party codes cannot be redeemed by anyone but the holder")
			if r.MaxPerCode != limits.NoLimit {
				f.Add(errcode.InvalidConfig, p+"MaxPerCode", "third-party codes have no code level; it is the customer level")
			}
		}
	}
}

func (s *Series) validateIssuance(f *errcode.Fields, p string) {
	is := &s.Issuance
	if s.Source.Kind == ThirdParty {
		// Every issuance setting is refused, so the rule checks of
		// IssuanceRules (negative limits) are subsumed.
		const na = "issuance settings do not apply to third-party codes"
		for _, x := range []struct {
			field string
			set   bool
		}{
			{"MaxPerCustomer", is.MaxPerCustomer != limits.NoLimit},
			{"MinGap", is.MinGap != 0},
			{"MaxTotal", is.MaxTotal != limits.NoLimit},
			{"OncePerCustomer", is.OncePerCustomer},
			{"AudienceOnly", is.AudienceOnly},
			{"OnQualifyAgain", is.OnQualifyAgain != SendNothing},
			{"NotifyRemaining", is.NotifyRemaining != 0},
			{"ExcludeSeries", len(is.ExcludeSeries) > 0},
			{"ExcludeWithinMonths", is.ExcludeWithinMonths != 0},
		} {
			if x.set {
				f.Add(errcode.InvalidConfig, p+x.field, na)
			}
		}
		return
	}

	rules := is.IssuanceRules
	if s.Source.Kind == Common {
		// Refused whatever their value, so limits need not check them.
		const na = "does not apply to a common code, which is issued to a customer at most once"
		if rules.MaxPerCustomer != limits.NoLimit {
			f.Add(errcode.InvalidConfig, p+"MaxPerCustomer", na)
		}
		if rules.MinGap != 0 {
			f.Add(errcode.InvalidConfig, p+"MinGap", na)
		}
		if rules.MaxTotal != limits.NoLimit {
			f.Add(errcode.InvalidConfig, p+"MaxTotal", "does not apply to a common code")
		}
		rules.MaxPerCustomer, rules.MinGap, rules.MaxTotal = limits.NoLimit, 0, limits.NoLimit
	}
	rules.ValidateInto(f, p)
	checkEnum(f, p+"OnQualifyAgain", qualifyAgainNames, is.OnQualifyAgain, "behaviour")
	switch {
	case is.NotifyRemaining < 0:
		f.Add(errcode.InvalidConfig, p+"NotifyRemaining", "must not be negative")
	case is.NotifyRemaining > 0 && is.MaxTotal <= limits.NoLimit:
		f.Add(errcode.InvalidConfig, p+"NotifyRemaining", "needs MaxTotal")
	case is.NotifyRemaining > 0 && is.NotifyRemaining >= int64(is.MaxTotal):
		f.Add(errcode.InvalidConfig, p+"NotifyRemaining",
			fmt.Sprintf("threshold %d must be below MaxTotal %d", is.NotifyRemaining, is.MaxTotal))
	}
	switch {
	case is.ExcludeWithinMonths < 0:
		f.Add(errcode.InvalidConfig, p+"ExcludeWithinMonths", "must not be negative")
	case is.ExcludeWithinMonths > MaxExcludeMonths:
		f.Add(errcode.InvalidConfig, p+"ExcludeWithinMonths",
			fmt.Sprintf("%d is above %d", is.ExcludeWithinMonths, MaxExcludeMonths))
	case is.ExcludeWithinMonths == 0 && len(is.ExcludeSeries) > 0:
		f.Add(errcode.InvalidConfig, p+"ExcludeWithinMonths", "ExcludeSeries needs a window of months")
	case is.ExcludeWithinMonths > 0 && len(is.ExcludeSeries) == 0:
		f.Add(errcode.InvalidConfig, p+"ExcludeSeries", "ExcludeWithinMonths needs the series to exclude")
	}
	seen := make(map[string]bool, len(is.ExcludeSeries))
	for i, id := range is.ExcludeSeries {
		field := fmt.Sprintf("%sExcludeSeries[%d]", p, i)
		switch {
		case strings.TrimSpace(id) == "":
			f.Add(errcode.InvalidConfig, field, "is empty")
		case seen[id]:
			f.Add(errcode.InvalidConfig, field, fmt.Sprintf("series %q is listed twice", id))
		}
		seen[id] = true
	}
}
