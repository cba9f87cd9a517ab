package series_test

import (
	"encoding"
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
	"pgregory.net/rapid"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
)

var (
	spring = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	summer = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func nullDec(s string) decimal.NullDecimal { return decimal.NewNullDecimal(dec(s)) }

// validSeries is a valid generated-code series the tests change one field
// at a time.
func validSeries() series.Series {
	return series.Series{
		ID:       "spring",
		Name:     "Spring sale",
		Status:   series.Active,
		Start:    spring,
		End:      summer,
		TimeZone: "Europe/Berlin",
		Source:   series.Source{Kind: series.Generated, Length: 8, Alphabet: series.Alphanumeric},
		Expiry:   series.Expiry{Kind: series.DaysFromIssue, N: 30},
		Discount: series.Discount{Kind: series.Percent, Percent: dec("10"), Currency: "EUR"},
	}
}

// fields returns the field of every error in err, sorted, and fails when
// one of them is not an InvalidConfig *errcode.Error.
func fields(t *testing.T, err error) []string {
	t.Helper()
	var out []string
	for _, e := range errcode.All(err) {
		if e.Code != errcode.InvalidConfig {
			t.Errorf("field %q: code %v, want InvalidConfig", e.Field, e.Code)
		}
		out = append(out, e.Field)
	}
	slices.Sort(out)
	return out
}

func TestValidateAccepts(t *testing.T) {
	cases := []struct {
		name string
		edit func(*series.Series)
	}{
		{"base", func(*series.Series) {}},
		{"open-ended", func(s *series.Series) { s.Start, s.End = time.Time{}, time.Time{} }},
		{"UTC", func(s *series.Series) { s.TimeZone = "UTC" }},
		{"paused", func(s *series.Series) { s.Status = series.Paused }},
		{"ended", func(s *series.Series) { s.Status = series.Ended }},
		{"percent 100", func(s *series.Series) { s.Discount.Percent = dec("100") }},
		{"percent with cap", func(s *series.Series) { s.Discount.Cap = nullDec("25") }},
		{"fixed", func(s *series.Series) {
			s.Discount = series.Discount{Kind: series.Fixed, Amount: dec("5"), Currency: "USD", Scale: 3}
		}},
		{"numeric with prefix, suffix and check", func(s *series.Series) {
			s.Source = series.Source{Kind: series.Generated, Length: 4, Alphabet: series.Numeric,
				Prefix: "NY-", Suffix: "X", CheckChar: true}
		}},
		{"confusion-free 32", func(s *series.Series) {
			s.Source = series.Source{Kind: series.Generated, Length: 32, Alphabet: series.ConfusionFree}
		}},
		{"custom alphabet", func(s *series.Series) {
			s.Source = series.Source{Kind: series.Generated, Length: 6, Alphabet: series.Custom, CustomAlphabet: "AB12"}
		}},
		{"common", func(s *series.Series) { s.Source = series.Source{Kind: series.Common, Code: "HOLIDAY20"} }},
		{"common once per customer", func(s *series.Series) {
			s.Source = series.Source{Kind: series.Common, Code: "HOLIDAY_20-X"}
			s.Issuance.OncePerCustomer = true
			s.Issuance.AudienceOnly = true
		}},
		{"randomized common 5", func(s *series.Series) {
			s.Source = series.Source{Kind: series.RandomizedCommon, Sample: "AB123"}
		}},
		{"randomized common 10", func(s *series.Series) {
			s.Source = series.Source{Kind: series.RandomizedCommon, Sample: "TEST123456"}
		}},
		{"generated, fill ratio raised to 1", func(s *series.Series) {
			s.Source = series.Source{Kind: series.Generated, Length: 4, Alphabet: series.Numeric, MaxFill: 1}
		}},
		{"randomized common, fill ratio lowered", func(s *series.Series) {
			s.Source = series.Source{Kind: series.RandomizedCommon, Sample: "TEST123456", MaxFill: 0.01}
		}},
		{"uploaded with customers", func(s *series.Series) {
			s.Source = series.Source{Kind: series.Uploaded, WithCustomers: true}
		}},
		{"third party", func(s *series.Series) {
			s.Source = series.Source{Kind: series.ThirdParty, WithCustomers: true}
			s.Redemption.MaxPerSeries = 5000
		}},
		{"issuance settings", func(s *series.Series) {
			s.Issuance.MaxPerCustomer = 3
			s.Issuance.MinGap = 24 * time.Hour
			s.Issuance.MaxTotal = 1000
			s.Issuance.NotifyRemaining = 100
			s.Issuance.OnQualifyAgain = series.SendExisting
			s.Issuance.ExcludeSeries = []string{"winter", "spring"}
			s.Issuance.ExcludeWithinMonths = 6
		}},
		{"with offer", func(s *series.Series) { s.Expiry = series.Expiry{Kind: series.WithOffer} }},
		{"month ends", func(s *series.Series) {
			s.Expiry = series.Expiry{Kind: series.MonthEndsFromIssue, N: series.MaxExpiryMonths}
		}},
		{"days 0", func(s *series.Series) { s.Expiry = series.Expiry{Kind: series.DaysFromIssue} }},
		{"reminders", func(s *series.Series) {
			s.Reminders = []series.Reminder{{DaysBefore: 3, At: series.At(10, 0), Channel: "sms"},
				{DaysBefore: 3, At: series.At(10, 0), Channel: "email"}, {At: series.At(23, 59), Channel: "sms"}}
		}},
		{"reminder on the issue day", func(s *series.Series) {
			s.Reminders = []series.Reminder{{DaysBefore: s.Expiry.N, Channel: "sms"}}
		}},
		{"never, reminders before the offer ends", func(s *series.Series) {
			s.Expiry = series.Expiry{Kind: series.Never}
			s.Reminders = []series.Reminder{{DaysBefore: series.MaxReminderDays, At: series.At(9, 30), Channel: "sms"}}
		}},
		{"largest bounds", func(s *series.Series) {
			s.Issuance.MaxPerCustomer, s.Issuance.MaxTotal = limits.MaxLimit, limits.MaxLimit
			s.Issuance.MinGap = limits.MaxDuration
			s.Issuance.NotifyRemaining = int64(limits.MaxLimit) - 1
			s.Issuance.ExcludeSeries, s.Issuance.ExcludeWithinMonths = []string{"winter"}, series.MaxExcludeMonths
			s.Redemption.AnyoneMayRedeem, s.Redemption.Repeat = true, true
			s.Redemption.MaxPerCode, s.Redemption.MaxPerCustomer, s.Redemption.MaxPerSeries = limits.MaxLimit, limits.MaxLimit, limits.MaxLimit
			s.Redemption.MinGap = limits.MaxDuration
			s.Redemption.NewCustomers.LimitTransactions, s.Redemption.NewCustomers.MaxTransactions = true, int64(limits.MaxLimit)
			s.Expiry = series.Expiry{Kind: series.DaysFromIssue, N: series.MaxExpiryDays}
			s.Reminders = []series.Reminder{{DaysBefore: series.MaxReminderDays, At: series.At(23, 59), Channel: "sms"}}
		}},
		{"18 digits each side", func(s *series.Series) {
			s.Discount.Cap = nullDec("999999999999999999.999999999999999999")
			s.Redemption.MinBill = nullDec("0.000000000000000001")
		}},
		{"store fields", func(s *series.Series) {
			s.Version = 7
			s.CreatedAt = spring
			s.UpdatedAt = spring
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := validSeries()
			tc.edit(&s)
			if err := s.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
}

func TestValidateRejects(t *testing.T) {
	cases := []struct {
		name string
		edit func(*series.Series)
		want []string
	}{
		{"no name", func(s *series.Series) { s.Name = " " }, []string{"Name"}},
		{"no status", func(s *series.Series) { s.Status = 0 }, []string{"Status"}},
		{"unknown status", func(s *series.Series) { s.Status = 9 }, []string{"Status"}},
		{"end equals start", func(s *series.Series) { s.End = s.Start }, []string{"End"}},
		{"end before start", func(s *series.Series) { s.End = s.Start.Add(-time.Hour) }, []string{"End"}},
		{"no time zone", func(s *series.Series) { s.TimeZone = "" }, []string{"TimeZone"}},
		{"unknown time zone", func(s *series.Series) { s.TimeZone = "Mars/Olympus_Mons" }, []string{"TimeZone"}},
		{"local time zone", func(s *series.Series) { s.TimeZone = "Local" }, []string{"TimeZone"}},

		// Source.
		{"no source kind", func(s *series.Series) { s.Source = series.Source{} }, []string{"Source.Kind"}},
		{"unknown source kind", func(s *series.Series) { s.Source.Kind = 42 }, []string{"Source.Kind"}},
		{"length 3", func(s *series.Series) { s.Source.Length = 3 }, []string{"Source.Length"}},
		{"length 33", func(s *series.Series) { s.Source.Length = 33 }, []string{"Source.Length"}},
		{"no alphabet", func(s *series.Series) { s.Source.Alphabet = "" }, []string{"Source.Alphabet"}},
		{"unknown alphabet", func(s *series.Series) { s.Source.Alphabet = "hex" }, []string{"Source.Alphabet"}},
		{"custom alphabet of one", func(s *series.Series) {
			s.Source.Alphabet, s.Source.CustomAlphabet = series.Custom, "A"
		}, []string{"Source.CustomAlphabet"}},
		{"custom alphabet missing", func(s *series.Series) { s.Source.Alphabet = series.Custom }, []string{"Source.CustomAlphabet"}},
		{"custom alphabet duplicate", func(s *series.Series) {
			s.Source.Alphabet, s.Source.CustomAlphabet = series.Custom, "ABCA"
		}, []string{"Source.CustomAlphabet"}},
		{"custom alphabet duplicate ignoring case", func(s *series.Series) {
			s.Source.Alphabet, s.Source.CustomAlphabet = series.Custom, "aBA"
		}, []string{"Source.CustomAlphabet"}},
		{"custom alphabet punctuation", func(s *series.Series) {
			s.Source.Alphabet, s.Source.CustomAlphabet = series.Custom, "AB-"
		}, []string{"Source.CustomAlphabet"}},
		{"custom alphabet without custom", func(s *series.Series) { s.Source.CustomAlphabet = "AB" }, []string{"Source.CustomAlphabet"}},
		{"prefix with space", func(s *series.Series) { s.Source.Prefix = "NY 24" }, []string{"Source.Prefix"}},
		{"suffix too long", func(s *series.Series) { s.Source.Suffix = "ABCDEFGHIJKLMNOPQ" }, []string{"Source.Suffix"}},
		{"common without code", func(s *series.Series) { s.Source = series.Source{Kind: series.Common} }, []string{"Source.Code"}},
		{"common code with space", func(s *series.Series) {
			s.Source = series.Source{Kind: series.Common, Code: "HOLI DAY"}
		}, []string{"Source.Code"}},
		{"common with generated fields", func(s *series.Series) {
			s.Source.Kind, s.Source.Code, s.Source.CheckChar, s.Source.Prefix = series.Common, "HOLIDAY20", true, "X"
		}, []string{"Source.Alphabet", "Source.CheckChar", "Source.Length", "Source.Prefix"}},
		{"code on generated", func(s *series.Series) { s.Source.Code = "HOLIDAY20" }, []string{"Source.Code"}},
		{"sample of 4", func(s *series.Series) {
			s.Source = series.Source{Kind: series.RandomizedCommon, Sample: "TEST"}
		}, []string{"Source.Sample"}},
		{"sample of 11", func(s *series.Series) {
			s.Source = series.Source{Kind: series.RandomizedCommon, Sample: "TEST1234567"}
		}, []string{"Source.Sample"}},
		{"sample with hyphen", func(s *series.Series) {
			s.Source = series.Source{Kind: series.RandomizedCommon, Sample: "TEST-1234"}
		}, []string{"Source.Sample"}},
		{"sample not ASCII", func(s *series.Series) {
			s.Source = series.Source{Kind: series.RandomizedCommon, Sample: "TÉST123"}
		}, []string{"Source.Sample"}},
		{"no sample", func(s *series.Series) {
			s.Source = series.Source{Kind: series.RandomizedCommon}
		}, []string{"Source.Sample"}},
		{"sample on generated", func(s *series.Series) { s.Source.Sample = "TEST12345" }, []string{"Source.Sample"}},
		{"with customers on generated", func(s *series.Series) { s.Source.WithCustomers = true }, []string{"Source.WithCustomers"}},
		{"fill ratio above 1", func(s *series.Series) { s.Source.MaxFill = 1.01 }, []string{"Source.MaxFill"}},
		{"negative fill ratio", func(s *series.Series) { s.Source.MaxFill = -0.5 }, []string{"Source.MaxFill"}},
		{"fill ratio NaN", func(s *series.Series) { s.Source.MaxFill = math.NaN() }, []string{"Source.MaxFill"}},
		{"fill ratio on a common code", func(s *series.Series) {
			s.Source = series.Source{Kind: series.Common, Code: "HOLIDAY20", MaxFill: 0.5}
		}, []string{"Source.MaxFill"}},
		{"fill ratio on uploaded codes", func(s *series.Series) {
			s.Source = series.Source{Kind: series.Uploaded, MaxFill: 1}
		}, []string{"Source.MaxFill"}},

		// Redemption: the rules of limits.
		{"negative series level", func(s *series.Series) { s.Redemption.MaxPerSeries = -1 }, []string{"Redemption.MaxPerSeries"}},
		{"code level without anyone", func(s *series.Series) { s.Redemption.MaxPerCode = 5 }, []string{"Redemption.MaxPerCode"}},
		{"inverted hours", func(s *series.Series) {
			s.Redemption.Hours = []limits.HourRange{{From: 9, To: 17}, {From: 18, To: 12}}
		}, []string{"Redemption.Hours[1]"}},
		{"max bill below min bill", func(s *series.Series) {
			s.Redemption.MinBill, s.Redemption.MaxBill = nullDec("50"), nullDec("20")
		}, []string{"Redemption.MaxBill"}},
		{"gap with single use", func(s *series.Series) { s.Redemption.MinGap = time.Hour }, []string{"Redemption.MinGap"}},
		{"inverted registration", func(s *series.Series) {
			s.Redemption.NewCustomers.RegisteredFrom, s.Redemption.NewCustomers.RegisteredTo = summer, spring
		}, []string{"Redemption.NewCustomers.RegisteredTo"}},
		{"place without kind or id", func(s *series.Series) {
			s.Redemption.Places = limits.NewPlaceSet(limits.PlaceRef{ID: "s-1"}, limits.PlaceRef{Kind: limits.Store},
				limits.PlaceRef{Kind: limits.Till, ID: "t-9"})
		}, []string{"Redemption.Places", "Redemption.Places"}},
		{"customer level one without repeat", func(s *series.Series) { s.Redemption.MaxPerCustomer = 1 }, []string{"Redemption.MaxPerCustomer"}},
		{"customer level three without repeat", func(s *series.Series) { s.Redemption.MaxPerCustomer = 3 }, []string{"Redemption.MaxPerCustomer"}},
		{"transactions limit without its switch", func(s *series.Series) {
			s.Redemption.NewCustomers.MaxTransactions = 2
		}, []string{"Redemption.NewCustomers.MaxTransactions"}},
		{"redemption figures past their bounds", func(s *series.Series) {
			s.Redemption.AnyoneMayRedeem, s.Redemption.Repeat = true, true
			s.Redemption.MaxPerCode, s.Redemption.MaxPerCustomer, s.Redemption.MaxPerSeries = limits.MaxLimit+1, math.MaxInt64, limits.MaxLimit+1
			s.Redemption.MinGap = limits.MaxDuration + 1
			s.Redemption.NewCustomers.LimitTransactions, s.Redemption.NewCustomers.MaxTransactions = true, math.MaxInt64
		}, []string{"Redemption.MaxPerCode", "Redemption.MaxPerCustomer", "Redemption.MaxPerSeries", "Redemption.MinGap",
			"Redemption.NewCustomers.MaxTransactions"}},
		// Redemption: which limits apply to which kind of series.
		{"common code level with anyone", func(s *series.Series) {
			s.Source = series.Source{Kind: series.Common, Code: "HOLIDAY20"}
			s.Redemption.AnyoneMayRedeem, s.Redemption.MaxPerCode = true, 5
		}, []string{"Redemption.MaxPerCode"}},
		{"common code level without anyone", func(s *series.Series) {
			s.Source = series.Source{Kind: series.Common, Code: "HOLIDAY20"}
			s.Redemption.MaxPerCode = 5
		}, []string{"Redemption.MaxPerCode"}},
		{"third party anyone", func(s *series.Series) {
			s.Source = series.Source{Kind: series.ThirdParty}
			s.Redemption.AnyoneMayRedeem = true
		}, []string{"Redemption.AnyoneMayRedeem"}},
		{"third party anyone and code level", func(s *series.Series) {
			s.Source = series.Source{Kind: series.ThirdParty}
			s.Redemption.AnyoneMayRedeem, s.Redemption.MaxPerCode = true, 5
		}, []string{"Redemption.AnyoneMayRedeem", "Redemption.MaxPerCode"}},

		// Issuance.
		{"negative issue limits", func(s *series.Series) {
			s.Issuance.MaxPerCustomer, s.Issuance.MaxTotal, s.Issuance.MinGap = -1, -2, -time.Second
		}, []string{"Issuance.MaxPerCustomer", "Issuance.MaxTotal", "Issuance.MinGap"}},
		{"notify without max total", func(s *series.Series) { s.Issuance.NotifyRemaining = 10 }, []string{"Issuance.NotifyRemaining"}},
		{"notify at max total", func(s *series.Series) {
			s.Issuance.MaxTotal, s.Issuance.NotifyRemaining = 10, 10
		}, []string{"Issuance.NotifyRemaining"}},
		{"notify negative", func(s *series.Series) {
			s.Issuance.MaxTotal, s.Issuance.NotifyRemaining = 10, -1
		}, []string{"Issuance.NotifyRemaining"}},
		{"unknown qualify again", func(s *series.Series) { s.Issuance.OnQualifyAgain = 7 }, []string{"Issuance.OnQualifyAgain"}},
		{"negative exclusion window", func(s *series.Series) {
			s.Issuance.ExcludeSeries, s.Issuance.ExcludeWithinMonths = []string{"winter"}, -1
		}, []string{"Issuance.ExcludeWithinMonths"}},
		{"exclusion without window", func(s *series.Series) {
			s.Issuance.ExcludeSeries = []string{"winter"}
		}, []string{"Issuance.ExcludeWithinMonths"}},
		{"exclusion window without series", func(s *series.Series) {
			s.Issuance.ExcludeWithinMonths = 6
		}, []string{"Issuance.ExcludeSeries"}},
		{"exclusion empty and duplicate", func(s *series.Series) {
			s.Issuance.ExcludeSeries, s.Issuance.ExcludeWithinMonths = []string{"winter", "", "winter"}, 6
		}, []string{"Issuance.ExcludeSeries[1]", "Issuance.ExcludeSeries[2]"}},
		{"exclusion window of MaxInt months", func(s *series.Series) {
			s.Issuance.ExcludeSeries, s.Issuance.ExcludeWithinMonths = []string{"winter"}, math.MaxInt
		}, []string{"Issuance.ExcludeWithinMonths"}},
		{"exclusion window past a hundred years", func(s *series.Series) {
			s.Issuance.ExcludeSeries, s.Issuance.ExcludeWithinMonths = []string{"winter"}, series.MaxExcludeMonths+1
		}, []string{"Issuance.ExcludeWithinMonths"}},
		{"issue figures past their bounds", func(s *series.Series) {
			s.Issuance.MaxPerCustomer, s.Issuance.MaxTotal, s.Issuance.MinGap = limits.MaxLimit+1, math.MaxInt64, math.MaxInt64
		}, []string{"Issuance.MaxPerCustomer", "Issuance.MaxTotal", "Issuance.MinGap"}},
		{"per-customer maximum with once per customer", func(s *series.Series) {
			s.Issuance.OncePerCustomer, s.Issuance.MaxPerCustomer = true, 1
		}, []string{"Issuance.MaxPerCustomer"}},
		{"common issue limits with once per customer, each reported once", func(s *series.Series) {
			s.Source = series.Source{Kind: series.Common, Code: "HOLIDAY20"}
			s.Issuance.OncePerCustomer = true
			s.Issuance.MaxPerCustomer, s.Issuance.MinGap, s.Issuance.MaxTotal = 3, time.Hour, math.MaxInt64
		}, []string{"Issuance.MaxPerCustomer", "Issuance.MaxTotal", "Issuance.MinGap"}},
		{"common issue limits", func(s *series.Series) {
			s.Source = series.Source{Kind: series.Common, Code: "HOLIDAY20"}
			s.Issuance.MaxPerCustomer, s.Issuance.MinGap, s.Issuance.MaxTotal = 3, time.Hour, 1000
		}, []string{"Issuance.MaxPerCustomer", "Issuance.MaxTotal", "Issuance.MinGap"}},
		{"third party issuance", func(s *series.Series) {
			s.Source = series.Source{Kind: series.ThirdParty}
			s.Issuance = series.Issuance{
				IssuanceRules: limits.IssuanceRules{MaxPerCustomer: 1, MinGap: time.Hour, MaxTotal: -5,
					OncePerCustomer: true, AudienceOnly: true},
				OnQualifyAgain: series.SendExisting, NotifyRemaining: 1,
				ExcludeSeries: []string{"x"}, ExcludeWithinMonths: 6,
			}
		}, []string{"Issuance.AudienceOnly", "Issuance.ExcludeSeries", "Issuance.ExcludeWithinMonths",
			"Issuance.MaxPerCustomer", "Issuance.MaxTotal", "Issuance.MinGap", "Issuance.NotifyRemaining",
			"Issuance.OnQualifyAgain", "Issuance.OncePerCustomer"}},

		// Expiry.
		{"no expiry kind", func(s *series.Series) { s.Expiry = series.Expiry{} }, []string{"Expiry.Kind"}},
		{"with offer without end", func(s *series.Series) {
			s.End, s.Expiry = time.Time{}, series.Expiry{Kind: series.WithOffer}
		}, []string{"Expiry.Kind"}},
		{"negative days", func(s *series.Series) { s.Expiry.N = -1 }, []string{"Expiry.N"}},
		{"too many days", func(s *series.Series) { s.Expiry.N = series.MaxExpiryDays + 1 }, []string{"Expiry.N"}},
		{"too many months", func(s *series.Series) {
			s.Expiry = series.Expiry{Kind: series.MonthEndsFromIssue, N: series.MaxExpiryMonths + 1}
		}, []string{"Expiry.N"}},
		{"N with never", func(s *series.Series) { s.Expiry = series.Expiry{Kind: series.Never, N: 3} }, []string{"Expiry.N"}},
		{"N with offer", func(s *series.Series) { s.Expiry = series.Expiry{Kind: series.WithOffer, N: 3} }, []string{"Expiry.N"}},

		// Discount.
		{"no discount kind", func(s *series.Series) { s.Discount.Kind = 0 }, []string{"Discount.Kind"}},
		{"percent 0", func(s *series.Series) { s.Discount.Percent = decimal.Zero }, []string{"Discount.Percent"}},
		{"percent negative", func(s *series.Series) { s.Discount.Percent = dec("-5") }, []string{"Discount.Percent"}},
		{"percent over 100", func(s *series.Series) { s.Discount.Percent = dec("100.01") }, []string{"Discount.Percent"}},
		{"percent with amount", func(s *series.Series) { s.Discount.Amount = dec("5") }, []string{"Discount.Amount"}},
		{"cap 0", func(s *series.Series) { s.Discount.Cap = nullDec("0") }, []string{"Discount.Cap"}},
		{"fixed negative", func(s *series.Series) {
			s.Discount = series.Discount{Kind: series.Fixed, Amount: dec("-1"), Currency: "EUR"}
		}, []string{"Discount.Amount"}},
		{"fixed zero", func(s *series.Series) {
			s.Discount = series.Discount{Kind: series.Fixed, Currency: "EUR"}
		}, []string{"Discount.Amount"}},
		{"fixed with percent and cap", func(s *series.Series) {
			s.Discount.Kind, s.Discount.Amount, s.Discount.Cap = series.Fixed, dec("5"), nullDec("3")
		}, []string{"Discount.Cap", "Discount.Percent"}},
		{"amount with too many decimals", func(s *series.Series) {
			s.Discount = series.Discount{Kind: series.Fixed, Amount: dec("1e-19"), Currency: "EUR"}
		}, []string{"Discount.Amount"}},
		{"percent far too small", func(s *series.Series) { s.Discount.Percent = decimal.New(1, -1000000000) }, []string{"Discount.Percent"}},
		{"cap far too large", func(s *series.Series) { s.Discount.Cap = decimal.NewNullDecimal(decimal.New(1, 1000000000)) }, []string{"Discount.Cap"}},
		{"cap of 19 digits", func(s *series.Series) { s.Discount.Cap = nullDec("1000000000000000000") }, []string{"Discount.Cap"}},
		{"bill bounds far apart", func(s *series.Series) {
			s.Redemption.MinBill, s.Redemption.MaxBill = decimal.NewNullDecimal(decimal.New(1, -1000000000)), decimal.NewNullDecimal(decimal.New(1, 1000000000))
		}, []string{"Redemption.MaxBill", "Redemption.MinBill"}},
		{"no currency", func(s *series.Series) { s.Discount.Currency = "" }, []string{"Discount.Currency"}},
		{"lower-case currency", func(s *series.Series) { s.Discount.Currency = "eur" }, []string{"Discount.Currency"}},
		{"four-letter currency", func(s *series.Series) { s.Discount.Currency = "EURO" }, []string{"Discount.Currency"}},
		{"negative scale", func(s *series.Series) { s.Discount.Scale = -1 }, []string{"Discount.Scale"}},
		{"scale 11", func(s *series.Series) { s.Discount.Scale = 11 }, []string{"Discount.Scale"}},

		// Reminders.
		{"reminder days negative", func(s *series.Series) {
			s.Reminders = []series.Reminder{{DaysBefore: -1, Channel: "sms"}}
		}, []string{"Reminders[0].DaysBefore"}},
		{"reminder days too many", func(s *series.Series) {
			s.Expiry = series.Expiry{Kind: series.Never}
			s.Reminders = []series.Reminder{{DaysBefore: series.MaxReminderDays + 1, Channel: "sms"}}
		}, []string{"Reminders[0].DaysBefore"}},
		{"reminder days beyond the expiry days", func(s *series.Series) {
			s.Reminders = []series.Reminder{{DaysBefore: s.Expiry.N + 1, Channel: "sms"}}
		}, []string{"Reminders[0].DaysBefore"}},
		{"reminder at 24:00", func(s *series.Series) {
			s.Reminders = []series.Reminder{{At: series.At(24, 0), Channel: "sms"}}
		}, []string{"Reminders[0].At"}},
		{"reminder at minute 60", func(s *series.Series) {
			s.Reminders = []series.Reminder{{At: series.At(9, 60), Channel: "sms"}}
		}, []string{"Reminders[0].At"}},
		{"reminder at a negative hour", func(s *series.Series) {
			s.Reminders = []series.Reminder{{At: series.At(-1, 0), Channel: "sms"}}
		}, []string{"Reminders[0].At"}},
		{"reminder without channel", func(s *series.Series) {
			s.Reminders = []series.Reminder{{DaysBefore: 1, At: series.At(10, 0), Channel: " "}}
		}, []string{"Reminders[0].Channel"}},
		{"reminder repeated", func(s *series.Series) {
			s.Reminders = []series.Reminder{{DaysBefore: 1, Channel: "sms"}, {DaysBefore: 1, Channel: "sms"}}
		}, []string{"Reminders[1]"}},
		{"reminders for coupons that never expire", func(s *series.Series) {
			s.End, s.Expiry = time.Time{}, series.Expiry{Kind: series.Never}
			s.Reminders = []series.Reminder{{DaysBefore: 1, Channel: "sms"}}
		}, []string{"Reminders"}},
		{"reminders on third party", func(s *series.Series) {
			s.Source = series.Source{Kind: series.ThirdParty}
			s.Reminders = []series.Reminder{{DaysBefore: 1, Channel: "sms"}}
		}, []string{"Reminders"}},

		// Store fields.
		{"negative version", func(s *series.Series) { s.Version = -1 }, []string{"Version"}},
		{"updated before created", func(s *series.Series) {
			s.CreatedAt, s.UpdatedAt = summer, spring
		}, []string{"UpdatedAt"}},

		// All at once.
		{"several", func(s *series.Series) {
			s.TimeZone = "Nowhere/Special"
			s.Source = series.Source{Kind: series.RandomizedCommon, Sample: "AB"}
			s.Redemption.MaxPerCode = 3
			s.Discount.Percent = dec("150")
		}, []string{"Discount.Percent", "Redemption.MaxPerCode", "Source.Sample", "TimeZone"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := validSeries()
			tc.edit(&s)
			err := s.Validate()
			if err == nil {
				t.Fatal("Validate accepted the series")
			}
			if !errors.Is(err, errcode.ErrInvalidConfig) {
				t.Errorf("errors.Is(err, ErrInvalidConfig) = false for %v", err)
			}
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if diff := cmp.Diff(want, fields(t, err)); diff != "" {
				t.Errorf("fields (-want +got):\n%s\nerror: %v", diff, err)
			}
		})
	}
}

func TestLocation(t *testing.T) {
	s := validSeries()
	loc, err := s.Location()
	if err != nil || loc.String() != "Europe/Berlin" {
		t.Fatalf("Location() = %v, %v", loc, err)
	}
	for _, tz := range []string{"", "Local", "Europe/Nowhere", "../etc/passwd"} {
		s.TimeZone = tz
		_, err := s.Location()
		var ce *errcode.Error
		if !errors.As(err, &ce) || ce.Code != errcode.InvalidConfig || ce.Field != "TimeZone" {
			t.Errorf("Location(%q) error = %v, want InvalidConfig on TimeZone", tz, err)
		}
	}
}

func TestEffectiveIssuance(t *testing.T) {
	rules := limits.IssuanceRules{MaxPerCustomer: 3, MinGap: time.Hour, MaxTotal: 100, AudienceOnly: true}
	cases := []struct {
		kind series.SourceKind
		want limits.IssuanceRules
	}{
		{series.Generated, rules},
		{series.Uploaded, rules},
		{series.RandomizedCommon, rules},
		{series.Common, func() limits.IssuanceRules { r := rules; r.OncePerCustomer = true; return r }()},
		{series.ThirdParty, limits.IssuanceRules{}},
	}
	for _, tc := range cases {
		s := validSeries()
		s.Source.Kind = tc.kind
		s.Issuance.IssuanceRules = rules
		if diff := cmp.Diff(tc.want, s.EffectiveIssuance()); diff != "" {
			t.Errorf("%v: EffectiveIssuance (-want +got):\n%s", tc.kind, diff)
		}
	}

	// A common code: the second issue to one customer is refused.
	s := validSeries()
	s.Source = series.Source{Kind: series.Common, Code: "HOLIDAY20"}
	r := s.EffectiveIssuance()
	d := limits.EvaluateIssuance(&r, &limits.IssuanceCounts{Customer: 1}, &limits.IssuanceRequest{At: spring})
	if !d.Violates(limits.CommonCodeIssued) {
		t.Errorf("second issue of a common code: %v, want %v", d, limits.CommonCodeIssued)
	}
	d = limits.EvaluateIssuance(&r, &limits.IssuanceCounts{}, &limits.IssuanceRequest{At: spring})
	if !d.Allowed() {
		t.Errorf("first issue of a common code: %v", d)
	}
}

func TestSourcePredicates(t *testing.T) {
	for k := series.Generated; k <= series.ThirdParty; k++ {
		s := series.Source{Kind: k}
		if got, want := s.External(), k == series.ThirdParty; got != want {
			t.Errorf("%v.External() = %v", k, got)
		}
		if got, want := s.SharedCode(), k == series.Common; got != want {
			t.Errorf("%v.SharedCode() = %v", k, got)
		}
	}
}

func TestOpen(t *testing.T) {
	s := validSeries()
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{spring.Add(-time.Nanosecond), false},
		{spring, true},
		{summer.Add(-time.Nanosecond), true},
		{summer, false},
	} {
		if got := s.Open(tc.at); got != tc.want {
			t.Errorf("Open(%v) = %v, want %v", tc.at, got, tc.want)
		}
	}
	s.Start, s.End = time.Time{}, time.Time{}
	if !s.Open(spring) {
		t.Error("an open-ended series is not open")
	}
}

// Every error Validate reports is an InvalidConfig *errcode.Error naming a
// field, and the result does not depend on anything but the series.
func TestValidateErrorsNameFields(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genSeries(t)
		err := s.Validate()
		for _, e := range errcode.All(err) {
			if e.Code != errcode.InvalidConfig || e.Field == "" || e.Message == "" {
				t.Fatalf("bad error %#v", e)
			}
		}
		if err2 := s.Validate(); (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) {
			t.Fatalf("Validate not deterministic: %v vs %v", err, err2)
		}
	})
}

// genSeries draws a series from small domains around the valid values, so
// that both valid and invalid series come up.
func genSeries(t *rapid.T) series.Series {
	s := validSeries()
	s.Status = series.Status(rapid.IntRange(0, 4).Draw(t, "status"))
	s.TimeZone = rapid.SampledFrom([]string{"", "UTC", "Europe/Berlin", "Local", "Nope/Nope"}).Draw(t, "tz")
	s.Source.Kind = series.SourceKind(rapid.IntRange(0, 6).Draw(t, "kind"))
	s.Source.Length = rapid.IntRange(-1, 40).Draw(t, "length")
	s.Source.Alphabet = series.Alphabet(rapid.SampledFrom([]string{"", "numeric", "custom", "hex"}).Draw(t, "alphabet"))
	s.Source.CustomAlphabet = rapid.StringMatching(`[A-Za-z0-9-]{0,5}`).Draw(t, "custom")
	s.Source.Code = rapid.StringMatching(`[A-Z0-9 ]{0,6}`).Draw(t, "code")
	s.Source.Sample = rapid.StringMatching(`[A-Z0-9-]{0,12}`).Draw(t, "sample")
	s.Redemption.AnyoneMayRedeem = rapid.Bool().Draw(t, "anyone")
	s.Redemption.Repeat = rapid.Bool().Draw(t, "repeat")
	s.Redemption.MaxPerCode = limits.Limit(rapid.IntRange(-1, 5).Draw(t, "maxPerCode"))
	s.Redemption.MaxPerCustomer = limits.Limit(rapid.IntRange(-1, 5).Draw(t, "maxPerCustomer"))
	s.Issuance.MaxTotal = limits.Limit(rapid.IntRange(-1, 5).Draw(t, "maxTotal"))
	s.Issuance.NotifyRemaining = rapid.Int64Range(-1, 6).Draw(t, "notify")
	s.Issuance.ExcludeWithinMonths = rapid.IntRange(-1, 6).Draw(t, "months")
	s.Expiry.Kind = series.ExpiryKind(rapid.IntRange(0, 5).Draw(t, "expiry"))
	s.Expiry.N = rapid.IntRange(-1, 3).Draw(t, "n")
	s.Discount.Kind = series.DiscountKind(rapid.IntRange(0, 3).Draw(t, "discount"))
	s.Discount.Percent = decimal.NewFromInt(rapid.Int64Range(-10, 120).Draw(t, "percent"))
	s.Discount.Currency = rapid.SampledFrom([]string{"", "EUR", "eur", "EURO"}).Draw(t, "currency")
	if rapid.Bool().Draw(t, "reminder") {
		s.Reminders = []series.Reminder{{DaysBefore: rapid.IntRange(-1, 31).Draw(t, "daysBefore"),
			At: series.At(rapid.IntRange(-1, 24).Draw(t, "hour"), rapid.IntRange(-1, 60).Draw(t, "minute")), Channel: "sms"}}
	}
	if rapid.Bool().Draw(t, "noEnd") {
		s.End = time.Time{}
	}
	return s
}

func BenchmarkValidate(b *testing.B) {
	s := validSeries()
	s.TimeZone = "UTC"
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}

// A clone shares no slice with its original: changing one leaves the other.
func TestSeriesClone(t *testing.T) {
	s := series.Series{
		Reminders:  []series.Reminder{{}},
		Issuance:   series.Issuance{ExcludeSeries: []string{"a"}},
		Redemption: limits.RedemptionRules{Hours: []limits.HourRange{{From: 9, To: 17}}},
		Products: series.ProductRules{Include: []string{"a"}, Exclude: []string{"a"}, IncludeCategories: []string{"a"},
			ExcludeCategories: []string{"a"}},
	}
	c := s.Clone()
	c.Reminders[0].DaysBefore = 1
	c.Issuance.ExcludeSeries[0] = "b"
	c.Redemption.Hours[0].From = 10
	c.Products.Include[0], c.Products.Exclude[0] = "b", "b"
	c.Products.IncludeCategories[0], c.Products.ExcludeCategories[0] = "b", "b"
	p := s.Products
	if s.Reminders[0].DaysBefore != 0 || s.Issuance.ExcludeSeries[0] != "a" || s.Redemption.Hours[0].From != 9 ||
		p.Include[0] != "a" || p.Exclude[0] != "a" || p.IncludeCategories[0] != "a" || p.ExcludeCategories[0] != "a" {
		t.Errorf("changing a clone changed the original: %+v", s)
	}
}

// A series that sets no fill ratio makes at most 1 generated unique code in
// 10,000 of its space, and may fill a randomized common space.
func TestFillLimit(t *testing.T) {
	for _, tc := range []struct {
		src  series.Source
		want float64
	}{
		{series.Source{Kind: series.Generated}, 0.0001},
		{series.Source{Kind: series.Generated, MaxFill: 0.5}, 0.5},
		{series.Source{Kind: series.RandomizedCommon}, 1},
		{series.Source{Kind: series.RandomizedCommon, MaxFill: 0.25}, 0.25},
		{series.Source{Kind: series.Common}, 0},
		{series.Source{Kind: series.Uploaded}, 0},
		{series.Source{Kind: series.ThirdParty}, 0},
	} {
		if got := tc.src.FillLimit(); got != tc.want {
			t.Errorf("%s with MaxFill %g: FillLimit() = %g, want %g", tc.src.Kind, tc.src.MaxFill, got, tc.want)
		}
	}
}

// A missing or unknown choice is refused with a message that says the field
// is required, or names the unknown value, and lists the accepted values.
func TestValidateEnumMessages(t *testing.T) {
	cases := []struct {
		name, field, want string
		edit              func(*series.Series)
	}{
		{"no status", "Status", "is required; one of: active, paused, ended",
			func(s *series.Series) { s.Status = 0 }},
		{"unknown status", "Status", "unknown status 9; one of: active, paused, ended",
			func(s *series.Series) { s.Status = 9 }},
		{"no source kind", "Source.Kind", "is required; one of: generated, common, randomized_common, uploaded, third_party",
			func(s *series.Series) { s.Source = series.Source{} }},
		{"unknown source kind", "Source.Kind", "unknown source kind 42; one of: generated, common, randomized_common, uploaded, third_party",
			func(s *series.Series) { s.Source.Kind = 42 }},
		{"no alphabet", "Source.Alphabet", "is required; one of: numeric, alphanumeric, confusion-free, custom",
			func(s *series.Series) { s.Source.Alphabet = "" }},
		{"unknown alphabet", "Source.Alphabet", `unknown alphabet "hex"; one of: numeric, alphanumeric, confusion-free, custom`,
			func(s *series.Series) { s.Source.Alphabet = "hex" }},
		{"unknown behaviour", "Issuance.OnQualifyAgain", "unknown behaviour 7; one of: send_nothing, send_existing",
			func(s *series.Series) { s.Issuance.OnQualifyAgain = 7 }},
		{"no expiry kind", "Expiry.Kind", "is required; one of: with_offer, days_from_issue, month_ends_from_issue, never",
			func(s *series.Series) { s.Expiry = series.Expiry{} }},
		{"no discount kind", "Discount.Kind", "is required; one of: fixed, percent, per_unit",
			func(s *series.Series) { s.Discount.Kind = 0 }},
		{"unknown discount kind", "Discount.Kind", "unknown discount kind 4; one of: fixed, percent, per_unit",
			func(s *series.Series) { s.Discount.Kind = 4 }},
		{"place without kind", "Redemption.Places", `place "s-1": its kind is required; one of: till, store, zone, concept`,
			func(s *series.Series) { s.Redemption.Places = limits.NewPlaceSet(limits.PlaceRef{ID: "s-1"}) }},
		{"place of unknown kind", "Redemption.Places", `place "s-1": unknown place kind 9; one of: till, store, zone, concept`,
			func(s *series.Series) { s.Redemption.Places = limits.NewPlaceSet(limits.PlaceRef{Kind: 9, ID: "s-1"}) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := validSeries()
			tc.edit(&s)
			errs := errcode.All(s.Validate())
			if len(errs) != 1 || errs[0].Field != tc.field || errs[0].Message != tc.want || errs[0].Code != errcode.InvalidConfig {
				t.Errorf("Validate = %v, want one InvalidConfig error on %s: %q", errs, tc.field, tc.want)
			}
		})
	}
}

// Text that names no value of an enum is refused naming the accepted
// values.
func TestEnumTextMessages(t *testing.T) {
	for _, tc := range []struct {
		u    encoding.TextUnmarshaler
		want string
	}{
		{new(series.Status), `unknown Status "open"; one of: active, paused, ended`},
		{new(series.SourceKind), `unknown SourceKind "open"; one of: generated, common, randomized_common, uploaded, third_party`},
		{new(series.ExpiryKind), `unknown ExpiryKind "open"; one of: with_offer, days_from_issue, month_ends_from_issue, never`},
		{new(series.DiscountKind), `unknown DiscountKind "open"; one of: fixed, percent, per_unit`},
		{new(series.QualifyAgain), `unknown QualifyAgain "open"; one of: send_nothing, send_existing`},
		{new(limits.PlaceKind), `unknown place kind "open"; one of: till, store, zone, concept`},
	} {
		var ce *errcode.Error
		if err := tc.u.UnmarshalText([]byte("open")); !errors.As(err, &ce) || ce.Code != errcode.InvalidArgument || ce.Message != tc.want {
			t.Errorf("%T.UnmarshalText(open) = %v, want InvalidArgument %q", tc.u, err, tc.want)
		}
	}
	var ce *errcode.Error
	if _, err := series.Status(0).MarshalText(); !errors.As(err, &ce) || ce.Message != "unknown Status 0; one of: active, paused, ended" {
		t.Errorf("Status(0).MarshalText error = %v", err)
	}
}
