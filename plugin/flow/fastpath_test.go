package flow

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"

	"github.com/tidwall/gjson"
)

// The engine's shortcuts on a poll's path, each held to the slow answer it
// stands for.

// FuzzAppendSeconds holds appendSeconds' integer shortcut to what
// strconv.AppendFloat writes for the same number of seconds.
func FuzzAppendSeconds(f *testing.F) {
	for _, ms := range []int64{0, 1, 50, 999, 1000, 5000, 5250, 900000, 360000000000, -1000, -1500, 1 << 53, 1<<53 - 1000, -1 << 53, math.MaxInt64, math.MinInt64} {
		f.Add(ms)
	}
	f.Fuzz(func(t *testing.T, ms int64) {
		want := strconv.AppendFloat([]byte("x"), float64(ms)/1000, 'f', -1, 64)
		if got := appendSeconds([]byte("x"), ms); string(got) != string(want) {
			t.Errorf("appendSeconds(%d) = %s, want %s", ms, got, want)
		}
	})
}

// FuzzJSONStringAsEncodingJSON holds jsonString, with its shortcut through
// gjson's own decoding, to encoding/json's decoding of the same string, as
// a member's value and as its key.
func FuzzJSONStringAsEncodingJSON(f *testing.F) {
	for _, s := range []string{`"plain"`, `"a\"b\\c\/d\be\ff\ng\rh\ti"`, `"\u00e9\ud83d\ude00"`, `"\ud800x"`, `"\ud800\u0041"`, "\"\xff\\n\"", "\"é\\t€\"", `"\\u0041"`, `"\\"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want string
		if json.Unmarshal([]byte(s), &want) != nil {
			return
		}
		doc := `{"k":` + s + `,` + s + `:1}`
		if !gjson.Valid(doc) {
			return
		}
		var got []string
		gjson.Parse(doc).ForEach(func(k, v gjson.Result) bool {
			if len(got) == 0 {
				got = append(got, jsonString(v))
			} else {
				got = append(got, jsonString(k))
			}
			return true
		})
		if len(got) != 2 || got[0] != want || got[1] != want {
			t.Errorf("jsonString(%s) = %q, want %q twice", s, got, want)
		}
	})
}
