//go:build race

package basket_test

const raceEnabled = true
