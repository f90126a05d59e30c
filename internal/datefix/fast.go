package datefix

// fastAsctime reads the plain asctime form of From_ lines,
// "[Www ]Mmm [ ]d h:mm[:ss] yyyy" (weekday and month known names, any case,
// nothing else around), without running the general scanners. For these
// strings strptime's steps reduce to: weekday removed, the time found by the
// hh:mm[:ss] form, no am/pm, the month and day by the "mon d" form, the year
// by the standalone-number form, no zone and nothing left over; so the
// fields are the same. Anything else returns ok=false.
func fastAsctime(s string) (fields, bool) {
	var f fields
	i := 0
	lower3 := func(i int) (byte, byte, byte) { return s[i] | 0x20, s[i+1] | 0x20, s[i+2] | 0x20 }
	isAlpha := func(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
	if len(s) < 17 || !isAlpha(s[0]) || !isAlpha(s[1]) || !isAlpha(s[2]) {
		return f, false
	}
	if s[3] == ' ' {
		a, b, c := lower3(0)
		if !knownDay(a, b, c) {
			return f, false
		}
		i = 4
		if len(s) < i+17 || !isAlpha(s[i]) || !isAlpha(s[i+1]) || !isAlpha(s[i+2]) {
			return f, false
		}
	}
	a, b, c := lower3(i)
	mon, ok := knownMonth(a, b, c)
	if !ok || s[i+3] != ' ' {
		return f, false
	}
	i += 4
	if s[i] == ' ' {
		i++
	}
	d0 := i
	for i < len(s) && i-d0 < 3 && isDigit(s[i]) {
		i++
	}
	if i == d0 || i-d0 > 2 || i >= len(s) || s[i] != ' ' {
		return f, false
	}
	f.day = digitsNumStr(s[d0:i])
	i++
	h0 := i
	for i < len(s) && i-h0 < 3 && isDigit(s[i]) {
		i++
	}
	if i == h0 || i-h0 > 2 || i+3 > len(s) || s[i] != ':' || !isDigit(s[i+1]) || !isDigit(s[i+2]) {
		return f, false
	}
	f.hh = digitsNumStr(s[h0:i])
	f.mm = digitsNumStr(s[i+1 : i+3])
	i += 3
	if i < len(s) && s[i] == ':' {
		if i+3 > len(s) || !isDigit(s[i+1]) || !isDigit(s[i+2]) {
			return f, false
		}
		f.ss = digitsNumStr(s[i+1 : i+3])
		i += 3
	}
	if len(s)-i != 5 || s[i] != ' ' || !isDigit(s[i+1]) || !isDigit(s[i+2]) || !isDigit(s[i+3]) || !isDigit(s[i+4]) {
		return f, false
	}
	f.year = digitsNumStr(s[i+1:])
	f.month, f.monthDef = mon, true
	if f.year.v > 1900 {
		f.century = true
		f.year = plainNum(f.year.v)
	}
	return f, true
}

func digitsNumStr(s string) pnum {
	var v int64
	for i := 0; i < len(s); i++ {
		v = v*10 + int64(s[i]-'0')
	}
	return pnum{v: v, nd: len(s), def: true}
}

func knownDay(a, b, c byte) bool {
	switch string([]byte{a, b, c}) {
	case "sun", "mon", "tue", "wed", "thu", "fri", "sat":
		return true
	}
	return false
}

func knownMonth(a, b, c byte) (int64, bool) {
	switch string([]byte{a, b, c}) {
	case "jan":
		return 0, true
	case "feb":
		return 1, true
	case "mar":
		return 2, true
	case "apr":
		return 3, true
	case "may":
		return 4, true
	case "jun":
		return 5, true
	case "jul":
		return 6, true
	case "aug":
		return 7, true
	case "sep":
		return 8, true
	case "oct":
		return 9, true
	case "nov":
		return 10, true
	case "dec":
		return 11, true
	}
	return 0, false
}
