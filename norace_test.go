//go:build !race

package couponkit_test

const raceEnabled = false
