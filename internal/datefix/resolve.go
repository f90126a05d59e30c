package datefix

import (
	"strings"
	"time"
)

// Source says which input gave a message its date.
type Source int

// The sources, in the order Resolve tries them.
const (
	FromLine Source = iota
	Received
	DateHeader
	FileMTime
)

func (s Source) String() string {
	switch s {
	case FromLine:
		return "from_line"
	case Received:
		return "received"
	case DateHeader:
		return "date_header"
	case FileMTime:
		return "file_mtime"
	}
	return "unknown"
}

// Inputs are the places a message's date can come from.
type Inputs struct {
	FromLine  []byte    // whole From_ line, no line end
	Received  string    // value of the LAST Received: header (unfolded); date is after the last ';'
	Date      string    // value of the Date: header
	FileMTime time.Time // mtime of the source mbox file

	// FromKnown says that FromTime and FromOK already hold DovecotFromDate's result for
	// FromLine (a caller that parsed it to find the separator), so the default mode does
	// not parse it again.
	FromKnown bool
	FromTime  time.Time
	FromOK    bool
}

// Policy decides how dates are read.
type Policy struct {
	Compat bool // true: Date::Parse semantics only
	Now    time.Time
	Loc    *time.Location
}

// Resolve tries the From_ line, then the last Received: header, then the
// Date: header, then the file's mtime, and returns the time and the source
// that gave it.
//
// Default: the From_ date is read with DovecotFromDate (so users see
// Dovecot's INTERNALDATE), the headers with ParseLenient; a date more than a
// day after Now or before 1970 is unusable for that source.
// Compat: Str2Time only (the From_ line cut by MB2MDDateString); any date
// perl returns is accepted (also before 1970), only undef falls through.
func (p Policy) Resolve(in Inputs) (time.Time, Source) {
	loc := p.Loc
	if loc == nil {
		loc = time.UTC
	}
	if p.Compat {
		if len(in.FromLine) > 0 {
			if t, ok := Str2Time(MB2MDDateString(string(in.FromLine)), p.Now, loc); ok {
				return t, FromLine
			}
		}
		if recv := receivedDate(in.Received); recv != "" {
			if t, ok := Str2Time(recv, p.Now, loc); ok {
				return t, Received
			}
		}
		if in.Date != "" {
			if t, ok := Str2Time(in.Date, p.Now, loc); ok {
				return t, DateHeader
			}
		}
		return in.FileMTime, FileMTime
	}
	usable := func(t time.Time) bool {
		return !t.Before(time.Unix(0, 0)) && !t.After(p.Now.Add(24*time.Hour))
	}
	if len(in.FromLine) > 0 {
		t, ok := in.FromTime, in.FromOK
		if !in.FromKnown {
			t, _, ok = DovecotFromDate(in.FromLine, loc)
		}
		if ok && usable(t) {
			return t, FromLine
		}
	}
	// the fallbacks, looked at only when the From_ line date is not used
	if recv := receivedDate(in.Received); recv != "" {
		if t, ok := ParseLenient(recv, p.Now, loc); ok && usable(t) {
			return t, Received
		}
	}
	if in.Date != "" {
		if t, ok := ParseLenient(in.Date, p.Now, loc); ok && usable(t) {
			return t, DateHeader
		}
	}
	return in.FileMTime, FileMTime
}

// receivedDate returns the text after the last ';' of a Received: value
// ("" when there is none).
func receivedDate(v string) string {
	i := strings.LastIndexByte(v, ';')
	if i < 0 {
		return ""
	}
	return strings.TrimSpace(v[i+1:])
}
