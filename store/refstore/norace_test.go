//go:build !race

package refstore_test

const raceEnabled = false
