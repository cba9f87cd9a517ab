package apiwalk

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/httpapi"
	"github.com/couponkit/couponkit/httpapi/httperr"
)

// client sends the walk's requests.
type client struct {
	t    testing.TB
	base string
	hc   *http.Client
}

// do sends a request (body: nil, a string sent as is, or a value sent as
// JSON) and returns the status and the raw answer. Every error answer
// must be the envelope.
func (c *client) do(method, path string, body any, header ...string) (int, []byte) {
	c.t.Helper()
	var rd io.Reader
	ct := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case csvBody:
		rd, ct = strings.NewReader(string(b)), "text/csv"
	default:
		data, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	if resp.StatusCode >= 400 && path != httpapi.RevokePath {
		var env httperr.Envelope
		if err := json.Unmarshal(raw, &env); err != nil || env.Error.Message == "" {
			c.t.Errorf("%s %s: %d answer is not the error envelope: %s", method, path, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode, raw
}

type csvBody string

// ok sends a request that must answer want, and decodes the answer into
// out (when not nil).
func (c *client) ok(want int, out any, method, path string, body any, header ...string) {
	c.t.Helper()
	status, raw := c.do(method, path, body, header...)
	if status != want {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, status, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			c.t.Fatalf("%s %s: decoding %s: %v", method, path, raw, err)
		}
	}
}

// fail sends a request that must answer status with the envelope of code
// (0: any), and returns the envelope.
func (c *client) fail(status int, code errcode.Code, method, path string, body any, header ...string) httperr.Body {
	c.t.Helper()
	got, raw := c.do(method, path, body, header...)
	var env httperr.Envelope
	_ = json.Unmarshal(raw, &env)
	if got != status || code != 0 && env.Error.Code != code {
		c.t.Fatalf("%s %s: status %d code %d, want %d code %d: %s", method, path, got, env.Error.Code, status, code, raw)
	}
	return env.Error
}
