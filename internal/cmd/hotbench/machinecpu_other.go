//go:build !linux

package main

import "time"

// machineCPU is 0 where the machine's CPU time is not read.
func machineCPU() time.Duration { return 0 }
