package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/couponkit/couponkit/httpapi"
)

// config is serve's settings.
type config struct {
	db   string
	addr string
	keys []httpapi.APIKey
	// tillKeys are the tills' secrets by till id; empty when no till is
	// configured.
	tillKeys        map[string][]byte
	noAuth          bool
	maxBody         int64
	shutdownTimeout time.Duration
	// codeKey is the secret of generated codes; nil when none was given.
	codeKey []byte
}

// errHelp is serve -h: the usage was printed, nothing to run.
var errHelp = errors.New("help requested")

// The environment variables of serve's flags.
const (
	envDB              = "COUPONKITD_DB"
	envAddr            = "COUPONKITD_ADDR"
	envKeys            = "COUPONKITD_KEYS"
	envNoAuth          = "COUPONKITD_NO_AUTH"
	envMaxBody         = "COUPONKITD_MAX_BODY"
	envShutdownTimeout = "COUPONKITD_SHUTDOWN_TIMEOUT"
	envCodeKeyFile     = "COUPONKITD_CODE_KEY_FILE"
	envTillKeys        = "COUPONKITD_TILL_KEYS"
)

// parseServe reads serve's flags, each defaulting to its environment
// variable, then to its built-in default.
func parseServe(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("couponkitd serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		db      = fs.String("db", "couponkit.db", "the store: an SQLite file's path, or a postgres:// URL (env "+envDB+")")
		addr    = fs.String("addr", "127.0.0.1:8080", "the address to listen on (env "+envAddr+")")
		keys    = fs.String("keys", "", "API keys as name:role:secret,... with role operator, checkout or till (env "+envKeys+")")
		tills   = fs.String("till-keys", "", "the tills' keys of the till protocol under /till as till-id:secret,... (env "+envTillKeys+")")
		noAuth  = fs.Bool("no-auth", false, "serve without API keys: every caller is an operator (env "+envNoAuth+")")
		maxBody = fs.Int64("max-body", httpapi.DefaultMaxBody, "the largest JSON request body in bytes (env "+envMaxBody+")")
		keyFile = fs.String("code-key-file", "", "a file holding the secret key of generated codes, at least 16 bytes (env "+envCodeKeyFile+")")
		timeout = fs.Duration("shutdown-timeout", 30*time.Second, "how long requests in flight may take to finish on shutdown (env "+envShutdownTimeout+")")
	)
	// The environment sets the defaults; flags given on the command line
	// then override them.
	for _, e := range []struct{ env, flag string }{
		{envDB, "db"}, {envAddr, "addr"}, {envKeys, "keys"}, {envNoAuth, "no-auth"},
		{envMaxBody, "max-body"}, {envShutdownTimeout, "shutdown-timeout"}, {envCodeKeyFile, "code-key-file"},
		{envTillKeys, "till-keys"},
	} {
		if v := getenv(e.env); v != "" {
			if err := fs.Set(e.flag, v); err != nil {
				return config{}, usagef("environment %s=%q: %v", e.env, v, err)
			}
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return config{}, errHelp
		}
		return config{}, usageError{err}
	}
	if fs.NArg() > 0 {
		return config{}, usagef("serve takes no arguments, got %q", fs.Args())
	}
	cfg := config{db: *db, addr: *addr, noAuth: *noAuth, maxBody: *maxBody, shutdownTimeout: *timeout}
	if cfg.db == "" {
		return config{}, usagef("-db: empty")
	}
	if cfg.maxBody <= 0 {
		return config{}, usagef("-max-body %d: must be positive", cfg.maxBody)
	}
	if cfg.shutdownTimeout <= 0 {
		return config{}, usagef("-shutdown-timeout %v: must be positive", cfg.shutdownTimeout)
	}
	k, err := parseKeys(*keys)
	if err != nil {
		return config{}, usagef("-keys: %w", err)
	}
	cfg.keys = k
	if cfg.tillKeys, err = parseTillKeys(*tills); err != nil {
		return config{}, usagef("-till-keys: %w", err)
	}
	if *keyFile != "" {
		b, err := os.ReadFile(*keyFile)
		if err != nil {
			return config{}, usagef("-code-key-file: %w", err)
		}
		b = bytes.TrimRight(b, "\r\n")
		if len(b) < minSecret {
			return config{}, usagef("-code-key-file %s: a key of %d bytes: want at least %d", *keyFile, len(b), minSecret)
		}
		cfg.codeKey = b
	}
	switch {
	case len(k) == 0 && !cfg.noAuth:
		return config{}, usagef("no API keys: give -keys (or %s), or -no-auth to serve every caller as an operator", envKeys)
	case len(k) > 0 && cfg.noAuth:
		return config{}, usagef("-no-auth with -keys: choose one")
	}
	return cfg, nil
}

// minSecret is the shortest secret a key may have.
const minSecret = 16

// parseKeys reads API keys written name:role:secret, separated by commas:
// the name identifies the key (and is the actor of its changes), the role
// is operator, checkout or till, the secret is what a caller sends as
// "Authorization: Bearer <secret>", at least 16 characters, without commas
// (it may contain colons). Names and secrets are unique. Blank entries are
// ignored.
func parseKeys(s string) ([]httpapi.APIKey, error) {
	var keys []httpapi.APIKey
	names, secrets := map[string]bool{}, map[string]bool{}
	for n, entry := range entries(s) {
		name, rest, ok1 := strings.Cut(entry, ":")
		role, secret, ok2 := strings.Cut(rest, ":")
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("key %s: want name:role:secret", n)
		}
		if name == "" {
			return nil, fmt.Errorf("key %s: empty name", n)
		}
		r, ok := parseRole(role)
		if !ok {
			return nil, fmt.Errorf("key %s (%s): role %q: want operator, checkout or till", n, name, role)
		}
		if err := checkKey(n, "name", name, secret, names, secrets); err != nil {
			return nil, err
		}
		keys = append(keys, httpapi.APIKey{Name: name, Role: r, Secret: []byte(secret)})
	}
	return keys, nil
}

// parseTillKeys reads the tills' keys of the till protocol, written
// till-id:secret and separated by commas: the id is the till's (what it
// sends as the Couponkit-Till header), the secret what it sends as
// "Authorization: Bearer <secret>", at least 16 characters, without
// commas (it may contain colons). Ids and secrets are unique. Blank
// entries are ignored; none gives an empty map.
func parseTillKeys(s string) (map[string][]byte, error) {
	keys := map[string][]byte{}
	ids, secrets := map[string]bool{}, map[string]bool{}
	for n, entry := range entries(s) {
		id, secret, ok := strings.Cut(entry, ":")
		if !ok {
			return nil, fmt.Errorf("key %s: want till-id:secret", n)
		}
		if id == "" {
			return nil, fmt.Errorf("key %s: empty till id", n)
		}
		if err := checkKey(n, "till id", id, secret, ids, secrets); err != nil {
			return nil, err
		}
		keys[id] = []byte(secret)
	}
	return keys, nil
}

// entries yields the comma-separated entries of s, trimmed, each with its
// position from 1 (counting blank ones, which it skips).
func entries(s string) iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for i, entry := range strings.Split(s, ",") {
			entry = strings.TrimSpace(entry)
			if entry != "" && !yield(strconv.Itoa(i+1), entry) {
				return
			}
		}
	}
}

// checkKey checks the n-th key, name with secret: the secret is long
// enough, and neither was given before (in names and secrets, which it
// then records). what says what the name is, for the errors.
func checkKey(n, what, name, secret string, names, secrets map[string]bool) error {
	if len(secret) < minSecret {
		return fmt.Errorf("key %s (%s): secret of %d characters: want at least %d", n, name, len(secret), minSecret)
	}
	if names[name] {
		return fmt.Errorf("key %s: %s %q given twice", n, what, name)
	}
	if secrets[secret] {
		return fmt.Errorf("key %s (%s): secret given twice", n, name)
	}
	names[name], secrets[secret] = true, true
	return nil
}

// parseRole returns the role named s.
func parseRole(s string) (httpapi.Role, bool) {
	switch s {
	case "operator":
		return httpapi.Operator, true
	case "checkout":
		return httpapi.Checkout, true
	case "till":
		return httpapi.Till, true
	}
	return 0, false
}
