//go:build race

package postgres_test

// raceEnabled: the race detector is on. It slows these tests several times
// over, so the conformance suite runs at its short sizes (storetest.Sizes
// Short): every race and the model test still run, fewer times.
const raceEnabled = true
