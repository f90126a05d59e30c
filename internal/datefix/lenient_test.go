package datefix

import (
	"strings"
	"testing"
	"time"
)

func TestParseLenient(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	cases := []struct {
		in   string
		loc  *time.Location
		ok   bool
		want int64
	}{
		// what Str2Time reads
		{"Sat, 3 Jan 1996 01:05:34 +0900", time.UTC, true, 820598734},
		{"Sat Jan  3 01:05:34 1996", ny, true, 820649134},
		{"1996-01-03T01:05:34Z", time.UTC, true, 820631134},
		{"1/3/96", time.UTC, true, 820627200},
		{"21 dec 17:05", time.UTC, true, 1766336700},
		// zones Time::Zone does not know
		{"Sat, 3 Jan 1996 01:05:34 IST", time.UTC, true, 820631134 - 19800},
		{"Sat, 3 Jan 1996 01:05:34 SGT", time.UTC, true, 820631134 - 8*3600},
		{"Sat, 3 Jan 1996 01:05:34 PHT", time.UTC, true, 820631134 - 8*3600},
		{"Sat, 3 Jan 1996 01:05:34 WIB", time.UTC, true, 820631134 - 7*3600},
		{"Sat, 3 Jan 1996 01:05:34 HKST", time.UTC, true, 820631134 - 9*3600},
		{"Sat, 3 Jan 1996 01:05:34 NZST", time.UTC, true, 820631134 - 12*3600},
		{"3 Jan 96 01:05 IST", time.UTC, true, 820631100 - 19800},
		{"Mon, 11 May 2005 17:52:54 IST+530", time.UTC, true, 1115833974 - 19800},
		// comments, a zone named only in a comment, trailing garbage
		{"Sat, 3 Jan 1996 01:05:34 (JST)", ny, true, 820598734},
		{"Thu, 29 Apr 2012 23:34:45 +0900 (JST)\t(envelope-from MAILER-DAEMON)", time.UTC, true, 1335710085},
		{"Sat Jan  3 01:05:34 1996 remote from bar", time.UTC, true, 820631134},
		{"Thu, 29 Apr 2012 23:45:10     +0900  id 0EFECD52.4D02EDDF.0000C65A", time.UTC, true, 1335710710},
		{"RANDOM_Wed, 21 Sep 2016 22:42:07 +0300", time.UTC, true, 1474486927},
		{"Wed, 23 May 2018 08:15:48 &#43;0000", time.UTC, true, 1527063348},
		{"Mon, 11 May 2005 17:52:54 \x17dR", time.UTC, true, 1115833974},
		{"Thu,29 Apr 2012 23:34:45 +0900", time.UTC, true, 1335710085},
		{"Wen, 31 May 2006 09:10:36 -0700", time.UTC, true, 1149091836},
		{"Sun Aug  7 11:40:37 2022 extra info", time.UTC, true, 1659872437},
		{"at domain.com  Wed Dec  1 08:26:40 2010", time.UTC, true, 1291192000},
		// obsolete RFC 822 forms
		{"Saturday, 03-Jan-96 01:05:34 GMT", time.UTC, true, 820631134},
		{"3 Jan 103 01:05:34 +0000", time.UTC, true, 1041555934},
		{"Sat, 3 Jan 1996 01:05 UT", time.UTC, true, 820631100},
		{"Sat, 3 Jan 1996 01:05:34 -0000", time.UTC, true, 820631134},
		{"Wednesday, September 30, 1998 6:55 AM", time.UTC, true, 907138500},
		{"Thursday, Apr 29, 2008 2:45:56 PM", time.UTC, true, 1209480356},
		// not dates
		{"garbage", time.UTC, false, 0},
		{"", time.UTC, false, 0},
		{"Fri Jan  2 xx:14 +0000", time.UTC, false, 0},
		{"Sat, 3 Jan 1996 25:05:34 +0000", time.UTC, false, 0},
		{"Fri, 30 Feb 1996 01:05:34 +0000", time.UTC, false, 0},
	}
	for _, c := range cases {
		tm, ok := ParseLenient(c.in, clock(c.loc), c.loc)
		if ok != c.ok || (ok && tm.Unix() != c.want) {
			t.Errorf("ParseLenient(%q) in %s = %v %d (%s), want %v %d", c.in, c.loc, ok, tm.Unix(), tm.UTC(), c.ok, c.want)
		}
	}
}

// ParseLenient accepts everything Str2Time accepts.
func TestParseLenientCoversStr2Time(t *testing.T) {
	for _, c := range spec85 {
		if c.utc == "undef" {
			continue
		}
		if _, ok := ParseLenient(c.in, clock(nil), time.UTC); !ok {
			t.Errorf("ParseLenient rejects %q which Str2Time reads", c.in)
		}
	}
	for _, s := range genStrings(5000, 2) {
		if _, ok := Str2Time(s, clock(nil), time.UTC); ok && !strings.ContainsAny(s, "\x17") {
			if _, ok := ParseLenient(s, clock(nil), time.UTC); !ok {
				t.Errorf("ParseLenient rejects %q which Str2Time reads", s)
			}
		}
	}
}

func TestResolve(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	mtime := time.Unix(1700000000, 0)
	good := []byte("From a@b Sat Jan  3 01:05:34 1996")
	named := []byte("From a@b Sat Jan  3 01:05:34 PST 1996")
	bad := []byte("From a@b Mon Foo 99 12:34:56 2001")
	old := []byte("From a@b Wed Dec 31 23:00:00 1969")
	future := []byte("From a@b Sat Jan  3 01:05:34 2099")
	recv := "from x by y; Sat, 3 Jan 1998 01:05:34 +0000"
	date := "Sat, 3 Jan 1997 01:05:34 +0000"
	cases := []struct {
		name   string
		p      Policy
		in     Inputs
		want   int64
		source Source
	}{
		{"from line", Policy{Now: now}, Inputs{FromLine: good, Received: recv, Date: date, FileMTime: mtime}, 820631134, FromLine},
		{"dovecot ignores named zone", Policy{Now: now}, Inputs{FromLine: named}, 820631134, FromLine},
		{"compat honours named zone", Policy{Now: now, Compat: true}, Inputs{FromLine: named}, 820659934, FromLine},
		{"bad from, received", Policy{Now: now}, Inputs{FromLine: bad, Received: recv, Date: date, FileMTime: mtime}, 883789534, Received},
		{"bad from, no received", Policy{Now: now}, Inputs{FromLine: bad, Received: "from x by y", Date: date, FileMTime: mtime}, 852253534, DateHeader},
		{"nothing", Policy{Now: now}, Inputs{FromLine: bad, Date: "soon", FileMTime: mtime}, 1700000000, FileMTime},
		{"pre-1970 unusable", Policy{Now: now}, Inputs{FromLine: old, Date: date}, 852253534, DateHeader},
		{"pre-1970 in compat", Policy{Now: now, Compat: true}, Inputs{FromLine: old, Date: date}, -3600, FromLine},
		{"future unusable", Policy{Now: now}, Inputs{FromLine: future, FileMTime: mtime}, 1700000000, FileMTime},
		{"compat undef falls through", Policy{Now: now, Compat: true}, Inputs{FromLine: bad, Received: recv}, 883789534, Received},
		{"compat strict header", Policy{Now: now, Compat: true}, Inputs{Date: "Sat, 3 Jan 1996 01:05:34 IST", FileMTime: mtime}, 1700000000, FileMTime},
		{"lenient header", Policy{Now: now}, Inputs{Date: "Sat, 3 Jan 1996 01:05:34 IST", FileMTime: mtime}, 820631134 - 19800, DateHeader},
	}
	for _, c := range cases {
		tm, src := c.p.Resolve(c.in)
		if tm.Unix() != c.want || src != c.source {
			t.Errorf("%s: got %d %s, want %d %s", c.name, tm.Unix(), src, c.want, c.source)
		}
	}
	names := map[Source]string{FromLine: "from_line", Received: "received", DateHeader: "date_header", FileMTime: "file_mtime"}
	for s, n := range names {
		if s.String() != n {
			t.Errorf("%d.String() = %q, want %q", s, s.String(), n)
		}
	}
}
