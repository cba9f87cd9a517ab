//go:build !race

package tillsim

// raceEnabled: the race detector slows the simulation several times.
const raceEnabled = false
