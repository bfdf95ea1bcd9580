package flow

import "strings"

// The engine reads and writes its few timestamps by hand, so that the plugin
// does not link the time package's layout parser and formatter (about
// 140 KB of the module). dates_test.go holds each function here to the
// time.Parse or time.Time.Format call it replaced.
//
// Dates are proleptic Gregorian with a year 0 (1 BC), as in the time
// package; days are counted from 1970-01-01.

const msPerDay = 24 * 60 * 60 * 1000

// floorDiv is a divided by b (b > 0) rounded toward minus infinity, with the
// remainder that goes with it (0 <= r < b).
func floorDiv(a, b int64) (q, r int64) {
	q, r = a/b, a%b
	if r < 0 {
		q, r = q-1, r+b
	}
	return q, r
}

// civil is the date of day number days (days since 1970-01-01), by Howard
// Hinnant's civil_from_days: years counted from March, so that February's
// leap day ends each year, in 400-year eras of 146,097 days. 719,468 days
// separate 0000-03-01, where era 0 begins, from 1970-01-01.
func civil(days int64) (year, month, day int64) {
	era, doe := floorDiv(days+719468, 146097)              // day of era, 0..146096
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // year of era, 0..399
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // day of the March year, 0..365
	mp := (5*doy + 2) / 153                                // month from March, 0..11
	day = doy - (153*mp+2)/5 + 1
	month = mp + 3
	if month > 12 {
		month -= 12
	}
	year = era*400 + yoe
	if month <= 2 {
		year++
	}
	return year, month, day
}

// dayNumber is civil's inverse: the day number of a date (days_from_civil).
func dayNumber(year, month, day int64) int64 {
	if month <= 2 {
		year--
	}
	era, yoe := floorDiv(year, 400)
	mp := (month + 9) % 12 // month from March
	doy := (153*mp+2)/5 + day - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// daysIn is the number of days in a month of a year.
func daysIn(month, year int64) int64 {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// formatTime writes the instant ms (Unix milliseconds) as JavaScript's
// Date.toISOString does and octokit stores expiresAt:
// 2006-01-02T15:04:05.000Z, always UTC, always three fraction digits. It
// writes what time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
// wrote for every int64, not only for the years 0 to 9999: the instant is
// a Date header's or the host's clock plus an expires_in, and a host may
// answer any int64 for its clock. A year beyond 9999 is written with all
// its digits, and a year before 0 as a minus sign and at least four
// digits, as time.Format wrote them.
func formatTime(ms int64) string {
	days, msOfDay := floorDiv(ms, msPerDay)
	year, month, day := civil(days)
	b := make([]byte, 0, len("-292277026-01-01T00:00:00.000Z"))
	if year < 0 {
		b = append(b, '-')
		year = -year
	}
	b = appendPadded(b, year, 4)
	b = append(b, '-')
	b = appendPadded(b, month, 2)
	b = append(b, '-')
	b = appendPadded(b, day, 2)
	b = append(b, 'T')
	b = appendPadded(b, msOfDay/3600000, 2)
	b = append(b, ':')
	b = appendPadded(b, msOfDay/60000%60, 2)
	b = append(b, ':')
	b = appendPadded(b, msOfDay/1000%60, 2)
	b = append(b, '.')
	b = appendPadded(b, msOfDay%1000, 3)
	return string(append(b, 'Z'))
}

// appendPadded appends the decimal digits of n (n >= 0), with leading
// zeros to at least width digits (width >= 1).
func appendPadded(b []byte, n int64, width int) []byte {
	var d [20]byte
	i := len(d)
	for n > 0 || len(d)-i < width {
		i--
		d[i] = byte('0' + n%10)
		n /= 10
	}
	return append(b, d[i:]...)
}

// decimalAt is the number written by the n decimal digits at s[i:]; ok is
// false when s is too short or one of them is not a digit.
func decimalAt(s string, i, n int) (v int64, ok bool) {
	if i+n > len(s) {
		return 0, false
	}
	for _, c := range []byte(s[i : i+n]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

// parseTime reads an RFC 3339 date-time (a stored expiresAt) as Unix
// milliseconds, truncating finer fractions as time.Time.UnixMilli does.
// Everything it accepts, time.Parse(time.RFC3339Nano, s) accepted with the
// same instant; it is stricter than time.Parse, which also took these forms
// that RFC 3339 does not allow and nothing this project stores has (every
// writer uses Date.toISOString's form, formatTime's):
//   - a one-digit hour (2026-01-01T8:00:00Z);
//   - a comma before the fraction (2026-01-01T08:00:00,5Z);
//   - an offset hour of 24 or an offset minute of 60 (+24:00, +05:60).
//
// Where RFC 3339 allows more than time.Parse did, it is refused here too:
// a lower-case "t" or "z" (section 5.6: "NOTE: Per [ABNF] and ISO8601, the
// "T" and "Z" characters in this syntax may alternatively be lower case
// "t" or "z" respectively.") and a leap second (23:59:60), which
// time.Parse rejects as out of range. A fraction of any length is read,
// as both RFC 3339 and time.Parse allow.
func parseTime(s string) (int64, bool) {
	// RFC 3339 section 5.6:
	//   date-time       = full-date "T" full-time
	//   full-date       = date-fullyear "-" date-month "-" date-mday
	//   date-fullyear   = 4DIGIT
	//   date-month      = 2DIGIT  ; 01-12
	//   date-mday       = 2DIGIT  ; 01-28, 01-29, 01-30, 01-31 based on
	//                             ; month/year
	//   full-time       = partial-time time-offset
	//   partial-time    = time-hour ":" time-minute ":" time-second
	//                     [time-secfrac]
	//   time-hour       = 2DIGIT  ; 00-23
	//   time-minute     = 2DIGIT  ; 00-59
	//   time-second     = 2DIGIT  ; 00-58, 00-59, 00-60 based on leap second
	//                             ; rules
	const prefix = len("2006-01-02T15:04:05")
	if len(s) < prefix {
		return 0, false
	}
	year, ok1 := decimalAt(s, 0, 4)
	month, ok2 := decimalAt(s, 5, 2)
	day, ok3 := decimalAt(s, 8, 2)
	hour, ok4 := decimalAt(s, 11, 2)
	minute, ok5 := decimalAt(s, 14, 2)
	sec, ok6 := decimalAt(s, 17, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return 0, false
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return 0, false
	}
	rest := s[prefix:]

	//   time-secfrac    = "." 1*DIGIT
	var frac int64 // milliseconds: the first three digits
	if rest != "" && rest[0] == '.' {
		n := 1
		for ; n < len(rest) && rest[n] >= '0' && rest[n] <= '9'; n++ {
			if n <= 3 {
				frac = frac*10 + int64(rest[n]-'0')
			}
		}
		if n == 1 {
			return 0, false
		}
		for d := n - 1; d < 3; d++ {
			frac *= 10
		}
		rest = rest[n:]
	}

	//   time-offset     = "Z" / time-numoffset
	//   time-numoffset  = ("+" / "-") time-hour ":" time-minute
	var offset int64 // minutes east of UTC
	if rest != "Z" {
		oh, ok1 := decimalAt(rest, 1, 2)
		om, ok2 := decimalAt(rest, 4, 2)
		if len(rest) != len("+07:00") || !ok1 || !ok2 || rest[3] != ':' || oh > 23 || om > 59 {
			return 0, false
		}
		switch rest[0] {
		case '+':
			offset = oh*60 + om
		case '-':
			offset = -(oh*60 + om)
		default:
			return 0, false
		}
	}
	minutes := (dayNumber(year, month, day)*24+hour)*60 + minute - offset
	return (minutes*60+sec)*1000 + frac, true
}

// parseHTTPDate reads a Date header as Unix milliseconds. RFC 9110 section
// 5.6.7: "A recipient that parses a timestamp value in an HTTP field MUST
// accept all three HTTP-date formats."
//
//	IMF-fixdate  = day-name "," SP date1 SP time-of-day SP GMT
//	rfc850-date  = day-name-l "," SP date2 SP time-of-day SP GMT
//	asctime-date = day-name SP date3 SP time-of-day SP year
//
// It reads what time.Parse read with the layouts it replaced (see
// httpDateLayouts in dates_test.go), which is more lenient than the grammar
// in ways the section invites ("Recipients of timestamp values are
// encouraged to be robust in parsing timestamps"): surrounding white space
// is trimmed; each SP may be a run of spaces; the day may have one digit
// in every form, and so may the hour; day and month names are matched
// without regard to case, though "HTTP-date is case sensitive"; the day
// name is not checked against the date. Two forms time.Parse also took are
// refused, being no HTTP-date at all: a fraction after the seconds
// (08:49:37.5 GMT) and a two-digit year written as a sign and one digit
// (06-Nov-+4).
func parseHTTPDate(s string) (int64, bool) {
	r := dateReader{s: strings.TrimSpace(s), ok: true}
	//   day-name     = %s"Mon" / %s"Tue" / %s"Wed"
	//                / %s"Thu" / %s"Fri" / %s"Sat" / %s"Sun"
	//   day-name-l   = %s"Monday" / %s"Tuesday" / %s"Wednesday"
	//                / %s"Thursday" / %s"Friday" / %s"Saturday"
	//                / %s"Sunday"
	wd := r.name(dayNames)
	var year, month, day int64
	asctime := false
	switch {
	case !r.ok:
		return 0, false
	case r.peek(','):
		//   date1        = day SP month SP year
		//                ; e.g., 02 Jun 1982
		r.lit(',')
		r.spaces()
		day = r.num(1, 2)
		r.spaces()
		month = r.name(monthNames)
		r.spaces()
		year = r.num(4, 4)
	case r.peek(' '):
		//   date3        = month SP ( 2DIGIT / ( SP DIGIT ))
		//                ; e.g., Jun  2
		asctime = true
		r.spaces()
		month = r.name(monthNames)
		r.spaces()
		day = r.num(1, 2)
	default:
		//   date2        = day "-" month "-" 2DIGIT
		//                ; e.g., 02-Jun-82
		r.longDay(wd)
		r.lit(',')
		r.spaces()
		day = r.num(1, 2)
		r.lit('-')
		month = r.name(monthNames)
		r.lit('-')
		// "Recipients of a timestamp value in rfc850-date format, which
		// uses a two-digit year, MUST interpret a timestamp that appears
		// to be more than 50 years in the future as representing the
		// most recent year in the past that had the same last two
		// digits." The engine has no calendar of its own to slide that
		// window with; it keeps time.Parse's fixed one, 69-99 as 19xx
		// and 00-68 as 20xx, which is that rule read in 2018.
		year = r.num(2, 2)
		if year >= 69 {
			year += 1900
		} else {
			year += 2000
		}
	}
	//   time-of-day  = hour ":" minute ":" second
	//                ; 00:00:00 - 23:59:60 (leap second)
	r.spaces()
	hour := r.num(1, 2)
	r.lit(':')
	minute := r.num(2, 2)
	r.lit(':')
	sec := r.num(2, 2)
	r.spaces()
	if asctime { // asctime-date: ... SP year
		year = r.num(4, 4)
	} else { // GMT = %s"GMT"
		r.lit('G')
		r.lit('M')
		r.lit('T')
	}
	// time.Parse refused a leap second, and so does this.
	if !r.ok || r.s != "" || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return 0, false
	}
	return ((dayNumber(year, month, day)*24+hour)*60+minute)*60000 + sec*1000, true
}

// dayNames and monthNames are three-letter names, in order: dayNames from
// Sunday (as time.Weekday counts), monthNames from January.
const (
	dayNames   = "SunMonTueWedThuFriSat"
	monthNames = "JanFebMarAprMayJunJulAugSepOctNovDec"
)

// longDayNames are the rest of each day's full name after its first three
// letters, in dayNames' order.
var longDayNames = [7]string{"day", "day", "sday", "nesday", "rsday", "day", "urday"}

// dateReader reads an HTTP-date from the front of s; the first mismatch
// sets ok to false, and every later read then does nothing.
type dateReader struct {
	s  string
	ok bool
}

// peek says whether the next byte is c.
func (r *dateReader) peek(c byte) bool { return r.ok && r.s != "" && r.s[0] == c }

// lit reads the byte c.
func (r *dateReader) lit(c byte) {
	if !r.peek(c) {
		r.ok = false
		return
	}
	r.s = r.s[1:]
}

// spaces reads one space or more: each SP of the grammar.
func (r *dateReader) spaces() {
	r.lit(' ')
	for r.peek(' ') {
		r.s = r.s[1:]
	}
}

// num reads min to max decimal digits, as many as there are.
func (r *dateReader) num(min, max int) int64 {
	var v int64
	n := 0
	for ; n < max && r.ok && n < len(r.s) && r.s[n] >= '0' && r.s[n] <= '9'; n++ {
		v = v*10 + int64(r.s[n]-'0')
	}
	if n < min {
		r.ok = false
		return 0
	}
	if r.ok {
		r.s = r.s[n:]
	}
	return v
}

// name reads one of the three-letter names in names, ignoring ASCII case,
// and answers its number from 1.
func (r *dateReader) name(names string) int64 {
	if r.ok && len(r.s) >= 3 {
		for i := 0; i < len(names); i += 3 {
			if equalFoldASCII(r.s[:3], names[i:i+3]) {
				r.s = r.s[3:]
				return int64(i/3 + 1)
			}
		}
	}
	r.ok = false
	return 0
}

// longDay reads the rest of day wd's full name (wd numbered from 1 as name
// answers it), ignoring ASCII case.
func (r *dateReader) longDay(wd int64) {
	if !r.ok {
		return
	}
	rest := longDayNames[wd-1]
	if len(r.s) < len(rest) || !equalFoldASCII(r.s[:len(rest)], rest) {
		r.ok = false
		return
	}
	r.s = r.s[len(rest):]
}

// equalFoldASCII says whether a and b (of one length, b all letters) are
// the same letters, ignoring ASCII case only.
func equalFoldASCII(a, b string) bool {
	for i := 0; i < len(a); i++ {
		if a[i]|0x20 != b[i]|0x20 {
			return false
		}
	}
	return true
}
