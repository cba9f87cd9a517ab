package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// noEnv is an empty environment.
func noEnv(string) string { return "" }

// TestRun runs the server in-process on an SQLite file: health,
// readiness, keys, a redemption, and a clean stop when its context ends.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := filepath.Join(t.TempDir(), "ck.db")
	pr, pw := io.Pipe()
	keyFile := codeKeyFile(t)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-db", db, "-addr", "127.0.0.1:0", "-keys", testKeys, "-code-key-file", keyFile}, noEnv, io.Discard, pw)
		pw.Close()
	}()
	base := waitServing(t, pr)
	hc := &http.Client{Timeout: 30 * time.Second}

	for _, path := range []string{"/healthz", "/readyz"} {
		if st, err := call(hc, base, "", "GET", path, nil, nil); st != 200 {
			t.Errorf("GET %s: %d %v, want 200 without a key", path, st, err)
		}
	}
	if st, _ := call(hc, base, "", "GET", "/v1/series", nil, nil); st != 401 {
		t.Errorf("GET /v1/series without a key: %d, want 401", st)
	}
	if st, _ := call(hc, base, tillSecret, "POST", "/v1/series", fiveOff(), nil); st != 403 {
		t.Errorf("POST /v1/series with a till's key: %d, want 403", st)
	}
	s, codes := issueCoupons(t, base, 2)
	if st, err := redeem(hc, base, s.ID, codes[1], 1); st != 200 {
		t.Fatalf("redeem: %d %v", st, err)
	}
	if st, _ := redeem(hc, base, s.ID, codes[1], 1); st != 200 {
		t.Errorf("redeem again with the same key: %d, want 200 (replayed)", st)
	}
	if st, _ := redeem(hc, base, s.ID, codes[0], 1); st != 404 {
		t.Errorf("redeem another customer's code: %d, want 404", st)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run after cancel: %v, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return 30s after its context ended")
	}
	if _, err := call(hc, base, "", "GET", "/healthz", nil, nil); err == nil {
		t.Error("the server still answers after run returned")
	}
}

// TestRunUsage: a wrong command line is a clear error with exit status 2,
// and nothing is served.
func TestRunUsage(t *testing.T) {
	env := func(m map[string]string) func(string) string {
		return func(k string) string { return m[k] }
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string // in the error
	}{
		{"no command", nil, nil, "no command"},
		{"unknown command", []string{"start"}, nil, `unknown command "start"`},
		{"unknown flag", []string{"serve", "-port", "1"}, nil, "flag provided but not defined: -port"},
		{"argument", []string{"serve", "-keys", testKeys, "extra"}, nil, "serve takes no arguments"},
		{"no keys", []string{"serve"}, nil, "no API keys"},
		{"keys and no-auth", []string{"serve", "-keys", testKeys, "-no-auth"}, nil, "-no-auth with -keys"},
		{"key without role", []string{"serve", "-keys", "ops:" + operatorSecret}, nil, "key 1: want name:role:secret"},
		{"unknown role", []string{"serve", "-keys", "ops:admin:" + operatorSecret}, nil, `key 1 (ops): role "admin": want operator, checkout or till`},
		{"short secret", []string{"serve", "-keys", "ops:operator:short"}, nil, "key 1 (ops): secret of 5 characters: want at least 16"},
		{"empty name", []string{"serve", "-keys", ":operator:" + operatorSecret}, nil, "key 1: empty name"},
		{"name twice", []string{"serve", "-keys", "a:till:" + tillSecret + ",a:operator:" + operatorSecret}, nil, `key 2: name "a" given twice`},
		{"secret twice", []string{"serve", "-keys", "a:till:" + tillSecret + ",b:operator:" + tillSecret}, nil, "key 2 (b): secret given twice"},
		{"max body", []string{"serve", "-keys", testKeys, "-max-body", "0"}, nil, "-max-body 0: must be positive"},
		{"timeout", []string{"serve", "-keys", testKeys, "-shutdown-timeout", "-1s"}, nil, "-shutdown-timeout -1s: must be positive"},
		{"short code key", []string{"serve", "-keys", testKeys, "-code-key-file", shortKey(t)}, nil, "a key of 5 bytes: want at least 16"},
		{"missing code key", []string{"serve", "-keys", testKeys, "-code-key-file", "/no/such/file"}, nil, "-code-key-file: open /no/such/file"},
		{"bad environment", []string{"serve", "-keys", testKeys}, map[string]string{envShutdownTimeout: "soon"}, `environment COUPONKITD_SHUTDOWN_TIMEOUT="soon"`},
		{"till key without secret", []string{"serve", "-keys", testKeys, "-till-keys", "pos-1"}, nil, "-till-keys: key 1: want till-id:secret"},
		{"till key with empty id", []string{"serve", "-keys", testKeys, "-till-keys", ":" + tillSecret}, nil, "-till-keys: key 1: empty till id"},
		{"short till secret", []string{"serve", "-keys", testKeys, "-till-keys", "pos-1:short"}, nil, "-till-keys: key 1 (pos-1): secret of 5 characters: want at least 16"},
		{"till id twice", []string{"serve", "-keys", testKeys, "-till-keys", "pos-1:" + tillSecret + ",pos-1:" + operatorSecret}, nil, `-till-keys: key 2: till id "pos-1" given twice`},
		{"till secret twice", []string{"serve", "-keys", testKeys, "-till-keys", "pos-1:" + tillSecret + ", ,pos-2:" + tillSecret}, nil, "-till-keys: key 3 (pos-2): secret given twice"},
		{"bad till keys in the environment", []string{"serve", "-keys", testKeys}, map[string]string{envTillKeys: "pos-1:short"}, "-till-keys: key 1 (pos-1): secret of 5"},
		{"bad keys in the environment", []string{"serve"}, map[string]string{envKeys: "x:y:z"}, `-keys: key 1 (x): role "y"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			err := run(context.Background(), tt.args, env(tt.env), io.Discard, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("run(%q) = %v, want an error containing %q", tt.args, err, tt.want)
			}
			var u usageError
			if !errors.As(err, &u) {
				t.Errorf("run(%q) = %v: not a usage error", tt.args, err)
			}
			if code := exitCode(err, io.Discard); code != 2 {
				t.Errorf("exit status %d, want 2", code)
			}
		})
	}
}

// TestConfigPrecedence: a flag wins over its environment variable, which
// wins over the default.
func TestConfigPrecedence(t *testing.T) {
	env := map[string]string{envAddr: "127.0.0.1:9999", envKeys: testKeys, envDB: "env.db", envMaxBody: "4096"}
	cfg, err := parseServe([]string{"-addr", "127.0.0.1:7777"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.addr != "127.0.0.1:7777" || cfg.db != "env.db" || cfg.maxBody != 4096 || len(cfg.keys) != 2 || cfg.shutdownTimeout != 30*time.Second {
		t.Errorf("config %+v", cfg)
	}
	cfg, err = parseServe([]string{"-no-auth"}, noEnv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.addr != "127.0.0.1:8080" || cfg.db != "couponkit.db" || cfg.keys != nil || !cfg.noAuth {
		t.Errorf("defaults %+v", cfg)
	}
}

// TestRunFailure: a store that cannot be opened is an error with exit
// status 1.
func TestRunFailure(t *testing.T) {
	db := filepath.Join(t.TempDir(), "no", "such", "dir", "ck.db")
	err := run(context.Background(), []string{"serve", "-db", db, "-keys", testKeys, "-addr", "127.0.0.1:0"}, noEnv, io.Discard, io.Discard)
	if err == nil {
		t.Fatal("run on a missing directory: nil error")
	}
	if code := exitCode(err, io.Discard); code != 1 {
		t.Errorf("exit status %d (%v), want 1", code, err)
	}
}

// TestVersion prints the version and exits 0.
func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, noEnv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "couponkitd "+version+"\n" {
		t.Errorf("version printed %q", got)
	}
}

// TestRunShutdownTimeout: a request still running at the shutdown timeout
// is cut off, run still returns (after it), and reports it.
func TestRunShutdownTimeout(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := filepath.Join(t.TempDir(), "ck.db")
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-db", db, "-addr", "127.0.0.1:0", "-keys", testKeys, "-shutdown-timeout", "300ms"}, noEnv, io.Discard, pw)
		pw.Close()
	}()
	base := waitServing(t, pr)
	// A request whose body never finishes arriving.
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/series HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{", operatorSecret)
	time.Sleep(100 * time.Millisecond) // let the handler start reading
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "requests still running after 300ms") {
			t.Fatalf("run = %v, want the shutdown timeout reported", err)
		}
		if code := exitCode(err, io.Discard); code != 1 {
			t.Errorf("exit status %d, want 1", code)
		}
		if d := time.Since(start); d < 300*time.Millisecond {
			t.Errorf("run returned after %v, before the shutdown timeout", d)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return 30s after its context ended with a request stuck")
	}
}
