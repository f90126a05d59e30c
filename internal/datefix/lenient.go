package datefix

import (
	"strings"
	"time"
)

// ParseLenient parses a date string the way an experienced mail admin would
// read it: everything Str2Time accepts, plus RFC 5322 including the obsolete
// forms (2- and 3-digit years, comments, missing seconds, "UT"), zone
// abbreviations Time::Zone does not know (IST, SGT, PHT, WIB, HKST, NZST, …;
// see extraZones), stray words and trailing garbage such as "remote from bar"
// or "(envelope-from x) id 123". A zone named only in a comment ("... 01:05
// (JST)") is used when there is no other zone. ok is false if s holds no
// date. A nil loc means UTC.
//
// The text form (a month name plus day and year) is tried first; what it
// cannot read goes to Str2Time (ISO 8601, numeric and year-less dates).
func ParseLenient(s string, now time.Time, loc *time.Location) (time.Time, bool) {
	if loc == nil {
		loc = time.UTC
	}
	if len(s) > 512 {
		s = s[:512]
	}
	s = strings.ReplaceAll(s, "&#43;", "+")
	if t, ok := lenientText(s, loc); ok {
		return t, true
	}
	// Str2Time does not like control characters or text after the date;
	// keep the part before the first one.
	clean := strings.Map(func(r rune) rune {
		if r < ' ' && r != '\t' {
			return ' '
		}
		return r
	}, s)
	return Str2Time(clean, now, loc)
}

// extraZones are well-known abbreviations missing from Time::Zone 2.24, in
// seconds east of UTC. Names Time::Zone knows keep its offsets.
var extraZones = map[string]int{
	"ist": 5*3600 + 1800, "sgt": 8 * 3600, "pht": 8 * 3600, "pst8pdt": -8 * 3600,
	"wib": 7 * 3600, "wita": 8 * 3600, "wit": 9 * 3600, "hkst": 9 * 3600,
	"nst": -(3*3600 + 1800), "ndt": -(2*3600 + 1800), "cast": 9*3600 + 1800,
	"acst": 9*3600 + 1800, "acdt": 10*3600 + 1800, "awst": 8 * 3600, "ict": 7 * 3600,
	"pkt": 5 * 3600, "eat": 3 * 3600, "sast": 2 * 3600, "west": 3600,
	"mesz": 2 * 3600, "art": -3 * 3600, "clt": -4 * 3600, "cot": -5 * 3600,
	"pet": -5 * 3600, "vet": -4 * 3600, "bdt": 6 * 3600, "npt": 5*3600 + 2700,
	"mmt": 6*3600 + 1800, "myt": 8 * 3600, "chst": 10 * 3600, "trt": 3 * 3600,
	"irst": 3*3600 + 1800, "aft": 4*3600 + 1800, "jdt": 10 * 3600, "wetdst": 3600,
	"nzdt": 13 * 3600, "nzst": 12 * 3600, "utc": 0, "gmt": 0, "ut": 0, "z": 0,
}

func lenientZone(name string) (int, bool) {
	if off, ok := zoneNames[name]; ok {
		return int(off), true
	}
	off, ok := extraZones[name]
	return off, ok
}

var fullMonths = [12]string{"january", "february", "march", "april", "may", "june", "july",
	"august", "september", "october", "november", "december"}

var fullDays = [7]string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

// monthWord recognises a month name: at least its first three letters
// (a prefix of the full name), or "sept".
func monthWord(w string) (int, bool) {
	if len(w) < 3 {
		return 0, false
	}
	for i, m := range fullMonths {
		if strings.HasPrefix(m, w) {
			return i, true
		}
	}
	if w == "sept" {
		return 8, true
	}
	return 0, false
}

func dayWord(w string) bool {
	if len(w) < 3 {
		return false
	}
	for _, d := range fullDays {
		if strings.HasPrefix(d, w) {
			return true
		}
	}
	return w == "tues" || w == "thur" || w == "thurs" || w == "wednes"
}

type lenientState struct {
	year, month, day     int
	hour, min, sec, nsec int
	zone                 int
	haveYear, haveMonth  bool
	haveDay, haveTime    bool
	haveZone             bool
	commentZone          int
	haveCommentZone      bool
	yearDigits           int
	merid                byte
	afterMonth           bool // the previous token was the month name
}

// lenientText reads dates written with a month name: RFC 5322 and its
// obsolete forms, asctime (From_ lines), and the variants seen in real mail.
func lenientText(in string, loc *time.Location) (time.Time, bool) {
	s := strings.ToLower(in)
	var st lenientState
	depth := 0
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == '(':
			depth++
			i++
		case c == ')':
			if depth > 0 {
				depth--
			}
			i++
		case isLower(c):
			j := i
			for j < len(s) && (isLower(s[j]) || s[j] == '.' && j+1 < len(s) && isLower(s[j+1])) {
				j++
			}
			w := s[i:j]
			i = j
			if depth > 0 {
				if off, ok := lenientZone(w); ok && !st.haveCommentZone {
					st.commentZone, st.haveCommentZone = off, true
				}
				continue
			}
			prev := st.afterMonth
			st.afterMonth = false
			st.word(w, s, &i, prev)
		case isDigit(c):
			j := skipDigitsStr(s, i)
			if depth > 0 {
				i = j
				continue
			}
			prev := st.afterMonth
			st.afterMonth = false
			st.number(s, i, j, &i, prev)
		case (c == '+' || c == '-') && depth == 0 && st.haveTime && !st.haveZone && i+1 < len(s) && isDigit(s[i+1]):
			if off, n, ok := numericZone(s[i:]); ok {
				st.zone, st.haveZone = off, true
				i += n
			} else {
				i = skipDigitsStr(s, i+1)
			}
		case (c == '+' || c == '-' && i > 0 && isSpace(s[i-1])) && i+1 < len(s) && isDigit(s[i+1]):
			// a signed number that is not a zone here is never a date part
			i = skipDigitsStr(s, i+1)
		default:
			i++
		}
		if st.complete() {
			break
		}
	}
	if !st.haveYear || !st.haveMonth || !st.haveDay {
		return time.Time{}, false
	}
	year := st.year
	switch {
	case st.yearDigits <= 2 && year < 50:
		year += 2000
	case st.yearDigits <= 2:
		year += 1900
	case st.yearDigits == 3:
		year += 1900
	}
	md := int(monthDays[st.month])
	if st.month == 1 && isLeap(int64(year)) {
		md++
	}
	hour := st.hour
	if st.merid == 'p' && hour < 12 {
		hour += 12
	} else if st.merid == 'a' && hour == 12 {
		hour = 0
	}
	sec := st.sec
	if sec == 60 {
		sec = 59
	}
	if st.day < 1 || st.day > md || hour > 23 || st.min > 59 || sec > 59 {
		return time.Time{}, false
	}
	wall := civilDays(int64(year), int64(st.month), int64(st.day))*86400 + int64(hour)*3600 + int64(st.min)*60 + int64(sec)
	var ts int64
	switch {
	case st.haveZone:
		ts = wall - int64(st.zone)
	case st.haveCommentZone:
		ts = wall - int64(st.commentZone)
	default:
		ts = localToUTC(wall, loc)
	}
	return time.Unix(ts, int64(st.nsec)), true
}

func (st *lenientState) complete() bool {
	return st.haveYear && st.haveMonth && st.haveDay && st.haveTime && st.haveZone
}

func skipDigitsStr(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

func (st *lenientState) word(w, s string, pos *int, _ bool) {
	clean := strings.ReplaceAll(w, ".", "")
	switch {
	case st.haveTime && st.merid == 0 && (clean == "am" || clean == "pm" || clean == "a" || clean == "p"):
		st.merid = clean[0]
		return
	case !st.haveMonth:
		if m, ok := monthWord(clean); ok {
			st.month, st.haveMonth, st.afterMonth = m, true, true
			return
		}
	}
	if dayWord(clean) {
		return
	}
	if st.haveZone || !(st.haveTime || st.haveYear) {
		return
	}
	// a zone name, possibly glued to an offset: "gmt+0100", "ist+530", "utc-5"
	if off, ok := lenientZone(clean); ok {
		p := *pos
		if p < len(s) && (s[p] == '+' || s[p] == '-') {
			if num, n, ok := numericZone(s[p:]); ok {
				// "gmt+0100" counts from UTC; "ist+530" restates the
				// name's offset and "met-1" is POSIX TZ notation for it, so
				// a named zone keeps its own offset
				if off == 0 {
					off = num
				}
				*pos = p + n
			}
		}
		st.zone, st.haveZone = off, true
	}
}

// numericZone reads +hhmm, +hh:mm, +hh or +h at the start of s and returns
// the offset in seconds and the bytes used.
func numericZone(s string) (int, int, bool) {
	if len(s) < 2 || (s[0] != '+' && s[0] != '-') {
		return 0, 0, false
	}
	sign := 1
	if s[0] == '-' {
		sign = -1
	}
	j := skipDigitsStr(s, 1)
	d := s[1:j]
	var h, m int
	switch len(d) {
	case 1, 2:
		h = atoiSmall(d)
		if j+2 < len(s) && s[j] == ':' && isDigit(s[j+1]) && isDigit(s[j+2]) {
			m = atoiSmall(s[j+1 : j+3])
			j += 3
		}
	case 3:
		h, m = atoiSmall(d[:1]), atoiSmall(d[1:])
	case 4:
		h, m = atoiSmall(d[:2]), atoiSmall(d[2:])
	default:
		return 0, 0, false
	}
	if h > 14 || m > 59 {
		return 0, 0, false
	}
	return sign * (h*3600 + m*60), j, true
}

func atoiSmall(s string) int {
	v := 0
	for i := 0; i < len(s); i++ {
		v = v*10 + int(s[i]-'0')
	}
	return v
}

func (st *lenientState) number(s string, i, j int, pos *int, afterMonth bool) {
	d := s[i:j]
	*pos = j
	// a time: h:mm[:ss[.frac]]
	if j < len(s) && s[j] == ':' && !st.haveTime && len(d) <= 2 && j+1 < len(s) && isDigit(s[j+1]) {
		k := skipDigitsStr(s, j+1)
		if k-(j+1) > 2 {
			return
		}
		st.hour, st.min = atoiSmall(d), atoiSmall(s[j+1:k])
		if k+1 < len(s) && s[k] == ':' && isDigit(s[k+1]) {
			e := skipDigitsStr(s, k+1)
			if e-(k+1) <= 2 {
				st.sec = atoiSmall(s[k+1 : e])
				k = e
				if k+1 < len(s) && (s[k] == '.' || s[k] == ',') && isDigit(s[k+1]) {
					e = skipDigitsStr(s, k+1)
					frac := s[k+1 : e]
					ns := 0
					for x := 0; x < 9; x++ {
						ns *= 10
						if x < len(frac) {
							ns += int(frac[x] - '0')
						}
					}
					st.nsec = ns
					k = e
				}
			}
		}
		st.haveTime = true
		*pos = k
		if k < len(s) && s[k] == 'z' && (k+1 == len(s) || !isLower(s[k+1])) && !st.haveZone {
			st.zone, st.haveZone = 0, true
			*pos = k + 1
		}
		return
	}
	// ISO date: yyyy-mm-dd
	if len(d) == 4 && j+5 < len(s) && s[j] == '-' && !st.haveYear && !st.haveMonth {
		k := skipDigitsStr(s, j+1)
		if k-(j+1) >= 1 && k-(j+1) <= 2 && k < len(s) && s[k] == '-' {
			e := skipDigitsStr(s, k+1)
			if e-(k+1) >= 1 && e-(k+1) <= 2 {
				mo := atoiSmall(s[j+1 : k])
				if mo >= 1 && mo <= 12 {
					st.year, st.yearDigits, st.haveYear = atoiSmall(d), 4, true
					st.month, st.haveMonth = mo-1, true
					st.day, st.haveDay = atoiSmall(s[k+1:e]), true
					*pos = e
					if e < len(s) && s[e] == 't' {
						*pos = e + 1
					}
					return
				}
			}
		}
	}
	if len(d) > 4 {
		return
	}
	v := atoiSmall(d)
	if j < len(s) && isLower(s[j]) {
		// "3rd", "1st": a day with a suffix
		if w := s[j:min(len(s), j+2)]; (w == "st" || w == "nd" || w == "rd" || w == "th") && !st.haveDay && len(d) <= 2 {
			st.day, st.haveDay = v, true
			*pos = j + 2
		}
		return
	}
	switch {
	case len(d) <= 2 && !st.haveDay && v >= 1 && v <= 31 && (!st.haveYear || st.haveMonth):
		st.day, st.haveDay = v, true
	case !st.haveYear && len(d) == 4 && v >= 1000:
		st.year, st.yearDigits, st.haveYear = v, len(d), true
	case !st.haveYear && (len(d) == 2 || len(d) == 3) && afterMonth && st.haveDay:
		// RFC 5322 obs-year: "3 Jan 96", "3 Jan 103"
		st.year, st.yearDigits, st.haveYear = v, len(d), true
	}
}
