package errcode_test

import (
	"errors"
	"fmt"

	"github.com/couponkit/couponkit/errcode"
)

// Match a kind of failure with errors.Is, or read its code and field with
// errors.As, through any amount of wrapping.
func Example() {
	err := fmt.Errorf("redeeming at till 4: %w", errcode.New(errcode.Redeemed, "Code", "every allowed use is redeemed"))

	fmt.Println(errors.Is(err, errcode.ErrRedeemed), errors.Is(err, errcode.ErrRevoked))
	var ce *errcode.Error
	if errors.As(err, &ce) {
		fmt.Println(int(ce.Code), ce.Code, ce.Field)
	}
	fmt.Println(err)
	// Output:
	// true false
	// 405 already redeemed Code
	// redeeming at till 4: couponkit: already redeemed (405): Code: every allowed use is redeemed
}

// A validator reports every offending field at once.
func ExampleFields() {
	var f errcode.Fields
	f.Add(errcode.InvalidConfig, "Redemption.MaxPerCode", "is negative")
	f.Add(errcode.InvalidConfig, "TimeZone", `unknown time zone "Mars/Olympus"`)
	for _, e := range errcode.All(f.Err()) {
		fmt.Println(int(e.Code), e.Field)
	}
	fmt.Println(errors.Is(f.Err(), errcode.ErrInvalidConfig))
	// Output:
	// 1001 Redemption.MaxPerCode
	// 1001 TimeZone
	// true
}
