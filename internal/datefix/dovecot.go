package datefix

import "time"

// DovecotFromDate parses a From_ line exactly as Dovecot 2.3's
// mbox_from_parse does (line = the whole line starting with "From ", without
// the line end). It returns the time (a zone-less date read in loc, a numeric
// zone honoured, named zones ignored as Dovecot does), the sender (a
// sub-slice of line, not a copy) and ok=false when Dovecot would not accept
// the line as a From_ line. It does not allocate. A nil loc means UTC.
//
// Dovecot's quirks are kept:
//   - the weekday is never looked at; "Thu, 9 Nov 2002 22:33:52" (RFC 822
//     style) is accepted too;
//   - a numeric zone counts only right after the year ("... 2001 +0300"), and
//     its minutes are added as seconds (+0530 is 5h00m30s);
//   - with a numeric zone, an impossible date or time (Feb 30, 25:00) is
//     rejected, second 60 becomes 59, and the wall-clock time
//     1969-12-31 23:59:59 is rejected; without one, mktime normalises it
//     (25:00 is 01:00 the next day) and the line is accepted;
//   - a day of 0 becomes 1; "???" is accepted as January.
//
// Dovecot sees the rest of its read buffer after the line; this function
// assumes the line is followed by a line feed and more text, which is the
// normal case (it only matters for lines too short to hold a date, which are
// rejected either way, and for the length check Dovecot makes before
// parsing). glibc's mktime is stateful for ambiguous local times (it starts
// from the offset of its previous call); this function always takes the
// first instance and moves a nonexistent time forward, as a fresh glibc
// process does.
func DovecotFromDate(line []byte, loc *time.Location) (t time.Time, sender []byte, ok bool) {
	if len(line) < 5 || line[0] != 'F' || line[1] != 'r' || line[2] != 'o' || line[3] != 'm' || line[4] != ' ' {
		return time.Time{}, nil, false
	}
	msg := line[5:]
	n := len(msg)
	// get reads msg as Dovecot's buffer: the line, its line feed, then
	// nothing that can match.
	get := func(i int) byte {
		if i < n {
			return msg[i]
		}
		if i == n {
			return '\n'
		}
		return 0
	}
	dig := func(i int) bool { c := get(i); return c >= '0' && c <= '9' }
	val := func(i int) int64 { return int64(get(i) - '0') }

	p := 0
	if p < n && msg[p] == '"' {
		esc := false
		p++
		for p < n && (msg[p] != '"' || esc) {
			if msg[p] == '\r' || msg[p] == '\n' {
				return time.Time{}, nil, false
			}
			esc = msg[p] == '\\'
			p++
		}
		p++
		if p > n {
			return time.Time{}, nil, false
		}
	}
	for p < n && msg[p] != ' ' {
		if msg[p] == '\r' || msg[p] == '\n' {
			return time.Time{}, nil, false
		}
		p++
	}
	senderEnd := p
	for p < n && msg[p] == ' ' {
		p++
	}

	var year, mon, mday, hour, min, sec int64
	parseMonth := func(i int) bool {
		a, b, c := get(i)|0x20, get(i+1)|0x20, get(i+2)|0x20
		m := int64(-1)
		switch {
		case a == 'j' && b == 'a' && c == 'n':
			m = 0
		case a == 'f' && b == 'e' && c == 'b':
			m = 1
		case a == 'm' && b == 'a' && c == 'r':
			m = 2
		case a == 'a' && b == 'p' && c == 'r':
			m = 3
		case a == 'm' && b == 'a' && c == 'y':
			m = 4
		case a == 'j' && b == 'u' && c == 'n':
			m = 5
		case a == 'j' && b == 'u' && c == 'l':
			m = 6
		case a == 'a' && b == 'u' && c == 'g':
			m = 7
		case a == 's' && b == 'e' && c == 'p':
			m = 8
		case a == 'o' && b == 'c' && c == 't':
			m = 9
		case a == 'n' && b == 'o' && c == 'v':
			m = 10
		case a == 'd' && b == 'e' && c == 'c':
			m = 11
		case get(i) == '?' && get(i+1) == '?' && get(i+2) == '?':
			m = 0
		}
		if m < 0 || get(i+3) != ' ' {
			return false
		}
		mon = m
		return true
	}
	parseYear := func(i int) bool {
		if !dig(i) || !dig(i+1) || !dig(i+2) || !dig(i+3) {
			return false
		}
		year = val(i)*1000 + val(i+1)*100 + val(i+2)*10 + val(i+3)
		return true
	}

	m := p + 4 // skip the weekday
	alt := false
	if !parseMonth(m) {
		// alternate stamp: "Thu, 9 Nov 2002 22:33:52"
		alt = true
		m++
		if !dig(m) {
			return time.Time{}, nil, false
		}
		mday = val(m)
		m++
		if dig(m) {
			mday = mday*10 + val(m)
			m++
		}
		if get(m) != ' ' {
			return time.Time{}, nil, false
		}
		m++
		if !parseMonth(m) {
			return time.Time{}, nil, false
		}
		m += 4
		if !parseYear(m) {
			return time.Time{}, nil, false
		}
		m += 5
	} else {
		m += 4
		if get(m) == ' ' {
			m++
		}
		if get(m+1) == ' ' {
			if !dig(m) {
				return time.Time{}, nil, false
			}
			mday = val(m)
			m += 2
		} else {
			if !dig(m) || !dig(m+1) || get(m+2) != ' ' {
				return time.Time{}, nil, false
			}
			mday = val(m)*10 + val(m+1)
			m += 3
		}
	}
	if mday == 0 {
		mday = 1
	}
	if !dig(m) || !dig(m+1) || get(m+2) != ':' {
		return time.Time{}, nil, false
	}
	hour = val(m)*10 + val(m+1)
	m += 3
	if !dig(m) || !dig(m+1) {
		return time.Time{}, nil, false
	}
	min = val(m)*10 + val(m+1)
	m += 2
	if get(m) == ':' {
		m++
		if !dig(m) || !dig(m+1) {
			return time.Time{}, nil, false
		}
		sec = val(m)*10 + val(m+1)
		m += 2
		if !alt {
			if get(m) != ' ' {
				return time.Time{}, nil, false
			}
			m++
		}
	} else if !alt {
		if get(m) != ' ' {
			return time.Time{}, nil, false
		}
		m++
	}

	if !alt {
		if !dig(m) || !dig(m+1) || !dig(m+2) || !dig(m+3) {
			// a named zone (or anything else) before the year: skip it
			for {
				c := get(m)
				if c == ' ' {
					break
				}
				if m >= n || c == '\r' || c == '\n' {
					return time.Time{}, nil, false
				}
				m++
			}
			m++
		}
		if !parseYear(m) {
			return time.Time{}, nil, false
		}
		m += 4
	}

	seenTZ := false
	var tzSecs int64
	if m != n && get(m) == ' ' && (get(m+1) == '-' || get(m+1) == '+') && dig(m+2) && dig(m+3) && dig(m+4) && dig(m+5) {
		seenTZ = true
		tzSecs = val(m+2)*10*3600 + val(m+3)*3600 + val(m+4)*10 + val(m+5)
		if get(m+1) == '-' {
			tzSecs = -tzSecs
		}
	}

	var ts int64
	if seenTZ {
		if sec == 60 {
			sec = 59
		}
		md := monthDays[mon]
		if mon == 1 && isLeap(year) {
			md++
		}
		if mday > md || hour > 23 || min > 59 || sec > 59 {
			return time.Time{}, nil, false
		}
		ts = civilDays(year, mon, mday)*86400 + hour*3600 + min*60 + sec
		if ts == -1 {
			return time.Time{}, nil, false
		}
		ts -= tzSecs
	} else {
		if loc == nil {
			loc = time.UTC
		}
		wall := civilDays(year, mon, 1)*86400 + (mday-1)*86400 + hour*3600 + min*60 + sec
		ts = localToUTC(wall, loc)
	}
	return time.Unix(ts, 0), msg[:senderEnd], true
}

// localToUTC maps wall-clock seconds (as if UTC) in loc to an instant: the
// first instance of an ambiguous time, and for a time in a gap the offset in
// force before the gap (so the time moves forward).
func localToUTC(wall int64, loc *time.Location) int64 {
	if loc == time.UTC {
		return wall
	}
	before := zoneOffset(wall-30*3600, loc)
	after := zoneOffset(wall+30*3600, loc)
	if before == after {
		if zoneOffset(wall-before, loc) == before {
			return wall - before
		}
	}
	best, found := int64(0), false
	try := func(o int64) {
		t := wall - o
		if zoneOffset(t, loc) == o && (!found || t < best) {
			best, found = t, true
		}
	}
	try(before)
	try(after)
	try(zoneOffset(wall, loc))
	try(zoneOffset(wall-zoneOffset(wall, loc), loc))
	if found {
		return best
	}
	return wall - before
}
