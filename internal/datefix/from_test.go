package datefix

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// mb2mdMtime is what mb2md 3.20 sets as the file mtime: str2time of the
// extracted date, undef becoming 0.
func mb2mdMtime(line string, now time.Time, loc *time.Location) int64 {
	t, ok := Str2Time(MB2MDDateString(line), now, loc)
	if !ok {
		return 0
	}
	return t.Unix()
}

// Spec §5.3, first table (run 12, TZ=UTC).
func TestMB2MDFromLinesUTC(t *testing.T) {
	cases := []struct {
		line string
		want int64
	}{
		{"From a@b.example Mon Foo 99 12:34:56 2001", 0},
		{"From a@b.example Sat Jan  3 01:05:34 1996 remote from bar", 0},
		{"From a@b.example Sat, 3 Jan 1996 01:05:34 +0900", 820598734},
		{"From a@b.example 3 Jan 96 01:05 IST", 0},
		{"From foo bar 12:34", 0},
		{`From "quoted name"@example.com Sat Jan  3 01:05:34 1996`, 820631134},
		{"From a@b.example Sat Jan  3 01:05:34 JST 1996", 820598734},
		{"From (no mail address) Sat Jan  3 01:05:34 1996", 820631134},
		{"From a@b.example  Sat Jan  3 01:05:34 1996", 820631134},
		{"From  a@b.example Sat Jan  3 01:05:34 1996", 820631134},
		{"From a@b.example Sat Jan  3 25:05:34 1996", 0},
		{"From a@b.example Fri Feb 30 01:05:34 1996", 0},
		{"From a@b.example Sat Jan  3 01:05:34 1996 +0900 (JST)", 820598734},
		{"From a@b.example Sat Jan  3 01:05:34 1996 -0500", 820649134},
		{"From user Sat Jan  3 01:05:34 1996", 820631134},
		{"From user Sat Jan  3 01:05:34 1996 @home", 0},
		{"From a@b.example Sat Jan  3 01:05:34 PST 1996", 820659934},
		{"From a@b.example Sat Jan  3 01:05:34 1996 GMT", 820631134},
		{"From a@b.example Sat Jan  3 1:05:34 1996", 820631134},
		{"From - Sat Jan  3 01:05:34 1996", 820631134},
	}
	for _, c := range cases {
		for _, eol := range []string{"", "\n"} {
			if got := mb2mdMtime(c.line+eol, clock(nil), time.UTC); got != c.want {
				t.Errorf("%q: mtime %d, want %d (date string %q)", c.line+eol, got, c.want, MB2MDDateString(c.line+eol))
			}
		}
	}
}

// Spec §5.3, second table (runs 13/13b/13c); rows where ext4 clamped the
// mtime are checked against Date::Parse's own value (spec §8.5).
func TestMB2MDFromLinesZones(t *testing.T) {
	cases := []struct {
		date       string
		utc, tokyo int64
		newYork    int64
	}{
		{"Thu Jan  1 00:00:00 1970", 0, -32400, 18000},
		{"Wed Dec 31 23:59:59 1969", 0, -32401, 17999},
		{"Mon Jan  1 00:00:00 1900", -2208988800, -2209021200, -2208970800},
		{"Fri Dec 13 20:45:52 1901", -2147483648, -2147516048, -2147465648},
		{"Sat Jan  3 01:05:34 96", 820631134, 820598734, 820649134},
		{"Sat Jan  3 01:05:34 70", 3155936734, 3155904334, 3155954734},
		{"Sat Jan  3 01:05:34 76", 3345239134, 3345206734, 3345257134},
		{"Sat Jan  3 01:05:34 77", 221101534, 221069134, 221119534},
		{"Sat Jan  3 01:05:34 00", 946861534, 946829134, 946879534},
		{"Tue Jan 19 03:14:07 2038", 2147483647, 2147451247, 2147501647},
		{"Tue Jan 19 03:14:08 2038", 2147483648, 2147451248, 2147501648},
		{"Sat Jan  3 01:05 1996", 820631100, 820598700, 820649100},
		{"Jan  3 01:05:34 1996", 820631134, 820598734, 820649134},
		{"Mon Jun 10 12:00:00 1991", 676555200, 676522800, 676569600},
		{"Thu Dec 31 23:59:59 1998", 915148799, 915116399, 915166799},
		{"1996-01-03 01:05:34", 820631134, 820598734, 820649134},
		{"Sat Jan  3 01:05:34 2099", 4071085534, 4071053134, 4071103534},
		{"Sun Apr  7 02:30:00 1996", 828844200, 828811800, 828862200},
	}
	for zi, zone := range specZones {
		loc := mustLoc(t, zone)
		for _, c := range cases {
			want := []int64{c.utc, c.tokyo, c.newYork}[zi]
			line := "From a@b.example " + c.date + "\n"
			if got := mb2mdMtime(line, clock(loc), loc); got != want {
				t.Errorf("TZ=%s %q: mtime %d, want %d", zone, line, got, want)
			}
		}
	}
}

func TestMB2MDDateString(t *testing.T) {
	cases := []struct{ line, want string }{
		{"From a@b.example Sat Jan  3 01:05:34 1996\n", "Sat Jan  3 01:05:34 1996"},
		{"From user Sat Jan  3 01:05:34 1996", "Sat Jan  3 01:05:34 1996"},
		{"From  Sat Jan  3 01:05:34 1996", " Jan  3 01:05:34 1996"},
		{"From (no mail address) Sat Jan  3 01:05:34 1996", "Sat Jan  3 01:05:34 1996"},
		{"From (a) (b) Sat", "Sat"},
		{"From (unclosed Sat Jan", "Sat Jan"},
		{`From "a b"@host Sat`, "Sat"},
		{"From user Sat Jan  3 01:05:34 1996 @home\n", ""},
		{"From @x y z", ""},
		{"From goran at domain.com  Wed Dec  1 08:26:40 2010", "at domain.com  Wed Dec  1 08:26:40 2010"},
		{"From foo bar 12:34", "bar 12:34"},
		{"From ", ""},
	}
	for _, c := range cases {
		if got := MB2MDDateString(c.line); got != c.want {
			t.Errorf("MB2MDDateString(%q) = %q, want %q", c.line, got, c.want)
		}
	}
}

func readFromLines(t *testing.T) [][]byte {
	t.Helper()
	shared := findShared(t)
	data, err := os.ReadFile(filepath.Join(shared, "corpus", "dates", "from_lines.txt"))
	if err != nil {
		t.Skipf("from_lines corpus not readable: %v", err)
	}
	return bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
}

func TestDovecotFromDateCorpus(t *testing.T) {
	lines := readFromLines(t)
	if len(lines) != 58 {
		t.Fatalf("from_lines.txt has %d lines, want 58", len(lines))
	}
	// Dovecot's own expectations (src/lib-mail/test-mbox-from.c) for the
	// first 15 lines: time, zone offset in minutes, sender; ok=false for the
	// rest of them.
	dovecot := []struct {
		ok     bool
		time   int64
		tz     int64
		sender string
	}{
		{true, 123456789, 2 * 60, "user@domain"},
		{true, 123456789, -2 * 60, "user@domain"},
		{true, 123232, 0, `"user name"@domain`},
		{true, 123240, 0, "user"},
		{true, 123240, 0, "user"},
		{true, 123240, 0, "user"},
		{true, 123240, 0, ""},
		{}, {}, {}, {}, {}, {}, {}, {},
	}
	for _, zone := range specZones {
		loc := mustLoc(t, zone)
		for i, want := range dovecot {
			tm, sender, ok := DovecotFromDate(lines[i], loc)
			if ok != want.ok || (ok && (tm.Unix() != want.time || string(sender) != want.sender)) {
				t.Errorf("TZ=%s line %d %q: got %v %d %q, want %v %d %q", zone, i+1, lines[i], ok, tm.Unix(), sender, want.ok, want.time, want.sender)
			}
			// Dovecot's second pass: the same line without its " +hhmm" zone is
			// read in local time.
			if want.ok && want.time != 0 {
				short := lines[i][:len(lines[i])-6]
				local := time.Unix(want.time+want.tz*60, 0).UTC()
				wantLocal := time.Date(local.Year(), local.Month(), local.Day(), local.Hour(), local.Minute(), local.Second(), 0, loc).Unix()
				tm, _, ok := DovecotFromDate(short, loc)
				if !ok || tm.Unix() != wantLocal {
					t.Errorf("TZ=%s line %d without zone %q: got %v %d, want %d", zone, i+1, short, ok, tm.Unix(), wantLocal)
				}
			}
		}
	}
	// The real separators: which ones Dovecot accepts. Pipermail's
	// "From x at y.org  Wed ..." is not a From_ line for Dovecot; neither
	// is "Mon 1 Jan" (no comma), a one-digit minute or an ISO date.
	rejected := map[int]bool{18: true, 23: true, 30: true, 33: true, 38: true, 39: true, 40: true,
		41: true, 43: true, 44: true, 45: true, 54: true, 55: true, 57: true, 58: true}
	for _, zone := range specZones {
		loc := mustLoc(t, zone)
		for i := 15; i < len(lines); i++ {
			n := i + 1
			tm, _, ok := DovecotFromDate(lines[i], loc)
			if ok == rejected[n] {
				t.Errorf("TZ=%s line %d %q: ok=%v, want %v", zone, n, lines[i], ok, !rejected[n])
				continue
			}
			if !ok {
				continue
			}
			// Where the date part has no zone at all, Dovecot and
			// Date::Parse agree: both read it in local time.
			ds := MB2MDDateString(string(lines[i]))
			if bytes.Count([]byte(ds), []byte(" ")) <= 5 && !bytes.ContainsAny([]byte(ds), "+-ABCDEFGHIJKLMNOPQRSTUVWXYZ,") || n == 56 {
				if p, pok := Str2Time(ds, clock(loc), loc); pok && p.Unix() != tm.Unix() {
					t.Errorf("TZ=%s line %d %q: dovecot %d, Date::Parse %d", zone, n, lines[i], tm.Unix(), p.Unix())
				}
			}
		}
	}
}

func TestDovecotFromDateCases(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	tokyo := mustLoc(t, "Asia/Tokyo")
	cases := []struct {
		line   string
		loc    *time.Location
		ok     bool
		want   int64
		sender string
	}{
		// zone-less: local time
		{"From a@b Sat Jan  3 01:05:34 1996", time.UTC, true, 820631134, "a@b"},
		{"From a@b Sat Jan  3 01:05:34 1996", tokyo, true, 820598734, "a@b"},
		{"From a@b Sat Jan  3 01:05:34 1996", ny, true, 820649134, "a@b"},
		// named zone ignored, before or after the year
		{"From a@b Sat Jan  3 01:05:34 JST 1996", time.UTC, true, 820631134, "a@b"},
		{"From a@b Sat Jan  3 01:05:34 1996 EST", time.UTC, true, 820631134, "a@b"},
		// numeric zone honoured after the year, ignored before it
		{"From a@b Sat Jan  3 01:05:34 1996 +0900", ny, true, 820598734, "a@b"},
		{"From a@b Sat Jan  3 01:05:34 1996 -0500 (EST)", tokyo, true, 820649134, "a@b"},
		{"From a@b Sat Jan  3 01:05:34 +0900 1996", time.UTC, true, 820631134, "a@b"},
		// Dovecot adds the zone's minutes as seconds
		{"From a@b Sat Jan  3 01:05:34 1996 +0530", time.UTC, true, 820631134 - 5*3600 - 30, "a@b"},
		// RFC 822 style
		{"From a@b Sat, 3 Jan 1996 01:05:34 +0900", time.UTC, true, 820598734, "a@b"},
		{"From a@b Sat, 03 Jan 1996 01:05", time.UTC, true, 820631100, "a@b"},
		// no seconds, one-digit day without the extra space
		{"From a@b Sat Jan 3 01:05 1996", time.UTC, true, 820631100, "a@b"},
		// mktime normalises without a zone, utc_mktime rejects with one
		{"From a@b Sat Jan  3 25:05:34 1996", time.UTC, true, 820631134 + 86400, "a@b"},
		{"From a@b Fri Feb 30 01:05:34 1996", time.UTC, true, 825642334, "a@b"},
		{"From a@b Fri Feb 30 01:05:34 1996 +0000", time.UTC, false, 0, ""},
		{"From a@b Sat Jan  3 01:05:60 1996 +0000", time.UTC, true, 820631159, "a@b"},
		{"From a@b Wed Dec 31 23:59:59 1969 +0100", time.UTC, false, 0, ""},
		{"From a@b Wed Dec 31 23:59:59 1969", time.UTC, true, -1, "a@b"},
		// day 0 is day 1; "???" is January
		{"From a@b Sat Jan  0 01:05:34 1996", time.UTC, true, 820458334, "a@b"},
		{"From a@b Sat ???  1 00:00:00 1970", time.UTC, true, 0, "a@b"},
		// DST gap moves forward, the ambiguous hour takes the first instance
		{"From a@b Sun Apr  7 02:30:00 1996", ny, true, 828862200, "a@b"},
		{"From a@b Sun Oct 27 01:30:00 1996", ny, true, 846394200, "a@b"},
		// quoted sender with a space and an escaped quote
		{`From "a \" b"@c Sat Jan  3 01:05:34 1996`, time.UTC, true, 820631134, `"a \" b"@c`},
		// garbage
		{"From a@b Sat Jan  3 01:05:34 96", time.UTC, false, 0, ""},
		{"From a@b Mon Foo 99 12:34:56 2001", time.UTC, false, 0, ""},
		{"From the meeting at 10:30", time.UTC, false, 0, ""},
		{"From a@b", time.UTC, false, 0, ""},
		{"From ", time.UTC, false, 0, ""},
		{"From", time.UTC, false, 0, ""},
		{"from a@b Sat Jan  3 01:05:34 1996", time.UTC, false, 0, ""},
		{`From "unterminated Sat Jan  3 01:05:34 1996`, time.UTC, false, 0, ""},
		{"From a@b Sat Jan  3 01:05:34 GMT", time.UTC, false, 0, ""},
		{"From a@b Sat Jan  3 01:05:34 1996\r", time.UTC, true, 820631134, "a@b"},
		{"From a\rb Sat Jan  3 01:05:34 1996", time.UTC, false, 0, ""},
	}
	for _, c := range cases {
		tm, sender, ok := DovecotFromDate([]byte(c.line), c.loc)
		if ok != c.ok || (ok && (tm.Unix() != c.want || string(sender) != c.sender)) {
			t.Errorf("%q in %s: got %v %d %q, want %v %d %q", c.line, c.loc, ok, tm.Unix(), sender, c.ok, c.want, c.sender)
		}
	}
}

func TestDovecotFromDateNoAlloc(t *testing.T) {
	line := []byte("From user@example.com Sat Jan  3 01:05:34 1996")
	ny := mustLoc(t, "America/New_York")
	n := testing.AllocsPerRun(100, func() { DovecotFromDate(line, ny) })
	if n != 0 {
		t.Errorf("DovecotFromDate allocates %v times per call", n)
	}
}

func TestPerlResultString(t *testing.T) {
	cases := []struct {
		r    perlResult
		want string
	}{
		{perlResult{sec: 820631134}, "820631134"},
		{perlResult{sec: 820631134, frac: 0.25, nv: true}, "820631134.25"},
		{perlResult{sec: -2208988800, frac: 0.5, nv: true}, "-2208988799.5"},
		{perlResult{sec: 790938497, frac: 0.1823213, nv: true}, "790938497.182321"},
		{perlResult{sec: 4071085534, nv: true}, "4071085534"},
	}
	for _, c := range cases {
		if got := c.r.String(); got != c.want {
			t.Errorf("%+v: %s, want %s", c.r, got, c.want)
		}
	}
}

// TestMB2MDDateStringPerl runs mb2md's own substitutions in perl over the
// From_ line corpus and compares the extracted strings.
func TestMB2MDDateStringPerl(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test against perl skipped in -short mode")
	}
	if _, err := exec.LookPath("perl"); err != nil {
		t.Skip("perl not installed")
	}
	lines := readFromLines(t)
	extra := []string{"From @x y z", "From (unclosed Sat Jan", "From (a) (b) Sat", `From "a b"@host Sat`,
		"From  Sat Jan  3 01:05:34 1996", "From a@b@c d e", "From (x\ty) Sat", "From ()  Sat"}
	for _, e := range extra {
		lines = append(lines, []byte(e))
	}
	script := `binmode STDIN; binmode STDOUT; while (<STDIN>) { s/^From //; if (/@/) { s/[^@]+//; s/@//; } ` +
		`s/(\((\S*| )+\)|\S+) *//; chomp; print "$_\n"; }`
	cmd := exec.Command("perl", "-e", script)
	cmd.Stdin = bytes.NewReader(append(bytes.Join(lines, []byte("\n")), '\n'))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("perl: %v", err)
	}
	res := bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n"))
	if len(res) != len(lines) {
		t.Fatalf("perl printed %d lines for %d", len(res), len(lines))
	}
	for i, l := range lines {
		if got := MB2MDDateString(string(l) + "\n"); got != string(res[i]) {
			t.Errorf("%q: go %q, perl %q", l, got, res[i])
		}
	}
}

// With FromKnown the default policy takes the caller's parse of the From_ line (and its
// "did not parse" verdict) instead of parsing the line again.
func TestResolveFromKnown(t *testing.T) {
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	p := Policy{Now: now, Loc: time.UTC}
	line := []byte("From a@b Sat Jan  3 01:05:34 1996")
	given := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	if got, src := p.Resolve(Inputs{FromLine: line, FromKnown: true, FromTime: given, FromOK: true}); !got.Equal(given) || src != FromLine {
		t.Errorf("known date: %v from %v, want %v from the From_ line", got, src, given)
	}
	mtime := time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)
	if got, src := p.Resolve(Inputs{FromLine: line, FromKnown: true, FromOK: false, FileMTime: mtime}); src != FileMTime || !got.Equal(mtime) {
		t.Errorf("known unparseable: %v from %v, want the file mtime", got, src)
	}
	if got, src := p.Resolve(Inputs{FromLine: line}); src != FromLine || got.Year() != 1996 {
		t.Errorf("unknown: %v from %v, want the line's own date", got, src)
	}
}
