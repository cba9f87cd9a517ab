package apitest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/paths"

	"github.com/couponkit/couponkit/httpapi"
	walk "github.com/couponkit/couponkit/internal/apiwalk"
	"github.com/couponkit/couponkit/store/memstore"
)

// checker is a RoundTripper that validates every request and answer
// against the document, and records the operations it saw.
type checker struct {
	t    *testing.T
	next http.RoundTripper
	doc  libopenapi.Document
	v    validator.Validator

	mu      sync.Mutex
	seen    map[string]bool   // "METHOD /path/template"
	samples map[string]sample // "METHOD /path/template STATUS": the first such answer
}

func (c *checker) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
	}
	fresh := func() *http.Request {
		r := req.Clone(req.Context())
		r.Body = io.NopCloser(bytes.NewReader(body))
		return r
	}
	model, err := c.doc.BuildV3Model()
	if err != nil {
		c.t.Fatal(err)
	}
	_, perrs, tmpl := paths.FindPath(fresh(), &model.Model, nil)
	off := req.Header.Get(walk.OffContract) != ""
	if off && len(perrs) > 0 {
		return c.next.RoundTrip(fresh()) // an unknown route: the document has nothing to say
	}
	c.mu.Lock()
	c.seen[req.Method+" "+tmpl] = true
	c.mu.Unlock()
	if ok, errs := c.v.ValidateHttpRequest(fresh()); !ok && !off {
		for _, e := range errs {
			c.t.Errorf("request %s %s: %s: %s", req.Method, req.URL.Path, e.Message, e.Reason)
		}
	}
	resp, err := c.next.RoundTrip(fresh())
	if err != nil {
		return nil, err
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	check := *resp
	check.Body = io.NopCloser(bytes.NewReader(data))
	c.mu.Lock()
	if k := req.Method + " " + tmpl + " " + strconv.Itoa(resp.StatusCode); !off && c.samples[k].resp == nil {
		kept := *resp
		kept.Body = nil
		c.samples[k] = sample{req: fresh(), body: body, resp: &kept, answer: data}
	}
	c.mu.Unlock()
	if ok, errs := c.v.ValidateHttpResponse(fresh(), &check); !ok {
		for _, e := range errs {
			c.t.Errorf("answer %d to %s %s: %s: %s (%s)", resp.StatusCode, req.Method, req.URL.Path, e.Message, e.Reason, data)
		}
	}
	return resp, nil
}

// TestOpenAPI validates the document, walks every route with requests
// and answers validated against it, and checks that the walk covered
// every operation the document names.
func TestOpenAPI(t *testing.T) {
	c := walked(t)
	model, err := c.doc.BuildV3Model()
	if err != nil {
		t.Fatal(err)
	}
	var missed []string
	for p, item := range model.Model.Paths.PathItems.FromOldest() {
		for m := range item.GetOperations().FromOldest() {
			if op := strings.ToUpper(m) + " " + p; !c.seen[op] {
				missed = append(missed, op)
			}
		}
	}
	slices.Sort(missed)
	if len(missed) > 0 {
		t.Errorf("the walk sent no request to %d operations of the document:\n%s", len(missed), strings.Join(missed, "\n"))
	}
}

// walked validates the document and walks every route on a memory store
// through a checker, which it returns with what it saw.
func walked(t *testing.T) *checker {
	t.Helper()
	doc, err := libopenapi.NewDocument(httpapi.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
	if ok, errs := v.ValidateDocument(); !ok {
		for _, e := range errs {
			t.Errorf("document: %s: %s", e.Message, e.Reason)
		}
		t.FailNow()
	}
	srv := httptest.NewServer(walk.Handler(t, memstore.New()))
	defer srv.Close()
	c := &checker{t: t, next: srv.Client().Transport, doc: doc, v: v, seen: map[string]bool{}, samples: map[string]sample{}}
	walk.Run(t, srv.URL, &http.Client{Transport: c})
	return c
}
