package flow

import (
	"bytes"
	"encoding/json"
	"math"
	"mime"
	"reflect"
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
	for _, s := range []string{`"plain"`, `"a\"b\\c\/d\be\ff\ng\rh\ti"`, `"\u00e9\ud83d\ude00"`, `"\ud800x"`, `"\ud800\u0041"`, "\"\xff\\n\"", "\"é\\t€\"", `"\\u0041"`, `"\\"`,
		`"a longer plain run of text\nthen more plain text, \"quoted\" and \/ slashed"`, "\"sixteen plain by\x01tes\\n\"", "\"sixteen plain byé\\n after\""} {
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

// TestStateConfigRemembered: a state read again restores the same machine
// from the configuration parseState remembered, and a state whose
// configuration differs, even by a second config member, is checked anew.
func TestStateConfigRemembered(t *testing.T) {
	const good = `{"clientId":"Ov23li","clientType":"oauth-app","scopes":["gist","repo"],"encoding":"form","base":"https://ghe.example.com"}`
	state := func(config ...string) gjson.Result {
		s := `{"v":2,`
		for _, c := range config {
			s += `"config":` + c + `,`
		}
		return gjson.Parse(s + `"deviceCode":"DC","userCode":"WDJB-MJHT","uri":"https://ghe.example.com/login/device","expiresInMs":900000,"firstIntervalMs":5000,"intervalMs":5000,"deadline":901000,"wakeAt":6000}`)
	}
	lastConfig.Store(nil)
	first, err := parseState(state(good))
	if err != nil {
		t.Fatal(err)
	}
	if p := lastConfig.Load(); p == nil || p.raw != good {
		t.Fatalf("remembered %+v, want the config just checked", p)
	}
	again, err := parseState(state(good))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, first) {
		t.Errorf("read again\n%+v\nfirst\n%+v", again, first)
	}
	for _, bad := range [][]string{
		{`{"clientId":"Ov23li","clientType":"oauth-app","scopes":["repo","gist"],"encoding":"form","base":"https://ghe.example.com"}`},
		{good, `{"clientType":"bogus"}`},
		{`{"clientType":"bogus"}`, good[:len(good)-1] + `,"clientType":"bogus"}`},
	} {
		if _, err := parseState(state(bad...)); err == nil || err.Code != CodeInvalidInput {
			t.Errorf("config %s: %v, want invalid_input", bad, err)
		}
		if p := lastConfig.Load(); p == nil || p.raw != good {
			t.Errorf("config %s: remembered %+v, want the good one still", bad, p)
		}
	}
	// A state suspended again writes the remembered configuration as
	// appendConfig writes it, whatever the spelling it was read from.
	lastConfig.Store(nil)
	respelled := ` {"scopes" : ["gist", "repo"], "base":"https://ghe.example.com","clientId":"Ov23li","encoding":"form", "clientType":"oauth-app"}`
	for range 2 {
		m, err := parseState(state(respelled))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := string(m.configJSON), string(appendConfig(nil, &m.Config)); got != want || got != good {
			t.Errorf("remembered config writes %s, want %s", got, want)
		}
		plain := *m
		plain.configJSON = nil
		if got, want := m.Suspend(), plain.Suspend(); !bytes.Equal(got, want) {
			t.Errorf("suspended\n%s\nwritten anew\n%s", got, want)
		}
	}
	// Two members that merge into the good configuration are read as
	// before, without the shortcut.
	merged, err := parseState(state(`{"clientType":"bogus"}`, good))
	if err != nil || !reflect.DeepEqual(merged.Config, first.Config) {
		t.Errorf("merged config: %v, %+v", err, merged)
	}
}

// TestGitHubMediaType: the content type GitHub answers with, which
// mediaType recognises without parsing it, has the media type
// mime.ParseMediaType finds in it, and so do its near variants, parsed.
func TestGitHubMediaType(t *testing.T) {
	for _, v := range []string{githubContentType, "application/json; charset=UTF-8", "Application/JSON;charset=utf-8", "application/json; charset=utf-8; charset=latin1", "application/json; charset=utf-8 "} {
		want, _, err := mime.ParseMediaType(v)
		if err != nil {
			want = ""
		}
		if got := mediaType(v); got != want {
			t.Errorf("mediaType(%q) = %q, want %q", v, got, want)
		}
	}
}
