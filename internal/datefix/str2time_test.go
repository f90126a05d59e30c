package datefix

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var specZones = []string{"UTC", "Asia/Tokyo", "America/New_York"}

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("zone %s not available: %v", name, err)
	}
	return loc
}

// clock is the instant the spec's table was made at: 2026-11-27 in UTC and
// Tokyo, still 2026-11-26 in New York (row 57, a time without a date, shows
// that).
func clock(*time.Location) time.Time { return time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC) }

func perlString(s string, now time.Time, loc *time.Location) string {
	r, ok := str2time(s, now, loc)
	if !ok {
		return "undef"
	}
	return r.String()
}

// Spec §8.5: input, TZ=UTC, TZ=Asia/Tokyo, TZ=America/New_York.
var spec85 = []struct {
	n       int
	in      string
	utc     string
	tokyo   string
	newYork string
}{
	{1, "Sat Jan  3 01:05:34 1996", "820631134", "820598734", "820649134"},
	{2, "Sat Jan 3 01:05:34 1996", "820631134", "820598734", "820649134"},
	{3, "Jan  3 01:05:34 1996", "820631134", "820598734", "820649134"},
	{4, "Sat Jan  3 01:05 1996", "820631100", "820598700", "820649100"},
	{5, "Sat Jan  3 1:05:34 1996", "820631134", "820598734", "820649134"},
	{6, "Sat Jan 03 01:05:34 1996", "820631134", "820598734", "820649134"},
	{7, "Sat Jan  3 01:05:34 1996 +0900", "820598734", "820598734", "820598734"},
	{8, "Sat Jan  3 01:05:34 CET 1996", "820627534", "820627534", "820627534"},
	{9, "Wed Jun 21 10:11:12 +0000 2023", "1687342272", "1687342272", "1687342272"},
	{10, "Sat, 03 Jan 1996 01:05:34 +0000", "820631134", "820631134", "820631134"},
	{11, "Sat, 3 Jan 1996 01:05:34 +0900", "820598734", "820598734", "820598734"},
	{12, "Sat, 3 Jan 1996 01:05:34 -0800", "820659934", "820659934", "820659934"},
	{13, "Sat, 3 Jan 1996 01:05:34 -0000", "820631134", "820631134", "820631134"},
	{14, "Sat, 3 Jan 1996 01:05:34 +09:00", "820598734", "820598734", "820598734"},
	{15, "Sat, 3 Jan 1996 01:05:34 +9", "820598734", "820598734", "820598734"},
	{16, "Sat, 3 Jan 1996 01:05:34 JST", "820598734", "820598734", "820598734"},
	{17, "Sat Jan  3 01:05:34 JST 1996", "820598734", "820598734", "820598734"},
	{18, "Sat, 3 Jan 1996 01:05:34 EST", "820649134", "820649134", "820649134"},
	{19, "Sat, 3 Jan 1996 01:05:34 EDT", "820645534", "820645534", "820645534"},
	{20, "Wed, 3 Jul 1996 01:05:34 PDT", "836381134", "836381134", "836381134"},
	{21, "Sat, 3 Jan 1996 01:05:34 UT", "820631134", "820631134", "820631134"},
	{22, "Sat, 3 Jan 1996 01:05:34 GMT", "820631134", "820631134", "820631134"},
	{23, "Sat, 3 Jan 1996 01:05:34 Z", "820631134", "820631134", "820631134"},
	{24, "Sat, 3 Jan 1996 01:05:34 \"GMT\"", "820631134", "820631134", "820631134"},
	{25, "Sat, 3 Jan 1996 01:05:34 CEST", "820623934", "820623934", "820623934"},
	{26, "Sat, 3 Jan 1996 01:05:34 MET DST", "820623934", "820623934", "820623934"},
	{27, "Sat, 3 Jan 1996 01:05:34 IST", "undef", "undef", "undef"},
	{28, "Sat, 3 Jan 1996 01:05:34 SGT", "undef", "undef", "undef"},
	{29, "Sat, 3 Jan 1996 01:05:34 +0900 (JST)", "820598734", "820598734", "820598734"},
	{30, "Sat, 3 Jan 1996 01:05:34 (JST)", "820631134", "820598734", "820649134"},
	{31, "Sat, 3 Jan 1996 01:05:34 +0000 (Coordinated Universal Time)", "820631134", "820631134", "820631134"},
	{32, "Saturday, 03-Jan-96 01:05:34 GMT", "820631134", "820631134", "820631134"},
	{33, "Sat, 3 January 1996 01:05:34 +0000", "820631134", "820631134", "820631134"},
	{34, "Sat, 3 Jan 1996 01:05:34.25 +0000", "820631134", "820631134", "820631134"},
	{35, "Sat Jan  3 01:05:34 PM 1996", "820674334", "820641934", "820692334"},
	{36, "Sat Jan  3 12:05:34 am 1996", "820627534", "820595134", "820645534"},
	{37, "Sat, 3 Jan 96 01:05:34 +0000", "820631134", "820631134", "820631134"},
	{38, "Sat, 3 Jan 70 01:05:34 +0000", "3155936734", "3155936734", "3155936734"},
	{39, "Sat, 3 Jan 76 01:05:34 +0000", "3345239134", "3345239134", "3345239134"},
	{40, "Sat, 3 Jan 77 01:05:34 +0000", "221101534", "221101534", "221101534"},
	{41, "Sat, 3 Jan 00 01:05:34 +0000", "946861534", "946861534", "946861534"},
	{42, "Sat, 3 Jan 196 01:05:34 +0000", "1767402334", "1767402334", "1767402334"},
	{43, "1996-01-03 01:05:34", "820631134", "820598734", "820649134"},
	{44, "1996-01-03T01:05:34Z", "820631134", "820631134", "820631134"},
	{45, "1996-01-03T01:05:34+09:00", "820598734", "820598734", "820598734"},
	{46, "1996-01-03T01:05:34.25Z", "820631134.25", "820631134.25", "820631134.25"},
	{47, "1996-01-03 01:05:34 +0900", "820598734", "820598734", "820598734"},
	{48, "19960103T010534", "820631134", "820598734", "820649134"},
	{49, "1996-01-03", "820627200", "820594800", "820645200"},
	{50, "1996/01/03 01:05:34", "820631134", "820598734", "820649134"},
	{51, "03/01/1996 01:05:34", "825642334", "825609934", "825660334"},
	{52, "1/3/96", "820627200", "820594800", "820645200"},
	{53, "3-Jan-96", "820627200", "820594800", "820645200"},
	{54, "21 dec 17:05", "1766336700", "1766304300", "1766354700"},
	{55, "Jan 3", "1767398400", "1767366000", "1767416400"},
	{56, "Dec 3 01:05:34", "1764723934", "1764691534", "1764741934"},
	{57, "01:05:34", "1795741534", "1795709134", "1795673134"},
	{58, "Thu Jan  1 00:00:00 1970", "0", "-32400", "18000"},
	{59, "Wed Dec 31 23:59:59 1969", "undef", "-32401", "17999"},
	{60, "Wed, 31 Dec 1969 23:59:59 +0000", "undef", "undef", "undef"},
	{61, "Wed, 31 Dec 1969 23:59:59 +0100", "undef", "undef", "undef"},
	{62, "Sat, 3 Jan 1996 23:59:60 +0000", "undef", "undef", "undef"},
	{63, "13/01/1996", "undef", "undef", "undef"},
	{64, "Mon Jan  1 00:00:00 1900", "-2208988800", "-2209021200", "-2208970800"},
	{65, "Fri Dec 13 20:45:52 1901", "-2147483648", "-2147516048", "-2147465648"},
	{66, "Tue Jan 19 03:14:08 2038", "2147483648", "2147451248", "2147501648"},
	{67, "Sat Jan  3 01:05:34 2099", "4071085534", "4071053134", "4071103534"},
	{68, "Sun Apr  7 02:30:00 1996", "828844200", "828811800", "828862200"},
	{69, "Sun Oct 27 01:30:00 1996", "846379800", "846347400", "846394200"},
	{70, "Sat Jan  3 01:05:34 1996 remote from bar", "undef", "undef", "undef"},
	{71, "Mon Foo 99 12:34:56 2001", "undef", "undef", "undef"},
	{72, "Fri Feb 30 01:05:34 1996", "undef", "undef", "undef"},
	{73, "Sat Jan  3 25:05:34 1996", "undef", "undef", "undef"},
	{74, "Sat Jan  3 01:60:34 1996", "undef", "undef", "undef"},
	{75, "bar 12:34", "undef", "undef", "undef"},
	{76, "", "undef", "undef", "undef"},
	{77, "garbage", "undef", "undef", "undef"},
}

func TestStr2TimeSpecTable(t *testing.T) {
	if len(spec85) != 77 {
		t.Fatalf("table has %d rows, want 77", len(spec85))
	}
	for zi, zone := range specZones {
		loc := mustLoc(t, zone)
		for _, c := range spec85 {
			want := []string{c.utc, c.tokyo, c.newYork}[zi]
			if got := perlString(c.in, clock(loc), loc); got != want {
				t.Errorf("#%d %q TZ=%s: got %s, want %s", c.n, c.in, zone, got, want)
			}
			tm, ok := Str2Time(c.in, clock(loc), loc)
			if (want == "undef") == ok {
				t.Errorf("#%d %q TZ=%s: Str2Time ok=%v, want %s", c.n, c.in, zone, ok, want)
			}
			if ok && want != "undef" && !strings.Contains(want, ".") && tm.Unix() != mustAtoi(t, want) {
				t.Errorf("#%d %q TZ=%s: Str2Time = %d, want %s", c.n, c.in, zone, tm.Unix(), want)
			}
		}
	}
	// the fraction is kept as nanoseconds
	tm, ok := Str2Time("1996-01-03T01:05:34.25Z", clock(time.UTC), time.UTC)
	if !ok || tm.Unix() != 820631134 || tm.Nanosecond() != 250000000 {
		t.Errorf("fraction: got %v %v", tm, ok)
	}
}

func mustAtoi(t *testing.T, s string) int64 {
	t.Helper()
	var v int64
	neg := strings.HasPrefix(s, "-")
	for _, c := range strings.TrimPrefix(s, "-") {
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v
}

// findShared locates the shared directory next to the repository root.
func findShared(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Skipf("no working directory: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			shared := filepath.Join(filepath.Dir(dir), "shared")
			if st, err := os.Stat(shared); err == nil && st.IsDir() {
				return shared
			}
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	t.Skip("shared directory (corpus) not found next to the repository root")
	return ""
}

// perlScript prints str2time of every stdin line (bytes, "\n" removed).
const perlScript = `binmode STDIN; binmode STDOUT; $| = 0;
while (defined(my $l = <STDIN>)) { chomp $l; my $t = str2time($l); print defined($t) ? $t : "undef", "\n"; }`

func TestStr2TimeDifferentialPerl(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test against perl skipped in -short mode")
	}
	shared := findShared(t)
	data, err := os.ReadFile(filepath.Join(shared, "corpus", "dates", "dates.txt"))
	if err != nil {
		t.Skipf("dates corpus not readable: %v", err)
	}
	if _, err := exec.LookPath("perl"); err != nil {
		t.Skip("perl not installed")
	}
	if err := exec.Command("perl", "-MDate::Parse", "-e", "1").Run(); err != nil {
		t.Skip("perl module Date::Parse (libtimedate-perl) not installed")
	}
	if _, err := exec.LookPath("faketime"); err != nil {
		t.Skip("faketime not installed")
	}
	if out, err := exec.Command("faketime", "2031-06-15 12:00:00", "date", "+%Y-%m-%d").Output(); err != nil || strings.TrimSpace(string(out)) != "2031-06-15" {
		t.Skipf("faketime does not work here (%v, %q)", err, out)
	}
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	clocks := []struct{ label, fake string }{
		{"2026-11-27", "2026-11-27 12:00:00"},
		{"2031-06-15", "2031-06-15 12:00:00"},
	}
	for _, zone := range specZones {
		loc := mustLoc(t, zone)
		for _, ck := range clocks {
			now, err := time.ParseInLocation("2006-01-02 15:04:05", ck.fake, loc)
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("faketime", ck.fake, "perl", "-MDate::Parse", "-e", perlScript)
			cmd.Env = append(os.Environ(), "TZ="+zone, "LC_ALL=C")
			cmd.Stdin = bytes.NewReader(data)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("perl under TZ=%s clock %s: %v: %s", zone, ck.label, err, stderr.String())
			}
			var results []string
			sc := bufio.NewScanner(bytes.NewReader(out))
			for sc.Scan() {
				results = append(results, sc.Text())
			}
			if len(results) != len(lines) {
				t.Fatalf("TZ=%s clock %s: perl printed %d results for %d lines", zone, ck.label, len(results), len(lines))
			}
			agree := 0
			for i, l := range lines {
				got := perlString(string(l), now, loc)
				if got == results[i] {
					agree++
					continue
				}
				t.Errorf("TZ=%s clock %s line %d %q: go %s, perl %s", zone, ck.label, i+1, l, got, results[i])
			}
			t.Logf("TZ=%s clock %s: %d/%d lines agree", zone, ck.label, agree, len(lines))
		}
	}
}
