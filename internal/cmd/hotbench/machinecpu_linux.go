package main

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// machineCPU is the CPU time every processor of the machine has spent
// busy so far (user, nice, system, interrupts), from /proc/stat; 0 when
// it cannot be read. On a machine that runs the database server beside
// this process, a run's share of it is the client's and the server's
// work together.
func machineCPU() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return busyTime(line)
}

// clockTicks is the unit of /proc/stat's times (USER_HZ), 100 per second
// on every Linux architecture Go supports.
const clockTicks = 100

// busyTime reads the first line of /proc/stat, "cpu" followed by the
// times of user, nice, system, idle, iowait, irq, softirq, ... in clock
// ticks, and returns user + nice + system + irq + softirq; 0 for a line of
// another form.
func busyTime(line string) time.Duration {
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7} {
		n, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil || n < 0 {
			return 0
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks
}
