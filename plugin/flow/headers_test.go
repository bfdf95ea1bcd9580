package flow

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestResponseHeadersAreTheOnesRead holds the list hosts learn from info to
// the engine's code: every response header the engine reads by name
// (Response.Header, Response.headerOK) is on it, and nothing else is, so a
// host that passes only those loses nothing.
func TestResponseHeadersAreTheOnesRead(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	read := map[string]bool{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if fn, ok := n.(*ast.FuncDecl); ok && fn.Name.Name == "Header" {
				return false // Header's own call of headerOK
			}
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 1 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "Header" && sel.Sel.Name != "headerOK") {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				t.Errorf("%s: %s reads a header whose name is not a literal: list it in responseHeaders by hand and update this test", fset.Position(call.Pos()), sel.Sel.Name)
				return true
			}
			v, _ := strconv.Unquote(lit.Value)
			read[v] = true
			return true
		})
	}
	var names []string
	for k := range read {
		names = append(names, k)
	}
	slices.Sort(names)
	if !slices.Equal(names, ResponseHeaders()) {
		t.Errorf("the engine reads the response headers %q; responseHeaders lists %q", names, ResponseHeaders())
	}
}

// TestParseResponseKeepsTheHeadersRead checks that a response's other
// headers (GitHub's cookies, its security policy) never reach the engine,
// and that the ones it reads arrive in whatever case the host wrote them.
func TestParseResponseKeepsTheHeadersRead(t *testing.T) {
	rec := `{"status":429,"headers":{"Set-Cookie":"_gh_sess=secret","content-security-policy":"default-src 'none'",` +
		`"Retry-After":"7","date":"Thu, 03 Dec 2026 11:05:48 GMT","X-OAuth-Scopes":"repo, gist","server":null},"body":"{}"}`
	r, ok := ParseResponse([]byte(rec))
	if !ok {
		t.Fatal("ParseResponse refused a response")
	}
	want := map[string]string{"Retry-After": "7", "date": "Thu, 03 Dec 2026 11:05:48 GMT", "X-OAuth-Scopes": "repo, gist"}
	if len(r.Headers) != len(want) {
		t.Errorf("headers kept %q, want %q", r.Headers, want)
	}
	for k, v := range want {
		if r.Headers[k] != v {
			t.Errorf("header %s = %q, want %q", k, r.Headers[k], v)
		}
	}
	if got := retryAfterMs(r); got != 7000 {
		t.Errorf("Retry-After read as %d ms, want 7000", got)
	}
	// A header of the wrong type still makes the record malformed, as it
	// does for encoding/json, whether or not the engine reads it.
	if _, ok := ParseResponse([]byte(`{"status":200,"headers":{"server":1}}`)); ok {
		t.Error("a header whose value is a number was accepted")
	}
	for _, name := range []string{"DATE", "Content-Type", "x-oauth-scopes"} {
		if !ReadsResponseHeader(name) {
			t.Errorf("ReadsResponseHeader(%q) = false", name)
		}
	}
	for _, name := range []string{"set-cookie", "", "dat", "x-oauth-scopes2", "content-security-policy"} {
		if ReadsResponseHeader(name) {
			t.Errorf("ReadsResponseHeader(%q) = true", name)
		}
	}
}
