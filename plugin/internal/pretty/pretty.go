// Package pretty is deviceflow's stand-in for github.com/tidwall/pretty,
// which gjson imports for its @pretty and @ugly path modifiers. The
// upstream package sorts keys with encoding/json, and gjson registers the
// modifiers in its package initialisation, so every program that imports
// gjson links encoding/json, reflect and fmt: about a fifth of the plugin.
//
// The plugin's builds (make wasm, make verify-wasm) read the repository's
// go.mod through a copy that replaces the module with this directory; go.mod
// itself has no replace directive, so every other build, and every program
// that imports deviceflow, uses the upstream package. This one provides the
// same API (Options, DefaultOptions, Pretty, PrettyOptions, Ugly) without
// encoding/json or reflect. The engine never uses a
// modifier (its gjson paths are constants), so the plugin's behaviour does
// not depend on it; it is still a complete, tested formatter, so gjson's
// modifiers stay correct in the plugin.
package pretty

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Options says how Pretty lays JSON out.
type Options struct {
	// Width is the widest an array may be to stay on one line.
	Width int
	// Prefix starts every line.
	Prefix string
	// Indent is added once per level of nesting.
	Indent string
	// SortKeys orders each object's members by their decoded names.
	SortKeys bool
}

// DefaultOptions are the options Pretty uses.
var DefaultOptions = &Options{Width: 80, Prefix: "", Indent: "  ", SortKeys: false}

// Pretty lays out JSON with DefaultOptions.
func Pretty(json []byte) []byte { return PrettyOptions(json, nil) }

// PrettyOptions lays out JSON with one member or element per line, short
// arrays on one line, and a newline at the end. Nil options are
// DefaultOptions. Input that is not JSON is laid out as far as it can be
// read; nothing panics.
func PrettyOptions(json []byte, opts *Options) []byte {
	if opts == nil {
		opts = DefaultOptions
	}
	p := printer{src: json, opts: opts}
	p.space()
	if p.i >= len(p.src) {
		return []byte{}
	}
	out := append([]byte(opts.Prefix), p.value(0)...)
	return append(out, '\n')
}

// Ugly removes every space, tab and line break outside strings.
func Ugly(json []byte) []byte {
	out := make([]byte, 0, len(json))
	for i := 0; i < len(json); i++ {
		c := json[i]
		if c <= ' ' {
			continue
		}
		out = append(out, c)
		if c == '"' {
			for i++; i < len(json); i++ {
				out = append(out, json[i])
				if json[i] == '\\' && i+1 < len(json) {
					i++
					out = append(out, json[i])
				} else if json[i] == '"' {
					break
				}
			}
		}
	}
	return out
}

// printer reads src from i and writes each value it reads.
type printer struct {
	src  []byte
	i    int
	opts *Options
}

// space skips whitespace.
func (p *printer) space() {
	for p.i < len(p.src) && p.src[p.i] <= ' ' {
		p.i++
	}
}

// value writes the value at i as it sits at the given depth, without the
// indentation of its first line.
func (p *printer) value(depth int) []byte {
	p.space()
	if p.i >= len(p.src) {
		return nil
	}
	switch p.src[p.i] {
	case '{':
		return p.object(depth)
	case '[':
		return p.array(depth)
	case '"':
		return p.str()
	}
	start := p.i
	for p.i < len(p.src) && !delimiter(p.src[p.i]) {
		p.i++
	}
	if p.i == start {
		// A stray delimiter: step over it.
		p.i++
		return nil
	}
	return append([]byte(nil), p.src[start:p.i]...)
}

// delimiter reports whether c ends a number or literal.
func delimiter(c byte) bool {
	return c <= ' ' || c == ',' || c == ':' || c == ']' || c == '}' || c == '[' || c == '{' || c == '"'
}

// str reads a string token as written, escapes included.
func (p *printer) str() []byte {
	start := p.i
	for p.i++; p.i < len(p.src); p.i++ {
		if p.src[p.i] == '\\' {
			p.i++
		} else if p.src[p.i] == '"' {
			p.i++
			break
		}
	}
	if p.i > len(p.src) {
		p.i = len(p.src)
	}
	return append([]byte(nil), p.src[start:p.i]...)
}

// member is one name and value of an object, each as written out.
type member struct {
	name, value []byte
}

// object writes an object, one member per line.
func (p *printer) object(depth int) []byte {
	p.i++ // {
	var members []member
	for {
		p.space()
		if p.i >= len(p.src) {
			break
		}
		if c := p.src[p.i]; c == '}' {
			p.i++
			break
		} else if c == ',' {
			p.i++
			continue
		}
		var m member
		if p.src[p.i] == '"' {
			m.name = p.str()
		} else {
			m.name = p.value(depth + 1)
		}
		p.space()
		if p.i < len(p.src) && p.src[p.i] == ':' {
			p.i++
		}
		m.value = p.value(depth + 1)
		members = append(members, m)
	}
	if len(members) == 0 {
		return []byte("{}")
	}
	if p.opts.SortKeys {
		slices.SortStableFunc(members, func(a, b member) int { return strings.Compare(decode(a.name), decode(b.name)) })
	}
	out := []byte("{\n")
	for n, m := range members {
		out = p.indent(out, depth+1)
		out = append(out, m.name...)
		out = append(out, ": "...)
		out = append(out, m.value...)
		if n < len(members)-1 {
			out = append(out, ',')
		}
		out = append(out, '\n')
	}
	out = p.indent(out, depth)
	return append(out, '}')
}

// array writes an array on one line when it fits within Width and holds
// no multi-line value, else one element per line.
func (p *printer) array(depth int) []byte {
	p.i++ // [
	var elems [][]byte
	for {
		p.space()
		if p.i >= len(p.src) {
			break
		}
		if c := p.src[p.i]; c == ']' {
			p.i++
			break
		} else if c == ',' {
			p.i++
			continue
		}
		elems = append(elems, p.value(depth+1))
	}
	if len(elems) == 0 {
		return []byte("[]")
	}
	width := len(p.opts.Prefix) + depth*len(p.opts.Indent) + 2*len(elems)
	oneLine := true
	for _, e := range elems {
		width += len(e)
		oneLine = oneLine && bytes.IndexByte(e, '\n') < 0
	}
	if oneLine && width <= p.opts.Width {
		out := []byte{'['}
		for n, e := range elems {
			if n > 0 {
				out = append(out, ", "...)
			}
			out = append(out, e...)
		}
		return append(out, ']')
	}
	out := []byte("[\n")
	for n, e := range elems {
		out = p.indent(out, depth+1)
		out = append(out, e...)
		if n < len(elems)-1 {
			out = append(out, ',')
		}
		out = append(out, '\n')
	}
	out = p.indent(out, depth)
	return append(out, ']')
}

// indent starts a line at the given depth.
func (p *printer) indent(out []byte, depth int) []byte {
	out = append(out, p.opts.Prefix...)
	for range depth {
		out = append(out, p.opts.Indent...)
	}
	return out
}

// decode is a string token's text with its escapes decoded, for sorting
// names; a token that is not a string sorts as written.
func decode(tok []byte) string {
	if len(tok) < 2 || tok[0] != '"' || tok[len(tok)-1] != '"' {
		return string(tok)
	}
	s := tok[1 : len(tok)-1]
	if bytes.IndexByte(s, '\\') < 0 {
		return string(s)
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			out = append(out, s[i])
			continue
		}
		i++
		switch s[i] {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, n := hex4(s[i+1:])
			if n == 0 {
				out = append(out, 'u')
				continue
			}
			i += n
			if utf16.IsSurrogate(r) {
				if len(s) > i+2 && s[i+1] == '\\' && s[i+2] == 'u' {
					if r2, n2 := hex4(s[i+3:]); n2 > 0 {
						if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
							r = d
							i += 2 + n2
						}
					}
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			out = append(out, s[i])
		}
	}
	return string(out)
}

// hex4 reads four hexadecimal digits; n is 4, or 0 when they are not there.
func hex4(s []byte) (r rune, n int) {
	if len(s) < 4 {
		return 0, 0
	}
	v, err := strconv.ParseUint(string(s[:4]), 16, 32)
	if err != nil {
		return 0, 0
	}
	return rune(v), 4
}
