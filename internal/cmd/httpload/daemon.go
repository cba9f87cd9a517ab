package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Bounds on the daemon's start and stop.
const (
	readyWait = 30 * time.Second
	stopWait  = time.Minute
)

// daemonKeyName names the daemon's API key, so that the redemptions made
// through it carry it as their actor.
const daemonKeyName = "couponkitd"

// daemon is couponkitd running as a separate process: its address, its
// output (stdout and stderr together) and, once it has exited, how.
type daemon struct {
	cmd  *exec.Cmd
	base string
	out  *lockedBuffer
	done chan struct{} // closed when the process has exited; then exit is set
	exit error
}

// buildDaemon builds cmd/couponkitd into dir with the go command, and
// answers the binary's path. The package is named by its import path, so
// the current directory may be anywhere inside the module.
func buildDaemon(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "couponkitd")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/couponkit/couponkit/cmd/couponkitd")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building couponkitd (or give -couponkitd PATH): %w: %s", err, bytes.TrimSpace(out))
	}
	return bin, nil
}

// startDaemon starts bin serve on a free loopback port with the store dsn
// and one API key of role till, daemonKeyName, with secret, and waits until its /readyz
// answers 200. The daemon's environment is this process's without
// COUPONKITD_ variables, so that only the flags configure it.
func startDaemon(ctx context.Context, bin, dsn, secret string) (*daemon, error) {
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	d := &daemon{base: "http://" + addr, out: &lockedBuffer{}, done: make(chan struct{})}
	d.cmd = exec.Command(bin, "serve", "-db", dsn, "-addr", addr, "-keys", daemonKeyName+":till:"+secret)
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "COUPONKITD_") {
			d.cmd.Env = append(d.cmd.Env, kv)
		}
	}
	if err := d.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting couponkitd: %w", err)
	}
	go func() {
		d.exit = d.cmd.Wait()
		close(d.done)
	}()
	if err := d.awaitReady(ctx); err != nil {
		_, serr := d.stop()
		return nil, errors.Join(err, serr)
	}
	return d, nil
}

// awaitReady polls GET /readyz until it answers 200; the daemon exiting,
// ctx ending or readyWait passing first is an error.
func (d *daemon) awaitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyWait)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, "GET", d.base+"/readyz", nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-d.done:
			return fmt.Errorf("couponkitd exited before it was ready (%v): %s", d.exit, d.output())
		case <-ctx.Done():
			return fmt.Errorf("couponkitd not ready at %s/readyz: %w: %s", d.base, ctx.Err(), d.output())
		case <-tick.C:
		}
	}
}

// stop sends the daemon SIGTERM and waits for it to exit, at most
// stopWait (then it is killed). It answers how the daemon exited; an exit
// other than status 0 after SIGTERM is also an error. Stopping a daemon
// that has exited already only reports that exit.
func (d *daemon) stop() (string, error) {
	select {
	case <-d.done:
	default:
		if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return "", fmt.Errorf("signalling couponkitd: %w", err)
		}
		select {
		case <-d.done:
		case <-time.After(stopWait):
			d.cmd.Process.Kill()
			<-d.done
			return "killed", fmt.Errorf("couponkitd still running %v after SIGTERM: %s", stopWait, d.output())
		}
	}
	if d.exit != nil {
		return d.exit.Error(), fmt.Errorf("couponkitd after SIGTERM: %w: %s", d.exit, d.output())
	}
	return "exit status 0", nil
}

// output is what the daemon wrote, trimmed.
func (d *daemon) output() string { return strings.TrimSpace(d.out.String()) }

// freePort answers a loopback address whose port was free a moment ago.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// lockedBuffer is a bytes.Buffer that the daemon's two output pipes may
// write concurrently.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
