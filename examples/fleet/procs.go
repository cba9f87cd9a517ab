package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// spawner makes the command that runs this program with args: its own
// binary (selfSpawner), or a test binary that runs main.
type spawner func(args ...string) (*exec.Cmd, error)

// proc is a child process of the fleet: a central or a till.
type proc struct {
	name  string
	cmd   *exec.Cmd
	first chan string // the first line of its standard output
	done  chan struct{}

	mu    sync.Mutex
	lines []string
	err   error
}

// start runs a child with args, its standard error to logw.
func start(sp spawner, logw io.Writer, name string, args ...string) (*proc, error) {
	cmd, err := sp(args...)
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = logw
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, first: make(chan string, 1), done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.mu.Lock()
			if len(p.lines) == 0 {
				p.first <- sc.Text()
			}
			p.lines = append(p.lines, sc.Text())
			p.mu.Unlock()
		}
		err := cmd.Wait()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(p.done)
	}()
	return p, nil
}

// addr waits for a central's "listening on <url>" line and returns the
// address.
func (p *proc) addr(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	select {
	case line := <-p.first:
		url, ok := strings.CutPrefix(line, "listening on http://")
		if !ok {
			return "", fmt.Errorf("%s said %q", p.name, line)
		}
		return url, nil
	case <-p.done:
		return "", fmt.Errorf("%s exited before listening: %v", p.name, p.exitErr())
	case <-ctx.Done():
		return "", fmt.Errorf("%s did not listen in time: %w", p.name, ctx.Err())
	}
}

// wait waits for the child to exit, and returns how it exited.
func (p *proc) wait(ctx context.Context) error {
	select {
	case <-p.done:
		return p.exitErr()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// exited reports whether the child has exited.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *proc) exitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return fmt.Errorf("%s: %w", p.name, p.err)
	}
	return nil
}

// kill kills the child with SIGKILL and waits for it.
func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop asks the child to stop with SIGTERM and waits for it (SIGKILL
// after 5 seconds).
func (p *proc) stop() error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.kill()
		return errors.New(p.name + " did not stop on SIGTERM")
	}
	return p.exitErr()
}

// last is the last line of the child's standard output.
func (p *proc) last() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.lines) == 0 {
		return ""
	}
	return p.lines[len(p.lines)-1]
}
