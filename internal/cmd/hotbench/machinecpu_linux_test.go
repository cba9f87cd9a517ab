package main

import (
	"testing"
	"time"
)

// TestBusyTime checks the reading of /proc/stat's first line: the busy
// times summed (user, nice, system, irq, softirq; not idle nor iowait),
// and 0 for a line it does not know.
func TestBusyTime(t *testing.T) {
	for _, tc := range []struct {
		line string
		want time.Duration
	}{
		{"cpu  100 2 30 9000 50 4 6 0 0 0", 1420 * time.Millisecond},
		{"cpu 1 0 0 0 0 0 0 0", 10 * time.Millisecond},
		{"cpu0 100 2 30 9000 50 4 6 0 0 0", 0},
		{"cpu  100 2 30", 0},
		{"cpu  100 x 30 9000 50 4 6 0", 0},
		{"cpu  100 -2 30 9000 50 4 6 0", 0},
		{"", 0},
	} {
		if got := busyTime(tc.line); got != tc.want {
			t.Errorf("busyTime(%q) = %v, want %v", tc.line, got, tc.want)
		}
	}
	if machineCPU() <= 0 {
		t.Error("machineCPU read no busy time from /proc/stat")
	}
}
