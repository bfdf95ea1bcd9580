package flow

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// The engine writes its JSON by hand and reads it with gjson, so that the
// plugin links neither encoding/json nor reflect. What it writes is byte for
// byte what encoding/json wrote before (struct fields in declaration order,
// map keys sorted, strings escaped alike: HTML characters and U+2028/U+2029
// included); what it reads it reads as encoding/json did (keys matched
// exactly or case-insensitively, the last duplicate winning, null leaving a
// field unset, the first type mismatch an error). Native tests fuzz both
// halves against encoding/json.

// obj writes one JSON object. Callers add members in the order the object
// shows them and end it with close.
type obj struct {
	b     []byte
	comma bool
}

func newObj(b []byte) obj { return obj{b: append(b, '{')} }

func (o *obj) key(k string) {
	if o.comma {
		o.b = append(o.b, ',')
	}
	o.comma = true
	// Keys are nearly always plain names, checked here a word at a time
	// (the last word, or for a key of four to seven bytes the last four,
	// overlapping what came before) and copied as they are; a call per key
	// to appendString cost more than the key.
	var plain bool
	switch {
	case len(k) >= 8:
		plain = plain8(le64(k[len(k)-8:]))
		for i := 0; i+8 < len(k) && plain; i += 8 {
			plain = plain8(le64(k[i:]))
		}
	case len(k) >= 4:
		plain = plain8(uint64(le32(k)) | uint64(le32(k[len(k)-4:]))<<32)
	default:
		plain = true
		for i := 0; i < len(k) && plain; i++ {
			plain = plainBytes[k[i]]
		}
	}
	if !plain {
		o.b = appendString(o.b, k)
		o.b = append(o.b, ':')
		return
	}
	o.b = append(o.b, '"')
	o.b = append(o.b, k...)
	o.b = append(o.b, '"', ':')
}

func (o *obj) str(k, v string) {
	o.key(k)
	o.b = appendString(o.b, v)
}

// strOmit writes a string member unless it is empty (omitempty).
func (o *obj) strOmit(k, v string) {
	if v != "" {
		o.str(k, v)
	}
}

func (o *obj) int(k string, v int64) {
	o.key(k)
	o.b = strconv.AppendInt(o.b, v, 10)
}

// intOmit writes an integer member unless it is zero (omitempty).
func (o *obj) intOmit(k string, v int64) {
	if v != 0 {
		o.int(k, v)
	}
}

func (o *obj) bool(k string, v bool) {
	o.key(k)
	o.b = strconv.AppendBool(o.b, v)
}

// raw writes a member whose value is JSON already.
func (o *obj) raw(k string, v []byte) {
	o.key(k)
	o.b = append(o.b, v...)
}

// seconds writes milliseconds as a number of seconds (appendSeconds).
func (o *obj) seconds(k string, ms int64) {
	o.key(k)
	o.b = appendSeconds(o.b, ms)
}

func (o *obj) strs(k string, v []string) {
	o.key(k)
	o.b = appendStrings(o.b, v)
}

func (o *obj) close() []byte { return append(o.b, '}') }

// appendStrings writes a list of strings; nil is null, as encoding/json
// writes a nil slice.
func appendStrings(b []byte, v []string) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

const hexDigits = "0123456789abcdef"

// plainBytes marks the bytes appendString copies as they are: printable
// ASCII other than `"`, `\`, <, > and &. Every other byte takes the slow
// path (an escape, or a UTF-8 sequence to check).
var plainBytes = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// Constants for plain8: a byte repeated in each of eight lanes.
const (
	lanes01 = 0x0101010101010101
	lanes80 = 0x8080808080808080
)

// plain8 reports whether the eight bytes of x (le64) are all plain
// (plainBytes), testing them at once: none has its top bit set, none is
// below 0x20, and none is `"` or & (0x22 and 0x26, alike once bit 2 is
// set), < or > (0x3c and 0x3e, alike once bit 1 is set) or `\`. Each test
// is a classic of bit twiddling, (v - 0x01…) &^ v & 0x80… for "has a zero
// byte" and its form for "has a byte below n", exact for the word as a
// whole.
func plain8(x uint64) bool {
	quoteAmp := (x | 0x04*lanes01) ^ 0x26*lanes01
	angle := (x | 0x02*lanes01) ^ 0x3e*lanes01
	backslash := x ^ 0x5c*lanes01
	return (x|(x-0x20*lanes01)&^x|(quoteAmp-lanes01)&^quoteAmp|(angle-lanes01)&^angle|(backslash-lanes01)&^backslash)&lanes80 == 0
}

// plainASCII8 reports whether none of the eight bytes of x (le64) is below
// 0x20, beyond ASCII or `\`, as plain8 tests them.
func plainASCII8(x uint64) bool {
	backslash := x ^ 0x5c*lanes01
	return (x|(x-0x20*lanes01)&^x|(backslash-lanes01)&^backslash)&lanes80 == 0
}

// plainASCII reports whether s has no control character, backslash or
// byte beyond ASCII: inside a JSON string, text that decodes to itself.
func plainASCII(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if !plainASCII8(le64(s[i:])) {
			return false
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '\\' {
			return false
		}
	}
	return true
}

// le32 reads four bytes as a little-endian word, as le64 does.
func le32(s string) uint32 {
	_ = s[3]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

// le64 reads eight bytes as a little-endian word, written so that the
// compiler merges the reads into one eight-byte load.
func le64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// appendString writes s as a JSON string exactly as encoding/json does:
// `"` and `\` escaped, control characters as \b, \f, \n, \r, \t or \u00XX,
// the HTML characters <, > and & as \u003c, \u003e and \u0026, U+2028 and
// U+2029 as \u2028 and \u2029, and each byte of invalid UTF-8 as \ufffd.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		// Eight plain bytes at a time, then the next eight (or the rest)
		// one by one.
		if i+8 <= len(s) && plain8(le64(s[i:])) {
			i += 8
			continue
		}
		end := min(i+8, len(s))
		c := s[i]
		if plainBytes[c] {
			for i++; i < end && plainBytes[s[i]]; i++ {
			}
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// jsonKind names the type of a JSON value as encoding/json's errors do.
func jsonKind(v gjson.Result) string {
	switch v.Type {
	case gjson.String:
		return "string"
	case gjson.Number:
		return "number"
	case gjson.True, gjson.False:
		return "bool"
	case gjson.Null:
		return "null"
	}
	if v.IsArray() {
		return "array"
	}
	return "object"
}

// decoder reads the members of one JSON object into fields the caller
// names, as encoding/json's Unmarshal into a struct: each key goes to the
// field it names exactly or, failing that, case-insensitively (by
// encoding/json's folding); a later duplicate overwrites an earlier one;
// null leaves a field as it is; the first value of the wrong type is
// remembered as the error, and decoding goes on.
type decoder struct {
	names []string
	// bad is the first field whose value had the wrong type, want what it
	// should have been ("" when none).
	bad, want string
}

// each calls f with the index of the field each member names (members
// naming none are skipped) and its value.
func (d *decoder) each(o gjson.Result, f func(i int, v gjson.Result)) {
	// Members mostly come in the order of the names (the engine writes
	// them so): the name after the last one matched is tried first. Names
	// are distinct, so an exact match there is the one matchName finds.
	next := 0
	o.ForEach(func(k, v gjson.Result) bool {
		key := jsonString(k)
		i := -1
		if next < len(d.names) && d.names[next] == key {
			i = next
		} else {
			i = matchName(key, d.names)
		}
		if i >= 0 {
			next = i + 1
			f(i, v)
		}
		return true
	})
}

// mismatch records a value of the wrong type for field i.
func (d *decoder) mismatch(i int, want string) {
	if d.bad == "" {
		d.bad, d.want = d.names[i], want
	}
}

// str reads a string field; null keeps the old value.
func (d *decoder) str(i int, v gjson.Result, dst *string) {
	switch v.Type {
	case gjson.String:
		*dst = jsonString(v)
	case gjson.Null:
	default:
		d.mismatch(i, "string")
	}
}

// boolean reads a bool field; null keeps the old value.
func (d *decoder) boolean(i int, v gjson.Result, dst *bool) {
	switch v.Type {
	case gjson.True, gjson.False:
		*dst = v.Type == gjson.True
	case gjson.Null:
	default:
		d.mismatch(i, "bool")
	}
}

// boolPtr reads a *bool field; null sets it to nil.
func (d *decoder) boolPtr(i int, v gjson.Result, dst **bool) {
	switch v.Type {
	case gjson.True, gjson.False:
		b := v.Type == gjson.True
		*dst = &b
	case gjson.Null:
		*dst = nil
	default:
		d.mismatch(i, "bool")
	}
}

// integer reads an integer field; null keeps the old value, and a number
// with a fraction or out of range is a mismatch.
func (d *decoder) integer(i int, v gjson.Result, dst *int64) {
	switch v.Type {
	case gjson.Number:
		if n, ok := smallInt(v.Raw); ok {
			*dst = n
			return
		}
		n, err := strconv.ParseInt(v.Raw, 10, 64)
		if err != nil {
			d.mismatch(i, "int64")
			return
		}
		*dst = n
	case gjson.Null:
	default:
		d.mismatch(i, "int64")
	}
}

// smallInt reads an optional minus sign and one to eighteen decimal digits,
// which strconv.ParseInt(s, 10, 64) reads alike (eighteen digits never
// overflow), without its generality; ok is false for anything else, left
// to strconv.
func smallInt(s string) (n int64, ok bool) {
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	if len(s) == 0 || len(s) > 18 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 {
			return 0, false
		}
		n = n*10 + int64(c)
	}
	if neg {
		n = -n
	}
	return n, true
}

// strMap reads a map of strings: null sets it to nil, an object's members
// are added to it (made when nil), a null member's value is "".
func (d *decoder) strMap(i int, v gjson.Result, dst *map[string]string) {
	switch {
	case v.Type == gjson.Null:
		*dst = nil
	case v.IsObject():
		if *dst == nil {
			*dst = map[string]string{}
		}
		v.ForEach(func(k, e gjson.Result) bool {
			switch e.Type {
			case gjson.String:
				(*dst)[jsonString(k)] = jsonString(e)
			case gjson.Null:
				(*dst)[jsonString(k)] = ""
			default:
				d.mismatch(i, "string")
			}
			return true
		})
	default:
		d.mismatch(i, "map[string]string")
	}
}

// strList reads a list of strings; null sets it to nil.
func (d *decoder) strList(i int, v gjson.Result, dst *[]string) {
	switch {
	case v.Type == gjson.Null:
		*dst = nil
	case v.IsArray():
		list, ok := stringArray(v)
		if !ok {
			d.mismatch(i, "[]string")
			return
		}
		*dst = list
	default:
		d.mismatch(i, "[]string")
	}
}

// stringArray reads a JSON array of strings as encoding/json reads it into
// a []string (a null element is ""); ok is false when an element is
// anything else.
func stringArray(v gjson.Result) ([]string, bool) {
	list := []string{}
	ok := true
	v.ForEach(func(_, e gjson.Result) bool {
		switch e.Type {
		case gjson.String:
			list = append(list, jsonString(e))
		case gjson.Null:
			list = append(list, "")
		default:
			ok = false
		}
		return ok
	})
	return list, ok
}

// matchName finds the name a key matches: exactly, else by folding.
func matchName(key string, names []string) int {
	for i, n := range names {
		if key == n {
			return i
		}
	}
	fk := foldName(key)
	for i, n := range names {
		if fk == foldName(n) {
			return i
		}
	}
	return -1
}

// foldName folds a key as encoding/json does to match field names case-
// insensitively: ASCII letters upper-cased, every other rune replaced by
// the smallest rune of its Unicode simple-folding orbit.
func foldName(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			b = append(b, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		b = utf8.AppendRune(b, foldRune(r))
		i += n
	}
	return string(b)
}

func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}

// validUTF8 replaces each byte of invalid UTF-8 with U+FFFD, as
// encoding/json does when it decodes a string.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, "\uFFFD"...)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return string(b)
}

// jsonString is a JSON string value decoded as encoding/json decodes it:
// escapes resolved, a surrogate escape that is not half of a pair and each
// byte of invalid UTF-8 replaced by U+FFFD.
func jsonString(v gjson.Result) string {
	raw := v.Raw
	if len(raw) < 2 || raw[0] != '"' {
		return validUTF8(v.Str)
	}
	s := raw[1 : len(raw)-1]
	if plainASCII(s) {
		// Nothing to decode and nothing to replace.
		return s
	}
	if !strings.Contains(s, `\`) {
		return validUTF8(s)
	}
	if simpleEscapes(s) {
		// gjson has decoded it already, as encoding/json would.
		return v.Str
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				b = append(b, "\uFFFD"...)
			} else {
				b = append(b, s[i:i+n]...)
			}
			i += n
			continue
		}
		if i+1 >= len(s) {
			break
		}
		switch e := s[i+1]; e {
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r := hex4(s[i+2:])
			if r < 0 {
				return validUTF8(v.Str)
			}
			i += 6
			if utf16.IsSurrogate(r) {
				if r2 := hex4WithPrefix(s[i:]); r2 >= 0 {
					if dec := utf16.DecodeRune(r, r2); dec != unicode.ReplacementChar {
						b = utf8.AppendRune(b, dec)
						i += 6
						continue
					}
				}
				r = unicode.ReplacementChar
			}
			b = utf8.AppendRune(b, r)
			continue
		default:
			b = append(b, e)
		}
		i += 2
	}
	return string(b)
}

// simpleEscapes reports whether the inside of a JSON string is valid UTF-8
// whose escapes are all of one character (\" \\ \/ \b \f \n \r \t):
// gjson decodes such a string (Result.Str) exactly as encoding/json does.
// It differs only on \u escapes (an unpaired surrogate), invalid UTF-8, a
// control character or an unknown escape, which it stops at or keeps.
func simpleEscapes(s string) bool {
	ascii := true
	for i := 0; i < len(s); i++ {
		// Eight bytes at a time while none is a control character, a
		// backslash or beyond ASCII.
		for i+8 <= len(s) && plainASCII8(le64(s[i:])) {
			i += 8
		}
		if i == len(s) {
			break
		}
		switch c := s[i]; {
		case c < 0x20:
			return false
		case c >= utf8.RuneSelf:
			ascii = false
		case c == '\\':
			i++
			if i == len(s) || strings.IndexByte(`"\\/bfnrt`, s[i]) < 0 {
				return false
			}
		}
	}
	return ascii || utf8.ValidString(s)
}

// hex4 reads four hex digits, -1 when there are none.
func hex4(s string) rune {
	if len(s) < 4 {
		return -1
	}
	var r rune
	for i := 0; i < 4; i++ {
		c := s[i]
		if !isHex(c) {
			return -1
		}
		r = r<<4 | rune(unhex(c))
	}
	return r
}

// hex4WithPrefix reads a \uXXXX escape, -1 when s does not start with one.
func hex4WithPrefix(s string) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	return hex4(s[2:])
}
