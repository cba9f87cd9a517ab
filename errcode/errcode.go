// Package errcode defines the one error type couponkit returns and the stable
// numeric codes it carries.
//
// Every error that couponkit returns for bad input or a refused operation
// wraps an *Error. Match a kind of failure with errors.Is against one of the
// sentinel values below (two *Error values match when their codes are equal),
// or read the code, field and message with errors.As:
//
//	if errors.Is(err, errcode.ErrRedeemed) { ... }
//
//	var ce *errcode.Error
//	if errors.As(err, &ce) {
//		log.Printf("code %d on field %q", ce.Code, ce.Field)
//	}
//
// Codes are part of the public contract: a code, once published, keeps its
// meaning. The codes of the widely used coupon revoke API that couponkit
// implements (404, 405, 682, 108, 712, 756) keep their numbers; every other code is
// couponkit's own, grouped by the hundred (1700s: a basket's lines,
// budgets and several coupons on one bill). The full table is in the
// documentation of [Code].
package errcode

import (
	"errors"
	"strconv"
	"strings"
)

// Code is a stable numeric identifier for a kind of failure.
//
//	code  name                        meaning
//	 108  GenericNotSupported         a common (generic) code cannot be revoked singly
//	 404  NotFound                    no such coupon code (or record) where it was looked for;
//	                                  every not-found code (682, 1112, 1602) also matches ErrNotFound
//	 405  Redeemed                    the coupon has an unreversed redemption
//	 682  CouponNotFound              no such coupon, or it is already revoked
//	 712  SeriesExpired               the series (offer) has ended
//	 756  NothingToRevoke             neither codes nor a customer were given
//
//	1001  InvalidConfig               a series configuration breaks a rule (see Field)
//	1002  InvalidArgument             a call argument is malformed or out of range (see Field)
//	1003  TooMany                     a call names more items than it may (50 codes, 100 coupons)
//	1004  UnknownCustomer             a customer identifier resolves to no customer
//
//	1101  InvalidTransition           the coupon's state does not allow the operation
//	1102  Revoked                     the coupon is revoked (terminal)
//	1103  Expired                     the coupon is past its expiry
//	1104  NotIssued                   the coupon has not been issued to anyone
//	1105  AlreadyIssued               the coupon is already issued
//	1106  NotHolder                   the customer does not hold the coupon
//	1107  TransferNotAllowed          the series does not allow transfer
//	1108  StillUsable                 reissue asked for a coupon that can still be used
//	1109  AlreadyReissued             the coupon was already reissued once
//	1110  PoolEmpty                   the series has no Available code left
//	1111  ExternalProvider            codes from an outside provider cannot be reissued
//	1112  RedemptionNotFound          no such redemption (or hold)
//	1113  AlreadyReversed             the redemption was already reversed
//	1114  HoldExpired                 the hold's time to live has passed
//	1115  SeriesPaused                the series is paused or ended
//	1116  CommonCodeIssued            a common code was already issued to this customer
//	1117  HeldElsewhere               every remaining use is held by another checkout for now
//	1118  KeyMismatch                 an idempotency key was used before with other parameters
//	1119  HoldReleased                the hold was released (or, by the clock, lapsed)
//	1120  AllowanceExceeded           a till's unverified offline uses passed its lease's allowance
//	1121  NoLease                     the till holds no usable lease of the series with a use left
//
//	1200  LimitReached                a redemption or issuance rule refused the request;
//	                                  the reasons are in the limits.Decision (codes 1201..1299)
//
//	1301  Conflict                    a concurrent change won; retrying may succeed
//	1302  GuardFailed                 a counter guard refused the change (a limit was reached)
//	1303  AlreadyExists               a record with the same key exists
//	1304  Unavailable                 the store cannot be reached
//
//	1401  CapacityExceeded            the code space cannot hold the requested count
//	1402  InvalidCode                 a code has characters outside its alphabet or the wrong length
//	1403  CheckFailed                 a code's check character does not match
//	1404  FillRatioExceeded           issuing would fill the code space past the allowed share
//	1405  FixedPartInUse              a randomized common code's fixed part is already used
//
//	1501  BadFile                     a bulk file is malformed (header, quoting, encoding, size)
//
//	1601  FuturePosition              a feed position is past the last event the store has
//	1602  UnknownConsumer             no feed checkpoint is kept under the consumer name;
//	                                  also matches ErrNotFound
//
//	1701  MinEligibleQuantity         the basket holds fewer eligible units than the series asks
//	1702  MinEligibleSubtotal         the basket's eligible lines come to less than the series asks
//	1703  NothingEligible             no line of the basket is eligible for the series
//	1704  NotCombinable               the coupon does not combine with one applied before it on the bill
//	                                  (one of them is exclusive, or their groups differ)
//	1705  CouponsPerBill              the coupon would bring the bill past the most coupons a coupon on it allows
//	1706  BudgetExhausted             the series' total budget has not enough left for the discount
//	1707  CustomerBudgetExhausted     the customer's budget in the series has not enough left
//	1708  NothingLeftToDiscount       the coupons applied before left nothing to discount on the eligible lines
type Code int

// The codes. See the table in the documentation of [Code].
const (
	GenericNotSupported Code = 108
	NotFound            Code = 404
	Redeemed            Code = 405
	CouponNotFound      Code = 682
	SeriesExpired       Code = 712
	NothingToRevoke     Code = 756

	InvalidConfig   Code = 1001
	InvalidArgument Code = 1002
	TooMany         Code = 1003
	UnknownCustomer Code = 1004

	InvalidTransition  Code = 1101
	Revoked            Code = 1102
	Expired            Code = 1103
	NotIssued          Code = 1104
	AlreadyIssued      Code = 1105
	NotHolder          Code = 1106
	TransferNotAllowed Code = 1107
	StillUsable        Code = 1108
	AlreadyReissued    Code = 1109
	PoolEmpty          Code = 1110
	ExternalProvider   Code = 1111
	RedemptionNotFound Code = 1112
	AlreadyReversed    Code = 1113
	HoldExpired        Code = 1114
	SeriesPaused       Code = 1115
	CommonCodeIssued   Code = 1116
	HeldElsewhere      Code = 1117
	KeyMismatch        Code = 1118
	HoldReleased       Code = 1119
	AllowanceExceeded  Code = 1120
	NoLease            Code = 1121

	LimitReached Code = 1200

	Conflict      Code = 1301
	GuardFailed   Code = 1302
	AlreadyExists Code = 1303
	Unavailable   Code = 1304

	CapacityExceeded  Code = 1401
	InvalidCode       Code = 1402
	CheckFailed       Code = 1403
	FillRatioExceeded Code = 1404
	FixedPartInUse    Code = 1405

	BadFile Code = 1501

	FuturePosition  Code = 1601
	UnknownConsumer Code = 1602

	MinEligibleQuantity     Code = 1701
	MinEligibleSubtotal     Code = 1702
	NothingEligible         Code = 1703
	NotCombinable           Code = 1704
	CouponsPerBill          Code = 1705
	BudgetExhausted         Code = 1706
	CustomerBudgetExhausted Code = 1707
	NothingLeftToDiscount   Code = 1708
)

var codeNames = map[Code]string{
	GenericNotSupported: "generic code not supported",
	NotFound:            "not found",
	Redeemed:            "already redeemed",
	CouponNotFound:      "coupon not found",
	SeriesExpired:       "series expired",
	NothingToRevoke:     "coupon codes or customer info is mandatory",
	InvalidConfig:       "invalid configuration",
	InvalidArgument:     "invalid argument",
	TooMany:             "too many items",
	UnknownCustomer:     "unknown customer",
	InvalidTransition:   "invalid transition",
	Revoked:             "revoked",
	Expired:             "expired",
	NotIssued:           "not issued",
	AlreadyIssued:       "already issued",
	NotHolder:           "not the holder",
	TransferNotAllowed:  "transfer not allowed",
	StillUsable:         "still usable",
	AlreadyReissued:     "already reissued",
	PoolEmpty:           "pool empty",
	ExternalProvider:    "external provider",
	RedemptionNotFound:  "redemption not found",
	AlreadyReversed:     "already reversed",
	HoldExpired:         "hold expired",
	SeriesPaused:        "series paused",
	CommonCodeIssued:    "common code already issued to customer",
	HeldElsewhere:       "held by another checkout",
	KeyMismatch:         "idempotency key mismatch",
	HoldReleased:        "hold released",
	AllowanceExceeded:   "lease allowance exceeded",
	NoLease:             "no lease",
	LimitReached:        "limit reached",
	Conflict:            "conflict",
	GuardFailed:         "guard failed",
	AlreadyExists:       "already exists",
	Unavailable:         "unavailable",
	CapacityExceeded:    "capacity exceeded",
	InvalidCode:         "invalid code",
	CheckFailed:         "check character mismatch",
	FillRatioExceeded:   "fill ratio exceeded",
	FixedPartInUse:      "fixed part in use",
	BadFile:             "bad file",
	FuturePosition:      "feed position from the future",
	UnknownConsumer:     "unknown feed consumer",

	MinEligibleQuantity:     "too few eligible units",
	MinEligibleSubtotal:     "eligible subtotal below the minimum",
	NothingEligible:         "no eligible product",
	NotCombinable:           "not combinable",
	CouponsPerBill:          "too many coupons on the bill",
	BudgetExhausted:         "budget exhausted",
	CustomerBudgetExhausted: "customer budget exhausted",
	NothingLeftToDiscount:   "nothing left to discount",
}

// String returns the code's short English name, or "code N" for a code this
// version does not know.
func (c Code) String() string {
	if s, ok := codeNames[c]; ok {
		return s
	}
	return "code " + strconv.Itoa(int(c))
}

// Error is the error type couponkit returns. Code says what kind of failure it
// is; Field names the offending input or configuration field when there is
// one (a dotted path such as "Redemption.MaxPerCode"); Message adds detail
// for a person; Err, when set, is the underlying cause.
//
// Two *Error values match under errors.Is when their codes are equal, so the
// sentinels below match every error of their kind whatever its field or
// message.
type Error struct {
	Code    Code
	Field   string
	Message string
	Err     error
}

// Error formats the error as "couponkit: <name> (<code>): <field>: <message>: <cause>",
// leaving out the parts that are empty.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("couponkit: ")
	b.WriteString(e.Code.String())
	b.WriteString(" (")
	b.WriteString(strconv.Itoa(int(e.Code)))
	b.WriteString(")")
	if e.Field != "" {
		b.WriteString(": ")
		b.WriteString(e.Field)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same code, or target's
// code is NotFound and e's code is one of the not-found codes
// (CouponNotFound, RedemptionNotFound, UnknownConsumer): errors.Is(err, ErrNotFound) holds
// for every "not found", whichever code the revoke API's output needs.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && (t.Code == e.Code || t.Code == NotFound && e.Code.notFound())
}

// notFound reports whether c says that something looked for does not exist.
func (c Code) notFound() bool {
	return c == NotFound || c == CouponNotFound || c == RedemptionNotFound || c == UnknownConsumer
}

// New returns an *Error with the given code, field and message.
func New(code Code, field, message string) *Error {
	return &Error{Code: code, Field: field, Message: message}
}

// Wrap returns an *Error with the given code and message whose cause is err.
func Wrap(code Code, err error, message string) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// CodeOf returns the code of the first *Error in err's chain, or 0 when there
// is none.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

// Sentinels for errors.Is. Each matches every *Error with its code.
var (
	ErrGenericNotSupported = &Error{Code: GenericNotSupported}
	ErrNotFound            = &Error{Code: NotFound}
	ErrRedeemed            = &Error{Code: Redeemed}
	ErrCouponNotFound      = &Error{Code: CouponNotFound}
	ErrSeriesExpired       = &Error{Code: SeriesExpired}
	ErrNothingToRevoke     = &Error{Code: NothingToRevoke}
	ErrInvalidConfig       = &Error{Code: InvalidConfig}
	ErrInvalidArgument     = &Error{Code: InvalidArgument}
	ErrTooMany             = &Error{Code: TooMany}
	ErrUnknownCustomer     = &Error{Code: UnknownCustomer}
	ErrInvalidTransition   = &Error{Code: InvalidTransition}
	ErrRevoked             = &Error{Code: Revoked}
	ErrExpired             = &Error{Code: Expired}
	ErrNotIssued           = &Error{Code: NotIssued}
	ErrAlreadyIssued       = &Error{Code: AlreadyIssued}
	ErrNotHolder           = &Error{Code: NotHolder}
	ErrTransferNotAllowed  = &Error{Code: TransferNotAllowed}
	ErrStillUsable         = &Error{Code: StillUsable}
	ErrAlreadyReissued     = &Error{Code: AlreadyReissued}
	ErrPoolEmpty           = &Error{Code: PoolEmpty}
	ErrExternalProvider    = &Error{Code: ExternalProvider}
	ErrRedemptionNotFound  = &Error{Code: RedemptionNotFound}
	ErrAlreadyReversed     = &Error{Code: AlreadyReversed}
	ErrHoldExpired         = &Error{Code: HoldExpired}
	ErrSeriesPaused        = &Error{Code: SeriesPaused}
	ErrCommonCodeIssued    = &Error{Code: CommonCodeIssued}
	ErrHeldElsewhere       = &Error{Code: HeldElsewhere}
	ErrKeyMismatch         = &Error{Code: KeyMismatch}
	ErrHoldReleased        = &Error{Code: HoldReleased}
	ErrAllowanceExceeded   = &Error{Code: AllowanceExceeded}
	ErrNoLease             = &Error{Code: NoLease}
	ErrLimitReached        = &Error{Code: LimitReached}
	ErrConflict            = &Error{Code: Conflict}
	ErrGuardFailed         = &Error{Code: GuardFailed}
	ErrAlreadyExists       = &Error{Code: AlreadyExists}
	ErrUnavailable         = &Error{Code: Unavailable}
	ErrCapacityExceeded    = &Error{Code: CapacityExceeded}
	ErrInvalidCode         = &Error{Code: InvalidCode}
	ErrCheckFailed         = &Error{Code: CheckFailed}
	ErrFillRatioExceeded   = &Error{Code: FillRatioExceeded}
	ErrFixedPartInUse      = &Error{Code: FixedPartInUse}
	ErrBadFile             = &Error{Code: BadFile}
	ErrFuturePosition      = &Error{Code: FuturePosition}
	ErrUnknownConsumer     = &Error{Code: UnknownConsumer}

	ErrMinEligibleQuantity     = &Error{Code: MinEligibleQuantity}
	ErrMinEligibleSubtotal     = &Error{Code: MinEligibleSubtotal}
	ErrNothingEligible         = &Error{Code: NothingEligible}
	ErrNotCombinable           = &Error{Code: NotCombinable}
	ErrCouponsPerBill          = &Error{Code: CouponsPerBill}
	ErrBudgetExhausted         = &Error{Code: BudgetExhausted}
	ErrCustomerBudgetExhausted = &Error{Code: CustomerBudgetExhausted}
	ErrNothingLeftToDiscount   = &Error{Code: NothingLeftToDiscount}
)

// Fields collects errors about several fields of one value, so that a
// validator can report all of them at once. Its zero value is ready to use.
type Fields struct {
	errs []error
}

// Add records that field breaks a rule, with a message for a person.
func (f *Fields) Add(code Code, field, message string) {
	f.errs = append(f.errs, New(code, field, message))
}

// Err returns nil when nothing was added, the single error when one was,
// and otherwise an error joining them all (errors.Is and errors.As see each).
func (f *Fields) Err() error {
	switch len(f.errs) {
	case 0:
		return nil
	case 1:
		return f.errs[0]
	}
	return errors.Join(f.errs...)
}

// All returns every *Error in err's tree, in order: err itself when it is an
// *Error, or each joined error. It lets a caller list every offending field.
func All(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if ce, ok := e.(*Error); ok {
			out = append(out, ce)
			return
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}
