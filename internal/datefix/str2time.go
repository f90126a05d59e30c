package datefix

import (
	"math"
	"strconv"
	"time"
)

// Str2Time is exactly Date::Parse 2.33 str2time(s) with no zone argument:
// zone-less input is read in loc, two-digit years and a missing
// year/month/day are relative to now (in loc), the -1 quirk applies, and a
// fraction (ISO path only) is kept as nanoseconds. ok is false where perl
// returns undef. A nil loc means UTC.
//
// One perl artefact is not reproduced: Time::Local caches day numbers under a
// 16-bit key, so in a long-running perl a year ≥ 34668 can reuse the cached
// value of a year 65536 years earlier. Str2Time has no such state.
func Str2Time(s string, now time.Time, loc *time.Location) (time.Time, bool) {
	r, ok := str2time(s, now, loc)
	if !ok {
		return time.Time{}, false
	}
	return r.Time(), true
}

// perlResult is str2time's return value: an integer (IV) or, when the ISO
// path captured a fraction, a float (NV) sec+frac.
type perlResult struct {
	sec  int64
	frac float64 // in [0,1)
	nv   bool
}

// Time converts the result, the fraction rounded to nanoseconds.
func (r perlResult) Time() time.Time {
	ns := int64(math.Round(r.frac * 1e9))
	return time.Unix(r.sec, ns)
}

// String formats the result as perl's print does (an IV exactly, an NV with
// %.15g).
func (r perlResult) String() string {
	if !r.nv {
		return strconv.FormatInt(r.sec, 10)
	}
	return formatG15(float64(r.sec) + r.frac)
}

// formatG15 formats f like C's printf("%.15g").
func formatG15(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	s := strconv.FormatFloat(f, 'e', 14, 64)
	// s is d.dddddddddddddde±XX; decide between %e and %f like %g does.
	mant, exp := s, 0
	for i := 0; i < len(s); i++ {
		if s[i] == 'e' {
			mant = s[:i]
			exp, _ = strconv.Atoi(s[i+1:])
			break
		}
	}
	if exp < -4 || exp >= 15 {
		mant = trimZeros(mant)
		es := strconv.Itoa(abs(exp))
		if len(es) < 2 {
			es = "0" + es
		}
		sign := "+"
		if exp < 0 {
			sign = "-"
		}
		return mant + "e" + sign + es
	}
	return trimZeros(strconv.FormatFloat(f, 'f', 14-exp, 64))
}

func trimZeros(s string) string {
	dot := false
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			dot = true
		}
	}
	if !dot {
		return s
	}
	for len(s) > 0 && s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	if len(s) > 0 && s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	return s
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

// pnum is a perl scalar that held a number: either a string of digits taken
// from the input (nd > 0, kept for perl's string comparison in the -1 quirk)
// or a plain number (nd == 0).
type pnum struct {
	v   int64
	nd  int
	def bool
}

// numSat stands for numbers too big to matter: every range check fails.
const numSat = int64(1) << 58

func digitsNum(b []byte) pnum {
	var v int64
	for _, c := range b {
		if v >= numSat/10 {
			v = numSat
			break
		}
		v = v*10 + int64(c-'0')
	}
	return pnum{v: v, nd: len(b), def: true}
}

func plainNum(v int64) pnum { return pnum{v: v, def: true} }

func (n pnum) String() string {
	s := strconv.FormatInt(n.v, 10)
	for len(s) < n.nd {
		s = "0" + s
	}
	return s
}

// truthy is perl's boolean value of the scalar ("0" is false, "00" is true).
func (n pnum) truthy() bool {
	if !n.def {
		return false
	}
	if n.nd > 0 {
		return !(n.nd == 1 && n.v == 0)
	}
	return n.v != 0
}

// fields is what Date::Parse's strptime returns.
type fields struct {
	ss, mm, hh, day, year pnum
	month                 int64
	monthDef              bool
	zone                  int64
	zoneDef               bool
	century               bool
	frac                  float64 // "0.$frac", when $frac was true
	hasFrac               bool
}

const (
	meridAM   = 0
	meridPM   = 12
	meridNone = 24
)

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isWord(c byte) bool {
	return isDigit(c) || isLower(c) || (c >= 'A' && c <= 'Z') || c == '_'
}

// at returns s[i], or 0 (which matches no class used here) outside s.
func at(s []byte, i int) byte {
	if i < 0 || i >= len(s) {
		return 0
	}
	return s[i]
}

func hasPrefixAt(s []byte, i int, p string) bool {
	if i < 0 || len(s)-i < len(p) {
		return false
	}
	for k := 0; k < len(p); k++ {
		if s[i+k] != p[k] {
			return false
		}
	}
	return true
}

func skipSpaces(s []byte, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

func skipDigits(s []byte, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

func skipLower(s []byte, i int) int {
	for i < len(s) && isLower(s[i]) {
		i++
	}
	return i
}

func isBoundary(s []byte, p int) bool {
	a := p > 0 && p-1 < len(s) && isWord(s[p-1])
	b := p < len(s) && isWord(s[p])
	return a != b
}

// subst replaces s[i:j] with one space (space=true) or with nothing.
func subst(s []byte, i, j int, space bool) []byte {
	k := i
	if space {
		s[i] = ' '
		k = i + 1
	}
	n := copy(s[k:], s[j:])
	return s[:k+n]
}

func hasNonSpace(s []byte) bool {
	for _, c := range s {
		if !isSpace(c) {
			return true
		}
	}
	return false
}

// Alternations in the order perl tries them (reverse sorted keys).
var dayAlts = [...]string{"wednesday", "wednes", "wed", "tuesday", "tues", "tue",
	"thursday", "thurs", "thur", "thu", "sunday", "sun", "saturday", "sat",
	"monday", "mon", "friday", "fri"}

type monAlt struct {
	name string
	mon  int64
}

var monAlts = [...]monAlt{{"september", 8}, {"sept", 8}, {"sep", 8}, {"october", 9},
	{"oct", 9}, {"november", 10}, {"nov", 10}, {"may", 4}, {"march", 2}, {"mar", 2},
	{"june", 5}, {"jun", 5}, {"july", 6}, {"jul", 6}, {"january", 0}, {"jan", 0},
	{"february", 1}, {"feb", 1}, {"december", 11}, {"dec", 11}, {"august", 7},
	{"aug", 7}, {"april", 3}, {"apr", 3}}

func isMonthStart(c byte) bool {
	switch c {
	case 's', 'o', 'n', 'm', 'j', 'f', 'd', 'a':
		return true
	}
	return false
}

// monthAt returns the first month alternative matching at s[i:], in perl's
// order (so the longest of september/sept/sep and so on).
func monthAt(s []byte, i int) (int, int64, bool) {
	if !isMonthStart(at(s, i)) {
		return 0, 0, false
	}
	for _, a := range monAlts {
		if hasPrefixAt(s, i, a.name) {
			return len(a.name), a.mon, true
		}
	}
	return 0, 0, false
}

// suffixAt matches (th|st|rd|nd) at s[i:].
func suffixAt(s []byte, i int) bool {
	if i+2 > len(s) {
		return false
	}
	a, b := s[i], s[i+1]
	return (a == 't' && b == 'h') || (a == 's' && b == 't') || (a == 'r' && b == 'd') || (a == 'n' && b == 'd')
}

// prepare does strptime's first steps: lc, removal of (comments), spaces at
// both ends and for newlines, "x, "/"x. " → "x ", commas → spaces.
func prepare(dst []byte, in string) []byte {
	var stackArr [16]int
	stack := stackArr[:0]
	dst = append(dst, ' ')
	for i := 0; i < len(in); i++ {
		c := in[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		switch {
		case c == '(':
			stack = append(stack, len(dst))
			dst = append(dst, '(')
		case c == ')' && len(stack) > 0:
			p := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			dst = append(dst[:p], ' ')
		default:
			dst = append(dst, c)
		}
	}
	dst = append(dst, ' ')
	for i, c := range dst {
		if c == '\n' {
			dst[i] = ' '
		}
	}
	// s#([\d\w\s])[\.\,]\s#$1 #g
	w := 0
	for i := 0; i < len(dst); {
		c := dst[i]
		if (isWord(c) || isSpace(c)) && i+2 < len(dst) && (dst[i+1] == '.' || dst[i+1] == ',') && isSpace(dst[i+2]) {
			dst[w] = c
			dst[w+1] = ' '
			w += 2
			i += 3
			continue
		}
		dst[w] = c
		w++
		i++
	}
	dst = dst[:w]
	for i, c := range dst {
		if c == ',' {
			dst[i] = ' '
		}
	}
	return dst
}

// findWeekday matches ($daypat)\s*(den\s)?\b.
func findWeekday(s []byte) (int, int, bool) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case 'w', 't', 's', 'm', 'f':
		default:
			continue
		}
		for _, alt := range dayAlts {
			if !hasPrefixAt(s, i, alt) {
				continue
			}
			k := i + len(alt)
			e := skipSpaces(s, k)
			for p := e; p >= k; p-- {
				if hasPrefixAt(s, p, "den") && isSpace(at(s, p+3)) && isBoundary(s, p+4) {
					return i, p + 4, true
				}
				if isBoundary(s, p) {
					return i, p, true
				}
			}
		}
	}
	return 0, 0, false
}

// twoDigits reports whether s[p] and s[p+1] are digits.
func twoDigits(s []byte, p int) bool { return isDigit(at(s, p)) && isDigit(at(s, p+1)) }

func digitOK(s []byte, p, n int) bool {
	if n == 2 {
		return twoDigits(s, p)
	}
	return isDigit(at(s, p))
}

type isoMatch struct {
	start, end                 int
	year, mon, day, hh, mm, ss pnum
	fracStart, fracEnd         int
}

// findISO matches
// \s(\d{4})([-:]?)(\d\d?)\2(\d\d?)(?:[-Tt ](\d\d?)(?:([-:]?)(\d\d?)(?:\6(\d\d?)(?:[.,](\d+))?)?)?)?(?=\D)
func findISO(s []byte) (isoMatch, bool) {
	var m isoMatch
	notDigitAt := func(p int) bool { return p < len(s) && !isDigit(s[p]) }
	for i := 0; i+5 <= len(s); i++ {
		if !isSpace(s[i]) || !isDigit(s[i+1]) || !isDigit(at(s, i+2)) || !isDigit(at(s, i+3)) || !isDigit(at(s, i+4)) {
			continue
		}
		q := i + 5
		for sl := 1; sl >= 0; sl-- {
			var sep byte
			if sl == 1 {
				sep = at(s, q)
				if sep != '-' && sep != ':' {
					continue
				}
			}
			q1 := q + sl
			for ml := 2; ml >= 1; ml-- {
				if !digitOK(s, q1, ml) {
					continue
				}
				r := q1 + ml
				if sl == 1 {
					if at(s, r) != sep {
						continue
					}
					r++
				}
				for dl := 2; dl >= 1; dl-- {
					if !digitOK(s, r, dl) {
						continue
					}
					r3 := r + dl
					m = isoMatch{start: i, year: digitsNum(s[i+1 : i+5]), mon: digitsNum(s[q1 : q1+ml]), day: digitsNum(s[r : r+dl])}
					// optional time group
					if c := at(s, r3); c == '-' || c == 't' || c == 'T' || c == ' ' {
						if end, ok := isoTime(s, r3+1, &m, notDigitAt); ok {
							m.end = end
							return m, true
						}
					}
					if notDigitAt(r3) {
						m.end = r3
						return m, true
					}
				}
			}
		}
	}
	return m, false
}

func isoTime(s []byte, p int, m *isoMatch, notDigitAt func(int) bool) (int, bool) {
	for hl := 2; hl >= 1; hl-- {
		if !digitOK(s, p, hl) {
			continue
		}
		m.hh = digitsNum(s[p : p+hl])
		p4 := p + hl
		// minute group
		for sl := 1; sl >= 0; sl-- {
			var sep byte
			if sl == 1 {
				sep = at(s, p4)
				if sep != '-' && sep != ':' {
					continue
				}
			}
			p5 := p4 + sl
			for ml := 2; ml >= 1; ml-- {
				if !digitOK(s, p5, ml) {
					continue
				}
				p6 := p5 + ml
				m.mm = digitsNum(s[p5:p6])
				// second group: \6(\d\d?)
				p7 := p6
				secOK := true
				if sl == 1 {
					if at(s, p6) != sep {
						secOK = false
					}
					p7++
				}
				if secOK {
					for xl := 2; xl >= 1; xl-- {
						if !digitOK(s, p7, xl) {
							continue
						}
						p8 := p7 + xl
						m.ss = digitsNum(s[p7:p8])
						if c := at(s, p8); (c == '.' || c == ',') && isDigit(at(s, p8+1)) {
							p9 := skipDigits(s, p8+1)
							if notDigitAt(p9) {
								m.fracStart, m.fracEnd = p8+1, p9
								return p9, true
							}
						}
						if notDigitAt(p8) {
							return p8, true
						}
					}
					m.ss = pnum{}
				}
				if notDigitAt(p6) {
					return p6, true
				}
			}
			m.mm = pnum{}
		}
		if notDigitAt(p4) {
			return p4, true
		}
	}
	m.hh = pnum{}
	return 0, false
}

// ampmTail matches \.?m?\.?\s after [ap] at s[t:].
func ampmTail(s []byte, t int) (int, bool) {
	for d1 := 1; d1 >= 0; d1-- {
		if d1 == 1 && at(s, t) != '.' {
			continue
		}
		u := t + d1
		for mm := 1; mm >= 0; mm-- {
			if mm == 1 && at(s, u) != 'm' {
				continue
			}
			v := u + mm
			for d2 := 1; d2 >= 0; d2-- {
				if d2 == 1 && at(s, v) != '.' {
					continue
				}
				w := v + d2
				if isSpace(at(s, w)) {
					return w + 1, true
				}
			}
		}
	}
	return 0, false
}

func meridOf(c byte) int {
	if c == 'p' {
		return meridPM
	}
	return meridAM
}

type timeMatch struct {
	start, end int
	hh, mm, ss pnum
	z          bool
	merid      int
}

// findTime1 matches
// [:\s](\d\d?):(\d\d?)(:(\d\d?)(?:\.\d+)?)?(z)?\s*(?:([ap])\.?m?\.?)?\s
func findTime1(s []byte) (timeMatch, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] != ':' && !isSpace(s[i]) || !isDigit(at(s, i+1)) {
			continue
		}
		for hl := 2; hl >= 1; hl-- {
			if !digitOK(s, i+1, hl) {
				continue
			}
			p := i + 1 + hl
			if at(s, p) != ':' {
				continue
			}
			p++
			for ml := 2; ml >= 1; ml-- {
				if !digitOK(s, p, ml) {
					continue
				}
				q := p + ml
				tm := timeMatch{start: i, hh: digitsNum(s[i+1 : i+1+hl]), mm: digitsNum(s[p:q])}
				if at(s, q) == ':' {
					for sl := 2; sl >= 1; sl-- {
						if !digitOK(s, q+1, sl) {
							continue
						}
						r := q + 1 + sl
						tm.ss = digitsNum(s[q+1 : r])
						if at(s, r) == '.' && isDigit(at(s, r+1)) {
							if time1Tail(s, skipDigits(s, r+1), &tm) {
								return tm, true
							}
						}
						if time1Tail(s, r, &tm) {
							return tm, true
						}
					}
					tm.ss = pnum{}
				}
				if time1Tail(s, q, &tm) {
					return tm, true
				}
			}
		}
	}
	return timeMatch{}, false
}

// time1Tail matches (z)?\s*(?:([ap])\.?m?\.?)?\s at s[k:].
func time1Tail(s []byte, k int, tm *timeMatch) bool {
	for zi := 1; zi >= 0; zi-- {
		zk := k
		if zi == 1 {
			if at(s, k) != 'z' {
				continue
			}
			zk++
		}
		e := skipSpaces(s, zk)
		for sp := e; sp >= zk; sp-- {
			if c := at(s, sp); c == 'a' || c == 'p' {
				if end, ok := ampmTail(s, sp+1); ok {
					tm.end, tm.z, tm.merid = end, zi == 1, meridOf(c)
					return true
				}
			}
			if isSpace(at(s, sp)) {
				tm.end, tm.z, tm.merid = sp+1, zi == 1, meridNone
				return true
			}
		}
	}
	return false
}

// findTime2 matches \s(\d\d?)\s*([ap])\.?m?\.?\s
func findTime2(s []byte) (timeMatch, bool) {
	for i := 0; i < len(s); i++ {
		if !isSpace(s[i]) || !isDigit(at(s, i+1)) {
			continue
		}
		for hl := 2; hl >= 1; hl-- {
			if !digitOK(s, i+1, hl) {
				continue
			}
			p := i + 1 + hl
			e := skipSpaces(s, p)
			for sp := e; sp >= p; sp-- {
				if c := at(s, sp); c == 'a' || c == 'p' {
					if end, ok := ampmTail(s, sp+1); ok {
						return timeMatch{start: i, end: end, hh: digitsNum(s[i+1 : p]), merid: meridOf(c)}, true
					}
				}
			}
		}
	}
	return timeMatch{}, false
}

// findAMPM matches " ([ap])\.?m?\.?\s".
func findAMPM(s []byte) (int, int, int, bool) {
	for i := 0; i+1 < len(s); i++ {
		if s[i] != ' ' || (s[i+1] != 'a' && s[i+1] != 'p') {
			continue
		}
		if end, ok := ampmTail(s, i+2); ok {
			return i, end, meridOf(s[i+1]), true
		}
	}
	return 0, 0, 0, false
}

type dateMatch struct {
	start, end int
	day, year  pnum
	a          pnum // D2: first number
	month      int64
	yearSet    bool
	kind       int
}

// findDate runs the if/elsif chain of date forms; the first form that
// matches anywhere wins.
func findDate(s []byte) (dateMatch, bool) {
	if m, ok := findD1(s); ok {
		return m, true
	}
	if m, ok := findD2(s); ok {
		return m, true
	}
	if m, ok := findD3(s); ok {
		return m, true
	}
	if m, ok := findD4(s); ok {
		return m, true
	}
	if m, ok := findD5(s); ok {
		return m, true
	}
	return findD6(s)
}

// \s(\d\d?)([\-\./])($monpat)(\2(\d\d+))?\s
func findD1(s []byte) (dateMatch, bool) {
	for i := 0; i < len(s); i++ {
		if !isSpace(s[i]) || !isDigit(at(s, i+1)) {
			continue
		}
		for hl := 2; hl >= 1; hl-- {
			if !digitOK(s, i+1, hl) {
				continue
			}
			p := i + 1 + hl
			sep := at(s, p)
			if sep != '-' && sep != '.' && sep != '/' {
				continue
			}
			q := p + 1
			if !isMonthStart(at(s, q)) {
				continue
			}
			for _, a := range monAlts {
				if !hasPrefixAt(s, q, a.name) {
					continue
				}
				r := q + len(a.name)
				m := dateMatch{start: i, day: digitsNum(s[i+1 : p]), month: a.mon, kind: 1}
				if at(s, r) == sep && twoDigits(s, r+1) {
					r2 := skipDigits(s, r+1)
					if isSpace(at(s, r2)) {
						m.end = r2 + 1
						m.year = digitsNum(s[r+1 : r2])
						m.yearSet = true
						return m, true
					}
				}
				if isSpace(at(s, r)) {
					m.end = r + 1
					return m, true
				}
			}
		}
	}
	return dateMatch{}, false
}

// \s(\d+)([\-\./])(\d\d?)(\2(\d+))?\s
func findD2(s []byte) (dateMatch, bool) {
	for i := 0; i < len(s); i++ {
		if !isSpace(s[i]) || !isDigit(at(s, i+1)) {
			continue
		}
		p := skipDigits(s, i+1)
		sep := at(s, p)
		if sep != '-' && sep != '.' && sep != '/' {
			continue
		}
		q := p + 1
		for dl := 2; dl >= 1; dl-- {
			if !digitOK(s, q, dl) {
				continue
			}
			r := q + dl
			m := dateMatch{start: i, a: digitsNum(s[i+1 : p]), day: digitsNum(s[q:r]), kind: 2}
			if at(s, r) == sep && isDigit(at(s, r+1)) {
				r2 := skipDigits(s, r+1)
				if isSpace(at(s, r2)) {
					m.end = r2 + 1
					m.year = digitsNum(s[r+1 : r2])
					return m, true
				}
			}
			if isSpace(at(s, r)) {
				m.end = r + 1
				return m, true
			}
		}
	}
	return dateMatch{}, false
}

// \s(\d+)\s*($sufpat)?\s*($monpat)
func findD3(s []byte) (dateMatch, bool) {
	for i := 0; i < len(s); i++ {
		if !isSpace(s[i]) || !isDigit(at(s, i+1)) {
			continue
		}
		p := skipDigits(s, i+1)
		e1 := skipSpaces(s, p)
		if suffixAt(s, e1) {
			e2 := skipSpaces(s, e1+2)
			if n, mon, ok := monthAt(s, e2); ok {
				return dateMatch{start: i, end: e2 + n, day: digitsNum(s[i+1 : p]), month: mon, kind: 3}, true
			}
		}
		if n, mon, ok := monthAt(s, e1); ok {
			return dateMatch{start: i, end: e1 + n, day: digitsNum(s[i+1 : p]), month: mon, kind: 3}, true
		}
	}
	return dateMatch{}, false
}

// ($monpat)\s*(\d+)\s*($sufpat)?\s
func findD4(s []byte) (dateMatch, bool) {
	for i := 0; i < len(s); i++ {
		if !isMonthStart(s[i]) {
			continue
		}
		for _, a := range monAlts {
			if !hasPrefixAt(s, i, a.name) {
				continue
			}
			e1 := skipSpaces(s, i+len(a.name))
			if !isDigit(at(s, e1)) {
				continue
			}
			e2 := skipDigits(s, e1)
			e3 := skipSpaces(s, e2)
			m := dateMatch{start: i, day: digitsNum(s[e1:e2]), month: a.mon, kind: 4}
			if suffixAt(s, e3) && isSpace(at(s, e3+2)) {
				m.end = e3 + 3
				return m, true
			}
			if e3 > e2 {
				m.end = e3
				return m, true
			}
		}
	}
	return dateMatch{}, false
}

// ($monpat)([\/-])(\d+)[\/-]
func findD5(s []byte) (dateMatch, bool) {
	for i := 0; i < len(s); i++ {
		if !isMonthStart(s[i]) {
			continue
		}
		for _, a := range monAlts {
			if !hasPrefixAt(s, i, a.name) {
				continue
			}
			p := i + len(a.name)
			if c := at(s, p); (c != '/' && c != '-') || !isDigit(at(s, p+1)) {
				continue
			}
			q := skipDigits(s, p+1)
			if c := at(s, q); c == '/' || c == '-' {
				return dateMatch{start: i, end: q + 1, day: digitsNum(s[p+1 : q]), month: a.mon, kind: 5}, true
			}
		}
	}
	return dateMatch{}, false
}

// \s(\d\d)(\d\d)(\d\d)\s
func findD6(s []byte) (dateMatch, bool) {
	for i := 0; i+7 < len(s); i++ {
		if isSpace(s[i]) && twoDigits(s, i+1) && twoDigits(s, i+3) && twoDigits(s, i+5) && isSpace(s[i+7]) {
			mo := digitsNum(s[i+3 : i+5])
			return dateMatch{start: i, end: i + 8, year: digitsNum(s[i+1 : i+3]), yearSet: true,
				month: mo.v - 1, day: digitsNum(s[i+5 : i+7]), kind: 6}, true
		}
	}
	return dateMatch{}, false
}

// \s(\d{2}(\d{2})?)[\s\.,]
func findYear(s []byte) (int, int, pnum, bool) {
	isEnd := func(c byte) bool { return isSpace(c) || c == '.' || c == ',' }
	for i := 0; i < len(s); i++ {
		if !isSpace(s[i]) || !twoDigits(s, i+1) {
			continue
		}
		if twoDigits(s, i+3) && isEnd(at(s, i+5)) {
			return i, i + 6, digitsNum(s[i+1 : i+5]), true
		}
		if isEnd(at(s, i+3)) {
			return i, i + 4, digitsNum(s[i+1 : i+3]), true
		}
	}
	return 0, 0, pnum{}, false
}

// \bdst\b
func findDST(s []byte) (int, bool) {
	for i := 0; i+3 <= len(s); i++ {
		if s[i] == 'd' && s[i+1] == 's' && s[i+2] == 't' && isBoundary(s, i) && isBoundary(s, i+3) {
			return i, true
		}
	}
	return 0, false
}

func lowerRun(s []byte, p, n int) bool {
	if p+n > len(s) {
		return false
	}
	for k := p; k < p+n; k++ {
		if !isLower(s[k]) {
			return false
		}
	}
	return true
}

// quoteSpace matches "?\s at s[k:].
func quoteSpace(s []byte, k int) (int, bool) {
	if at(s, k) == '"' && isSpace(at(s, k+1)) {
		return k + 2, true
	}
	if isSpace(at(s, k)) {
		return k + 1, true
	}
	return 0, false
}

// findZoneName matches \s"?([a-z]{3,4})(dst|\d+[a-z]*|_[a-z]+)?"?\s
func findZoneName(s []byte) (start, end, ns, ne int, dst, ok bool) {
	for i := 0; i < len(s); i++ {
		if !isSpace(s[i]) {
			continue
		}
		for q := 1; q >= 0; q-- {
			if q == 1 && at(s, i+1) != '"' {
				continue
			}
			p := i + 1 + q
			for ln := 4; ln >= 3; ln-- {
				if !lowerRun(s, p, ln) {
					continue
				}
				r := p + ln
				if hasPrefixAt(s, r, "dst") {
					if e, ok := quoteSpace(s, r+3); ok {
						return i, e, p, r, true, true
					}
				}
				if isDigit(at(s, r)) {
					if e, ok := quoteSpace(s, skipLower(s, skipDigits(s, r))); ok {
						return i, e, p, r, false, true
					}
				}
				if at(s, r) == '_' && isLower(at(s, r+1)) {
					if e, ok := quoteSpace(s, skipLower(s, r+1)); ok {
						return i, e, p, r, false, true
					}
				}
				if e, ok := quoteSpace(s, r); ok {
					return i, e, p, r, false, true
				}
			}
		}
	}
	return 0, 0, 0, 0, false, false
}

type numZone struct {
	start, end int
	ns, ne     int // zone name, ns == ne when absent
	neg        bool
	hh, mm     int64
	mmDef      bool
}

// findNumZone matches \s([a-z]{3,4})?([\-\+]?)-?(\d\d?):?(\d\d)?(00)?\s, or
// without the :? when colon is false.
func findNumZone(s []byte, colon bool) (numZone, bool) {
	lns := [3]int{4, 3, 0}
	for i := 0; i < len(s); i++ {
		if !isSpace(s[i]) {
			continue
		}
		for _, ln := range lns {
			if ln > 0 && !lowerRun(s, i+1, ln) {
				continue
			}
			p := i + 1 + ln
			for sg := 1; sg >= 0; sg-- {
				c := at(s, p)
				if sg == 1 && c != '-' && c != '+' {
					continue
				}
				p2 := p + sg
				for dsh := 1; dsh >= 0; dsh-- {
					if dsh == 1 && at(s, p2) != '-' {
						continue
					}
					p3 := p2 + dsh
					for hl := 2; hl >= 1; hl-- {
						if !digitOK(s, p3, hl) {
							continue
						}
						p4 := p3 + hl
						for col := 1; col >= 0; col-- {
							if col == 1 && (!colon || at(s, p4) != ':') {
								continue
							}
							p5 := p4 + col
							for mm := 1; mm >= 0; mm-- {
								if mm == 1 && !twoDigits(s, p5) {
									continue
								}
								p6 := p5 + 2*mm
								for z := 1; z >= 0; z-- {
									if z == 1 && !(at(s, p6) == '0' && at(s, p6+1) == '0') {
										continue
									}
									p7 := p6 + 2*z
									if isSpace(at(s, p7)) {
										nz := numZone{start: i, end: p7 + 1, ns: i + 1, ne: i + 1 + ln,
											neg: sg == 1 && c == '-', hh: digitsNum(s[p3:p4]).v}
										if mm == 1 {
											nz.mm = digitsNum(s[p5 : p5+2]).v
											nz.mmDef = true
										}
										return nz, true
									}
								}
							}
						}
					}
				}
			}
		}
	}
	return numZone{}, false
}

// offset computes the zone of a numeric match; ok is false for an unknown
// zone name (strptime then fails).
func (z numZone) offset(s []byte) (int64, bool) {
	var zone int64
	if z.ne > z.ns {
		off, ok := zoneNames[string(s[z.ns:z.ne])]
		if !ok {
			return 0, false
		}
		zone = off
	}
	h, m := z.hh, int64(0)
	if z.mmDef {
		m = z.mm
	}
	if z.neg {
		h, m = -h, -m
	}
	return zone + 60*(m+60*h), true
}

// onlyUTZ matches ^\s*(ut?|z)\s*$.
func onlyUTZ(s []byte) bool {
	i := skipSpaces(s, 0)
	switch {
	case hasPrefixAt(s, i, "ut"):
		i += 2
	case hasPrefixAt(s, i, "u"), hasPrefixAt(s, i, "z"):
		i++
	default:
		return false
	}
	return skipSpaces(s, i) == len(s)
}

// zoneNames is Time::Zone 2.24's table as strptime can reach it (names of 3
// or 4 letters; no name is in both the standard and the DST table).
var zoneNames = map[string]int64{
	"gmt": 0, "ut": 0, "utc": 0, "wet": 0, "wat": -1 * 3600, "at": -2 * 3600,
	"fnt": -2 * 3600, "brt": -3 * 3600, "mnt": -4 * 3600, "ewt": -4 * 3600,
	"ast": -4 * 3600, "est": -5 * 3600, "act": -5 * 3600, "cst": -6 * 3600,
	"mst": -7 * 3600, "pst": -8 * 3600, "akst": -9 * 3600, "yst": -9 * 3600,
	"hst": -10 * 3600, "cat": -10 * 3600, "ahst": -10 * 3600, "nt": -11 * 3600,
	"idlw": -12 * 3600, "cet": 3600, "mez": 3600, "ect": 3600, "met": 3600,
	"mewt": 3600, "swt": 3600, "set": 3600, "fwt": 3600, "eet": 2 * 3600,
	"ukr": 2 * 3600, "bt": 3 * 3600, "msk": 3 * 3600, "zp4": 4 * 3600,
	"zp5": 5 * 3600, "zp6": 6 * 3600, "wst": 8 * 3600, "hkt": 8 * 3600,
	"cct": 8 * 3600, "jst": 9 * 3600, "kst": 9 * 3600, "aest": 10 * 3600,
	"east": 10 * 3600, "gst": 10 * 3600, "nzt": 12 * 3600, "nzst": 12 * 3600,
	"idle": 12 * 3600,
	// DST names (fixed offsets)
	"brst": -2 * 3600, "adt": -3 * 3600, "edt": -4 * 3600, "cdt": -5 * 3600,
	"mdt": -6 * 3600, "pdt": -7 * 3600, "akdt": -8 * 3600, "ydt": -8 * 3600,
	"hdt": -9 * 3600, "bst": 3600, "mest": 2 * 3600, "metdst": 2 * 3600,
	"sst": 2 * 3600, "fst": 2 * 3600, "cest": 2 * 3600, "eest": 3 * 3600,
	"msd": 4 * 3600, "wadt": 8 * 3600, "kdt": 10 * 3600, "aedt": 11 * 3600,
	"eadt": 11 * 3600, "nzd": 13 * 3600, "nzdt": 13 * 3600,
}

// strptime is Date::Parse's strptime without a zone argument.
func strptime(in string) (fields, bool) {
	var f fields
	var arr [96]byte
	s := prepare(arr[:0], in)

	if i, j, ok := findWeekday(s); ok {
		s = subst(s, i, j, true)
	}
	if !hasNonSpace(s) {
		return f, false
	}

	merid := meridNone
	if m, ok := findISO(s); ok {
		f.year, f.day, f.hh, f.mm, f.ss = m.year, m.day, m.hh, m.mm, m.ss
		f.month, f.monthDef = m.mon.v-1, true
		if m.fracEnd > m.fracStart {
			fr := s[m.fracStart:m.fracEnd]
			if !(len(fr) == 1 && fr[0] == '0') {
				v, err := strconv.ParseFloat("0."+string(fr), 64)
				if err == nil {
					f.frac, f.hasFrac = v, true
				}
			}
		}
		s = subst(s, m.start, m.end, true)
	}

	if !f.hh.def {
		if tm, ok := findTime1(s); ok {
			f.hh, f.mm, f.ss = tm.hh, tm.mm, tm.ss
			if tm.z {
				f.zone, f.zoneDef = 0, true
			}
			if tm.merid != meridNone {
				merid = tm.merid
			}
			s = subst(s, tm.start, tm.end, true)
		} else if tm, ok := findTime2(s); ok {
			f.hh, f.mm, f.ss = tm.hh, plainNum(0), plainNum(0)
			merid = tm.merid
			s = subst(s, tm.start, tm.end, true)
		}
	}

	if f.hh.def && f.hh.v <= 12 {
		if i, j, mer, ok := findAMPM(s); ok {
			merid = mer
			s = subst(s, i, j, true)
		}
	}

	if !f.year.def {
		if m, ok := findDate(s); ok {
			switch m.kind {
			case 1:
				f.month, f.monthDef, f.day = m.month, true, m.day
				if m.yearSet {
					f.year = m.year
				}
			case 2:
				f.month, f.monthDef, f.day = m.a.v-1, true, m.day
				if m.year.truthy() {
					f.year = m.year
					if f.month > 12 {
						f.year, f.month, f.day = m.a, m.day.v-1, m.year
					}
					if f.year.nd > 2 && f.year.v < 1901 {
						return f, false
					}
				}
			case 3, 4, 5:
				f.month, f.monthDef, f.day = m.month, true, m.day
			case 6:
				f.year, f.month, f.monthDef, f.day = m.year, m.month, true, m.day
			}
			s = subst(s, m.start, m.end, true)
		}
		if !f.year.def {
			if i, j, y, ok := findYear(s); ok {
				f.year = y
				s = subst(s, i, j, true)
			}
		}
	}

	dst := false
	if i, ok := findDST(s); ok {
		dst = true
		s = subst(s, i, i+3, false)
	}

	if start, end, ns, ne, zdst, ok := findZoneName(s); ok {
		if zdst {
			dst = true
		}
		off, known := zoneNames[string(s[ns:ne])]
		if !known {
			return f, false
		}
		f.zone, f.zoneDef = off, true
		s = subst(s, start, end, true)
	} else if nz, ok := findNumZone(s, true); ok {
		off, known := nz.offset(s)
		if !known {
			return f, false
		}
		f.zone, f.zoneDef = off, true
		s = subst(s, nz.start, nz.end, true)
	}

	if hasNonSpace(s) {
		if onlyUTZ(s) {
			f.zone, f.zoneDef = 0, true
			s = s[:0]
		} else if nz, ok := findNumZone(s, false); ok {
			off, known := nz.offset(s)
			if !known {
				return f, false
			}
			f.zone, f.zoneDef = off, true
			s = subst(s, nz.start, nz.end, true)
		}
		if hasNonSpace(s) {
			return f, false
		}
	}

	if f.hh.def {
		if f.hh.v == 12 {
			if merid == meridAM {
				f.hh = plainNum(0)
			}
		} else if merid == meridPM {
			f.hh = plainNum(f.hh.v + 12)
		}
	}

	if f.year.def && f.year.v > 1900 {
		f.century = true
		f.year = plainNum(f.year.v)
	}
	if f.zoneDef && dst {
		f.zone += 3600
	}
	return f, true
}

// orZero is perl's "$x ||= 0".
func orZero(n pnum) pnum {
	if !n.truthy() {
		return plainNum(0)
	}
	return n
}

func str2time(in string, now time.Time, loc *time.Location) (perlResult, bool) {
	if loc == nil {
		loc = time.UTC
	}
	f, ok := fastAsctime(in)
	if !ok {
		f, ok = strptime(in)
		if !ok {
			return perlResult{}, false
		}
	}
	lt := now.In(loc)
	ltMon, ltDay, ltYear := int64(lt.Month())-1, int64(lt.Day()), int64(lt.Year())-1900

	hh, mm, ss := orZero(f.hh), orZero(f.mm), orZero(f.ss)
	var res perlResult
	if f.hasFrac {
		x := float64(ss.v) + f.frac
		res.frac = x - math.Trunc(x)
		res.nv = true
		ss = plainNum(int64(math.Trunc(x)))
	} else {
		ss = plainNum(ss.v)
	}
	month := f.month
	if !f.monthDef {
		month = ltMon
	}
	day := f.day
	if !day.def {
		day = plainNum(ltDay)
	}
	year := f.year
	if !year.def {
		if month > ltMon {
			year = plainNum(ltYear - 1)
		} else {
			year = plainNum(ltYear)
		}
	}
	if !(month <= 11 && day.v >= 1 && day.v <= 31 && hh.v <= 23 && mm.v <= 59 && ss.v <= 59) {
		return perlResult{}, false
	}
	w := newYearWindow(ltYear)
	if f.zoneDef {
		r, ok := perlTimegm(ss.v, mm.v, hh.v, day.v, month, year.v, w)
		if !ok {
			return perlResult{}, false
		}
		if r == -1 && joinFields(ss, mm, hh, day, month, year) != "595923311169" {
			return perlResult{}, false
		}
		res.sec = r - f.zone
	} else {
		r, ok := perlTimelocal(ss.v, mm.v, hh.v, day.v, month, year.v, w, loc)
		if !ok {
			return perlResult{}, false
		}
		if r == -1 {
			t := time.Unix(-1, 0).In(loc)
			want := strconv.Itoa(t.Second()) + strconv.Itoa(t.Minute()) + strconv.Itoa(t.Hour()) +
				strconv.Itoa(t.Day()) + strconv.Itoa(int(t.Month())-1) + strconv.Itoa(t.Year()-1900)
			if joinFields(ss, mm, hh, day, month, year) != want {
				return perlResult{}, false
			}
		}
		res.sec = r
	}
	return res, true
}

func joinFields(ss, mm, hh, day pnum, month int64, year pnum) string {
	return ss.String() + mm.String() + hh.String() + day.String() + strconv.FormatInt(month, 10) + year.String()
}
