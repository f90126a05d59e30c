package datefix

import "time"

// This file re-implements what Date::Parse needs from Perl's Time::Local 1.30
// (timegm, timelocal) and from localtime, on top of Go's zone data.

// yearWindow is Time::Local's rolling century for two-digit years. Perl
// computes it once, when the module is loaded, from the local year.
type yearWindow struct {
	breakpoint, century, nextCentury int64
}

func newYearWindow(thisYear int64) yearWindow { // thisYear: years since 1900
	bp := (thisYear + 50) % 100
	next := thisYear - thisYear%100
	if bp < 50 {
		next += 100
	}
	return yearWindow{breakpoint: bp, century: next - 100, nextCentury: next}
}

var monthDays = [12]int64{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

func isLeap(y int64) bool {
	if y%4 != 0 {
		return false
	}
	if y%100 != 0 {
		return true
	}
	return y%400 == 0
}

// perlMaxDay is Time::Local's $MaxDay on a 64-bit perl (365 * 2**31).
const perlMaxDay = 365 * (1 << 31)

// epochDay is Time::Local's $Epoc: the day number of 1970-01-01 minus one.
const epochDay = 719469

// civilDays returns the days since 1970-01-01 of year y (full year), month
// mon (0..11) and day d, with Time::Local's _daygm formula.
func civilDays(y, mon, d int64) int64 {
	m := (mon + 10) % 12
	y -= m / 10
	return 365*y + floorDiv(y, 4) - floorDiv(y, 100) + floorDiv(y, 400) + (m*306+5)/10 + d - epochDay
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// perlTimegm is Time::Local::timegm with its year munging and range checks.
// ok is false where timegm croaks.
func perlTimegm(sec, min, hour, mday, mon, year int64, w yearWindow) (int64, bool) {
	switch {
	case year >= 1000:
		year -= 1900
	case year >= 0 && year < 100:
		if year > w.breakpoint {
			year += w.century
		} else {
			year += w.nextCentury
		}
	}
	if mon > 11 || mon < 0 {
		return 0, false
	}
	md := monthDays[mon]
	if mon == 1 && isLeap(year+1900) {
		md++
	}
	if mday > md || mday < 1 || hour > 23 || hour < 0 || min > 59 || min < 0 || sec >= 60 || sec < 0 {
		return 0, false
	}
	// Far outside $MaxDay; also keeps the arithmetic below from overflowing.
	if year > 4e9 || year < -4e9 {
		return 0, false
	}
	days := civilDays(year+1900, mon, mday)
	if days >= perlMaxDay || -days >= perlMaxDay {
		return 0, false
	}
	return sec + 60*min + 3600*hour + 86400*days, true
}

// zoneOffset is the UTC offset in seconds of loc at the instant t.
func zoneOffset(t int64, loc *time.Location) int64 {
	if loc == time.UTC {
		return 0
	}
	_, off := time.Unix(t, 0).In(loc).Zone()
	return int64(off)
}

// perlTimelocal is Time::Local::timelocal: timegm, then its offset probing
// (a nonexistent local time moves forward, an ambiguous one takes the first
// instance).
func perlTimelocal(sec, min, hour, mday, mon, year int64, w yearWindow, loc *time.Location) (int64, bool) {
	ref, ok := perlTimegm(sec, min, hour, mday, mon, year, w)
	if !ok {
		return 0, false
	}
	zoneOff := zoneOffset(ref, loc)
	if zoneOff == 0 {
		return ref, true
	}
	locT := ref - zoneOff
	dstOff := zoneOff - zoneOffset(locT, loc)
	if dstOff == 0 && zoneOff-zoneOffset(locT-3600, loc) < 0 {
		return locT - 3600, true
	}
	locT += dstOff
	if dstOff > 0 {
		return locT, true
	}
	h, m, s := time.Unix(locT, 0).In(loc).Clock()
	if int64(s) != sec || int64(m) != min || int64(h) != hour {
		locT -= dstOff
	}
	return locT, true
}
