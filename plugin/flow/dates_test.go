package flow

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The engine reads and writes timestamps by hand so that the plugin links
// neither time.Parse nor time.Time.Format (dates.go). These fuzzers hold
// each hand-written function to the time package's answer for the same
// input, through the functions as they were written over it.

// isoMillis is the timestamp form of JavaScript's Date.toISOString, which
// octokit uses for expiresAt.
const isoMillis = "2006-01-02T15:04:05.000Z"

// oldFormatTime is formatTime as it was written over the time package.
func oldFormatTime(ms int64) string { return time.UnixMilli(ms).UTC().Format(isoMillis) }

// oldParseTime is parseTime as it was written over the time package.
func oldParseTime(s string) (int64, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, false
	}
	return t.UnixMilli(), true
}

// httpDateLayouts are the date forms HTTP/1.1 allows (RFC 9110 section
// 5.6.7: "Recipients ... MUST accept all three HTTP-date formats"),
// preferred form first, each also with a one-digit day as servers and
// JavaScript's Date parser accept it (`Thu, 1 Jan 1970 00:00:00 GMT`), as
// the engine read them with time.Parse.
var httpDateLayouts = []string{
	"Mon, 02 Jan 2006 15:04:05 GMT",
	"Mon, 2 Jan 2006 15:04:05 GMT",
	"Monday, 02-Jan-06 15:04:05 GMT",
	"Monday, 2-Jan-06 15:04:05 GMT",
	"Mon Jan _2 15:04:05 2006",
	"Mon Jan 2 15:04:05 2006",
}

// oldParseHTTPDate is parseHTTPDate as it was written over the time
// package (it answered a time.Time; clockBase took its UnixMilli).
func oldParseHTTPDate(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	for _, layout := range httpDateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UnixMilli(), true
		}
	}
	return 0, false
}

// Instants at the edges of what the year fields and int64 can hold.
const (
	msYear0     = -62167219200000 // 0000-01-01T00:00:00Z
	msYear10000 = 253402300800000 // 10000-01-01T00:00:00Z
	msYear1969  = -31536000000    // 1969-01-01T00:00:00Z
	msYear2069  = 3124137600000   // 2069-01-01T00:00:00Z
)

// FuzzFormatTimeAsTime: formatTime writes the bytes time.Format wrote for
// every int64, years beyond 9999 and before 0 included, and parseTime
// reads back every stamp with a four-digit year.
func FuzzFormatTimeAsTime(f *testing.F) {
	for _, ms := range []int64{0, -1, 1, 999, -999, -1000, -1001, 1767254400000, 951782400000, 951868799999, 4107542400000,
		msYear0, msYear0 - 1, msYear10000, msYear10000 - 1, -62135596800000, -62135596800001, msYear1969, msYear2069,
		math.MaxInt64, math.MinInt64, math.MaxInt64 - 86400000, math.MinInt64 + 1, 1<<53 - 1, -(1<<53 - 1)} {
		f.Add(ms)
	}
	f.Fuzz(func(t *testing.T, ms int64) {
		got, want := formatTime(ms), oldFormatTime(ms)
		if got != want {
			t.Fatalf("formatTime(%d) = %q, time.Format wrote %q", ms, got, want)
		}
		if ms < msYear0 || ms >= msYear10000 {
			return
		}
		if back, ok := parseTime(got); !ok || back != ms {
			t.Fatalf("parseTime(%q) = %d, %v; want %d", got, back, ok, ms)
		}
		if back, ok := oldParseTime(got); !ok || back != ms {
			t.Fatalf("time.Parse(%q) = %d, %v; want %d", got, back, ok, ms)
		}
	})
}

// oddRFC3339 says whether s has one of the forms time.Parse(RFC3339Nano)
// took that RFC 3339 does not allow and parseTime refuses: a comma before
// the fraction, a one-digit hour, an offset hour of 24 or an offset minute
// of 60.
func oddRFC3339(s string) bool {
	if strings.Contains(s, ",") || len(s) > 12 && s[12] == ':' {
		return true
	}
	n := len(s)
	return n >= 6 && (s[n-6] == '+' || s[n-6] == '-') && (s[n-5:n-3] == "24" || s[n-2:] == "60")
}

// FuzzParseTimeAsTime: whatever parseTime accepts, time.Parse accepted
// with the same instant; whatever time.Parse accepted and parseTime
// refuses has one of the odd forms parseTime's comment lists.
func FuzzParseTimeAsTime(f *testing.F) {
	for _, s := range []string{
		"2026-01-01T08:00:00.000Z", "2026-01-01T08:00:00Z", "2026-01-01T08:00:00.5Z", "2026-01-01T08:00:00.123456789Z",
		"2026-01-01T08:00:00.1234567891234Z", "2026-01-01T08:00:00+05:30", "2026-01-01T08:00:00.999-23:59", "0000-01-01T00:00:00+00:01",
		"9999-12-31T23:59:59.999-23:59", "2024-02-29T00:00:00Z", "2023-02-29T00:00:00Z", "2000-02-29T12:00:00Z", "1900-02-29T12:00:00Z",
		"2026-04-31T00:00:00Z", "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z", "2026-01-00T00:00:00Z", "2026-01-01T24:00:00Z",
		"2026-01-01T23:60:00Z", "2026-01-01T23:59:60Z", "2026-01-01t08:00:00Z", "2026-01-01T08:00:00z", "2026-01-01 08:00:00Z",
		"2026-01-01T08:00:00", "2026-01-01T08:00:00.Z", "2026-01-01T08:00:00.", "2026-01-01T08:00:00+0530", "2026-01-01T08:00:00+05:3",
		"2026-01-01T08:00:00*05:30", "+2026-01-01T08:00:00Z", "20260-01-01T08:00:00Z", "-001-01-01T08:00:00Z", "2026-1-01T08:00:00Z",
		// The odd forms time.Parse took.
		"2026-01-01T8:00:00Z", "2026-01-01T08:00:00,5Z", "2026-01-01T08:00:00+24:00", "2026-01-01T08:00:00-05:60", "2026-01-01T8:00:00,123+24:60",
		"", "Z", "soon", "2026-01-01T08:00:00ZZ", "2026-01-01T08:00:00Z ", " 2026-01-01T08:00:00Z", "2026-01-01T08:00:00.5.5Z",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseTime(s)
		want, wok := oldParseTime(s)
		switch {
		case ok && (!wok || got != want):
			t.Fatalf("parseTime(%q) = %d; time.Parse gave %d, %v", s, got, want, wok)
		case !ok && wok && !oddRFC3339(s):
			t.Fatalf("parseTime(%q) refused what time.Parse read as %d, in no listed odd form", s, want)
		}
	})
}

// FuzzRFC3339FieldsAsTime: an RFC 3339 stamp written from any fields in
// range, with a fraction of 0 to 9 digits and a Z or numeric offset, is
// read as time.Parse read it.
func FuzzRFC3339FieldsAsTime(f *testing.F) {
	f.Add(uint16(2026), uint8(0), uint8(0), uint8(8), uint8(0), uint8(0), uint32(0), uint8(3), int16(0))
	f.Add(uint16(0), uint8(0), uint8(0), uint8(0), uint8(0), uint8(0), uint32(1), uint8(9), int16(1))
	f.Add(uint16(9999), uint8(11), uint8(30), uint8(23), uint8(59), uint8(59), uint32(999999999), uint8(9), int16(-1439))
	f.Add(uint16(2024), uint8(1), uint8(28), uint8(12), uint8(30), uint8(15), uint32(5), uint8(1), int16(330))
	f.Add(uint16(1900), uint8(1), uint8(28), uint8(0), uint8(0), uint8(0), uint32(42), uint8(2), int16(-2))
	f.Fuzz(func(t *testing.T, year uint16, month, day, hour, minute, sec uint8, frac uint32, ndigits uint8, zone int16) {
		y, m := int(year)%10000, int(month)%12+1
		d := int(day)%int(daysIn(int64(m), int64(y))) + 1
		s := fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d", y, m, d, int(hour)%24, int(minute)%60, int(sec)%60)
		if nd := int(ndigits) % 10; nd > 0 {
			s += fmt.Sprintf(".%0*d", nd, int(frac)%int(math.Pow10(nd)))
		}
		if zone%3 == 0 {
			s += "Z"
		} else {
			off, sign := int(zone)%(24*60), "+"
			if off < 0 || off == 0 && zone < 0 {
				off, sign = -off, "-"
			}
			s += fmt.Sprintf("%s%02d:%02d", sign, off/60, off%60)
		}
		want, wok := oldParseTime(s)
		if !wok {
			t.Fatalf("time.Parse refused the generated %q", s)
		}
		if got, ok := parseTime(s); !ok || got != want {
			t.Fatalf("parseTime(%q) = %d, %v; time.Parse read %d", s, got, ok, want)
		}
	})
}

// The odd forms of an HTTP-date that time.Parse took and parseHTTPDate
// refuses: a fraction after the seconds, a two-digit year written as a
// sign and a digit.
var (
	oddHTTPFraction = regexp.MustCompile(`:[0-9][0-9][.,][0-9]`)
	oddHTTPYear     = regexp.MustCompile(`-[A-Za-z]{3}-[+-]`)
)

// FuzzParseHTTPDateAsTime: whatever parseHTTPDate accepts, time.Parse
// accepted with one of the layouts, with the same instant; whatever
// time.Parse accepted and parseHTTPDate refuses has one of the odd forms
// parseHTTPDate's comment lists.
func FuzzParseHTTPDateAsTime(f *testing.F) {
	for _, s := range []string{
		"Thu, 01 Jan 2026 00:00:07 GMT", "Thursday, 01-Jan-26 00:00:07 GMT", "Thu Jan  1 00:00:07 2026", "Thu, 1 Jan 1970 00:00:00 GMT",
		"Thursday, 1-Jan-70 00:00:00 GMT", "Thu Jan 1 00:00:07 2026", "Thu Jan 01 00:00:07 2026", "Sun, 06 Nov 1994 08:49:37 GMT",
		"Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "sUN, 06 nOV 1994 08:49:37 GMT", "SUNDAY, 06-NOV-94 08:49:37 GMT",
		"Sun,   06   Nov   1994   8:49:37   GMT", " \t Sun Nov  6 8:49:37 1994 \r\n", "Mon, 06 Nov 1994 08:49:37 GMT", "Sat, 29 Feb 2000 00:00:00 GMT",
		"Thu, 29 Feb 1900 00:00:00 GMT", "Wed, 31 Apr 2026 00:00:00 GMT", "Wed, 00 Apr 2026 00:00:00 GMT", "Wed, 01 Apr 2026 24:00:00 GMT",
		"Wed, 01 Apr 2026 23:60:00 GMT", "Wed, 01 Apr 2026 23:59:60 GMT", "Wed, 01 Apr 0000 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT",
		"Friday, 31-Dec-68 23:59:59 GMT", "Wednesday, 01-Jan-69 00:00:00 GMT", "Sun, 06 Nov 1994 08:49:37 gmt", "Sun, 06 Nov 1994 08:49:37 UTC",
		"Sun,06 Nov 1994 08:49:37 GMT", "Sun, 06-Nov-1994 08:49:37 GMT", "Sun 06 Nov 1994 08:49:37 GMT", "Sunday, 06 Nov 1994 08:49:37 GMT",
		"Sun, 006 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 94 08:49:37 GMT", "Sun, 06 Nov 1994 08:49 GMT", "Sun, 06 Nov 1994 008:49:37 GMT",
		"Sun, 06 Nov 1994 08:49:37 GMT x", "Sun, 06 Nov 1994 08:49:37 GMTx", "Sun Nov  6 08:49:37 1994 GMT", "Sun Nov  6 08:49:37 94",
		"Sun Nov 6\t08:49:37 1994", "Sun\u00a0Nov 6 08:49:37 1994", "\u00a0Sun Nov 6 08:49:37 1994\u2028", "Sunday , 06-Nov-94 08:49:37 GMT",
		"Tuesday, 06-Nov-94 08:49:37 GMT", "Sunday, 06-Nov-9 08:49:37 GMT", "Sunday, 06-Nov-994 08:49:37 GMT",
		// The odd forms time.Parse took.
		"Sun, 06 Nov 1994 08:49:37.5 GMT", "Sunday, 06-Nov-94 08:49:37,123 GMT", "Sun Nov  6 08:49:37.999999999999 1994",
		"Sunday, 06-Nov-+4 08:49:37 GMT", "Sunday, 06-Nov--4 08:49:37 GMT", "Sunday, 06-Nov--0 08:49:37.1 GMT",
		"", "yesterday", "Sun", "Sun,", "Sunday", "Sunday,",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseHTTPDate(s)
		want, wok := oldParseHTTPDate(s)
		switch {
		case ok && (!wok || got != want):
			t.Fatalf("parseHTTPDate(%q) = %d; time.Parse gave %d, %v", s, got, want, wok)
		case !ok && wok && !oddHTTPFraction.MatchString(s) && !oddHTTPYear.MatchString(s):
			t.Fatalf("parseHTTPDate(%q) refused what time.Parse read as %d, in no listed odd form", s, want)
		}
	})
}

// FuzzHTTPDateLayoutsAsTime: a date written in any of the layouts, at any
// second its year field can hold, is read as the same instant; so is the
// same date in upper or lower case, with runs of spaces, surrounding white
// space or a one-digit hour, which time.Parse took as well.
func FuzzHTTPDateLayoutsAsTime(f *testing.F) {
	for i := range httpDateLayouts {
		f.Add(int64(1767225607000), uint8(i), uint8(0))
		f.Add(int64(0), uint8(i), uint8(0xff))
		f.Add(int64(-1), uint8(i), uint8(0x15))
	}
	f.Fuzz(func(t *testing.T, ms int64, layout, style uint8) {
		l := httpDateLayouts[int(layout)%len(httpDateLayouts)]
		lo, hi := int64(msYear0), int64(msYear10000)
		if strings.Contains(l, "-06") {
			lo, hi = msYear1969, msYear2069 // a two-digit year: 1969 to 2068
		}
		_, r := floorDiv(ms, hi-lo)
		want := (lo + r) / 1000 * 1000
		tm := time.UnixMilli(want).UTC()
		s := tm.Format(l)
		if style&1 != 0 && tm.Hour() < 10 {
			s = strings.Replace(s, tm.Format(" 15:"), fmt.Sprintf(" %d:", tm.Hour()), 1)
		}
		switch style >> 1 & 3 {
		case 1:
			s = strings.ToUpper(s)
		case 2:
			s = strings.ReplaceAll(strings.ToLower(s), "gmt", "GMT")
		}
		if style&8 != 0 {
			s = strings.ReplaceAll(s, " ", "   ")
		}
		if style&16 != 0 {
			s = " \t" + s + "\r\n "
		}
		if back, ok := oldParseHTTPDate(s); !ok || back != want {
			t.Fatalf("time.Parse read the generated %q as %d, %v; want %d", s, back, ok, want)
		}
		if got, ok := parseHTTPDate(s); !ok || got != want {
			t.Fatalf("parseHTTPDate(%q) = %d, %v; want %d", s, got, ok, want)
		}
	})
}

// TestDatesRefuseOddForms: the forms time.Parse took that the readers
// refuse, as their comments list them.
func TestDatesRefuseOddForms(t *testing.T) {
	for _, s := range []string{"2026-01-01T8:00:00Z", "2026-01-01T08:00:00,5Z", "2026-01-01T08:00:00+24:00", "2026-01-01T08:00:00+05:60"} {
		if _, ok := oldParseTime(s); !ok {
			t.Errorf("time.Parse refused %q", s)
		}
		if _, ok := parseTime(s); ok {
			t.Errorf("parseTime accepted %q", s)
		}
	}
	for _, s := range []string{"Sun, 06 Nov 1994 08:49:37.5 GMT", "Sun Nov  6 08:49:37,5 1994", "Sunday, 06-Nov-+4 08:49:37 GMT", "Sunday, 06-Nov--4 08:49:37 GMT"} {
		if _, ok := oldParseHTTPDate(s); !ok {
			t.Errorf("time.Parse refused %q", s)
		}
		if _, ok := parseHTTPDate(s); ok {
			t.Errorf("parseHTTPDate accepted %q", s)
		}
	}
}
