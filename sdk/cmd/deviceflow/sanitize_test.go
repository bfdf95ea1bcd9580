package main

import (
	"bytes"
	"errors"
	"testing"
)

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"WDJB-MJHT":                                  "WDJB-MJHT",
		"\x1b]0;pwned\x07\x1b[2J\x1b[HWDJB-MJHT":     "]0;pwned[2J[HWDJB-MJHT",
		"a\u009b31mb\u0085c\x7fd":                    "a31mb cd",
		"line one\nline two\r\n\tend":                "line one line two   end",
		"bad \xff\x9b byte":                          "bad  byte",
		"evil\u202egnp.exe \u2066x\u2069":            "evilgnp.exe x",
		"gıthub.com — ünïcödé stays, \u2028so be it": "gıthub.com — ünïcödé stays,  so be it",
	} {
		if got := clean(in); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSafeURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://github.com/login/device":             "https://github.com/login/device",
		"HTTPS://github.com/login/device":             "https://github.com/login/device",
		"http://127.0.0.1:8080/login/device":          "http://127.0.0.1:8080/login/device",
		"http://127.1.2.3/login/device":               "http://127.1.2.3/login/device",
		"http://[::1]:80/login/device":                "http://[::1]:80/login/device",
		"http://localhost/login/device":               "http://localhost/login/device",
		"https://gıthub.com/login/device":             "https://xn--gthub-n4a.com/login/device",
		"https://GıTHUB.com/login/device":             "https://xn--gthub-n4a.com/login/device",
		"https://bücher.example:8443/x":               "https://xn--bcher-kva.example:8443/x",
		"https://xn--gthub-n4a.com/login/device":      "https://xn--gthub-n4a.com/login/device",
		"https://github.com/login/device\x1b[2J":      "https://github.com/login/device[2J",
		"https://github.com/login/device?code=AB\x07": "https://github.com/login/device?code=AB",
		"javascript:alert(1)":                         "",
		"javascript://github.com/%0aalert(1)":         "",
		"file:///etc/passwd":                          "",
		"data:text/html,hi":                           "",
		"ftp://github.com/":                           "",
		"http://github.com/login/device":              "",
		"http://127.0.0.1.evil.example/":              "",
		"https://github.com@evil.example/login":       "",
		"//evil.example/login":                        "",
		"/login/device":                               "",
		"":                                            "",
	} {
		got, err := safeURL(in)
		if want == "" {
			if err == nil {
				t.Errorf("safeURL(%q) = %q, want it refused", in, got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("safeURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestPunycode(t *testing.T) {
	// RFC 3492 section 7.1 and Python's "punycode" codec.
	for in, want := range map[string]string{
		"gıthub":                 "gthub-n4a",
		"bücher":                 "bcher-kva",
		"мой":                    "i1afg",
		"例え":                     "r8jz45g",
		"ü":                      "tda",
		"aüb-c":                  "ab-c-0ra",
		"ドメイン名例":                 "eckwd4c7cu47r2wf",
		"majiでkoiする5秒前":          "majikoi5-783gue6qz075azm5e",
		"他们为什么不说中文":              "ihqwcrb4cv8a8dqg056pqjye",
		"pročprostěnemluvíčesky": "proprostnemluvesky-uyb24dma41a",
	} {
		if got := punycode(in); got != want {
			t.Errorf("punycode(%q) = %q, want %q", in, got, want)
		}
	}
	if got := asciiHost("WWW.Gıthub。com"); got != "www.xn--gthub-n4a.com" {
		t.Errorf("asciiHost: %q", got)
	}
	if got := asciiHost("GitHub.com"); got != "GitHub.com" {
		t.Errorf("an ASCII host changed: %q", got)
	}
}

func TestCleanWriter(t *testing.T) {
	var b bytes.Buffer
	w := cleanWriter{&b}
	n, err := w.Write([]byte("ok\tcol\n\x1b[2Jgone\r\x9b\u009b\u202eend\n"))
	if err != nil || n != len("ok\tcol\n\x1b[2Jgone\r\x9b\u009b\u202eend\n") {
		t.Fatalf("write: %d %v", n, err)
	}
	if b.String() != "ok\tcol\n[2Jgoneend\n" {
		t.Errorf("got %q", b.String())
	}
}

func TestMessageNeverDoublesTheName(t *testing.T) {
	for in, want := range map[string]string{
		"deviceflow: unknown store \"s3\"":                                `unknown store "s3"`,
		"deviceflow: deviceflow: twice":                                   "twice",
		"the token store failed: deviceflow: the store file /x is broken": "the token store failed: the store file /x is broken",
		"deviceflow plugin: wasm trap":                                    "the plugin failed: wasm trap",
		"access denied \x1b]0;pwned\x07(access_denied)":                   "access denied ]0;pwned(access_denied)",
	} {
		if got := message(errors.New(in)); got != want {
			t.Errorf("message(%q) = %q, want %q", in, got, want)
		}
	}
}
