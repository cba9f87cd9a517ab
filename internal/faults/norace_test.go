//go:build !race

package faults_test

// raceDetector is true in a build with the race detector, which slows
// SQLite (C compiled to Go) many times over: the kill -9 tests skip.
const raceDetector = false
