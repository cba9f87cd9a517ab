//go:build !race

package main

// raceEnabled: the race detector slows the processes down several times.
const raceEnabled = false
