package datefix

import (
	"testing"
	"time"
	"unicode/utf8"
)

func FuzzStr2Time(f *testing.F) {
	for _, c := range spec85 {
		f.Add(c.in)
	}
	for _, s := range genStrings(200, 3) {
		f.Add(s)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		ny = time.UTC
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 4096 {
			return
		}
		start := time.Now()
		t1, ok1 := Str2Time(s, clock(nil), ny)
		t2, ok2 := Str2Time(s, clock(nil), ny)
		if ok1 != ok2 || !t1.Equal(t2) {
			t.Fatalf("not deterministic: %q", s)
		}
		if ok1 && t1.Nanosecond() >= 1e9 {
			t.Fatalf("bad nanoseconds for %q", s)
		}
		ParseLenient(s, clock(nil), ny)
		if d := time.Since(start); d > 200*time.Millisecond {
			t.Fatalf("%d bytes took %v", len(s), d)
		}
		_ = utf8.ValidString(s)
	})
}

func FuzzDovecotFromDate(f *testing.F) {
	f.Add([]byte("From user@domain Thu Nov 29 23:33:09 1973 +0200"))
	f.Add([]byte(`From "user name"@domain  Fri Jan  2 10:13:52 UTC 1970 +0000`))
	f.Add([]byte("From user Fri, 2 Jan 1970 10:14 +0000"))
	f.Add([]byte("From MAILER-DAEMON Sun Aug  7 11:40:37 20220 extra info"))
	f.Add([]byte("From a@b Sat ???  1 00:00:00 1970"))
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		ny = time.UTC
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		tm, sender, ok := DovecotFromDate(line, ny)
		if !ok {
			return
		}
		if len(sender) > len(line)-5 {
			t.Fatalf("sender longer than the line: %q", line)
		}
		if tm.Year() < 0 || tm.Year() > 10000 {
			t.Fatalf("year %d out of range for %q", tm.Year(), line)
		}
	})
}

var benchDates = []string{
	"Sat Jan  3 01:05:34 1996",
	"Tue Jul 16 12:11:35 2002",
	"Mon May 23 17:52:55 2005",
	"Fri Dec 28 23:28:09 2001",
}

func BenchmarkStr2Time(b *testing.B) {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		b.Skip(err)
	}
	now := clock(nil)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, ok := Str2Time(benchDates[i&3], now, loc); !ok {
			b.Fatal("parse failed")
		}
	}
}

func BenchmarkStr2TimeUTC(b *testing.B) {
	now := clock(nil)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, ok := Str2Time(benchDates[i&3], now, time.UTC); !ok {
			b.Fatal("parse failed")
		}
	}
}

func BenchmarkDovecotFromDate(b *testing.B) {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		b.Skip(err)
	}
	lines := make([][]byte, len(benchDates))
	for i, d := range benchDates {
		lines[i] = []byte("From user@example.com " + d)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, _, ok := DovecotFromDate(lines[i&3], loc); !ok {
			b.Fatal("parse failed")
		}
	}
}

func BenchmarkParseLenient(b *testing.B) {
	now := clock(nil)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, ok := ParseLenient("Thu, 29 Apr 2012 23:34:45 +0900 (JST)", now, time.UTC); !ok {
			b.Fatal("parse failed")
		}
	}
}

// The fast path must give what the general scanners give.
func TestFastAsctimeMatchesGeneral(t *testing.T) {
	inputs := []string{"Sat Jan  3 01:05:34 1996", "Jan  3 01:05:34 1996", "SAT JAN 03 1:05 1996",
		"Sun Apr 13 12:00:00 0096", "Mon Aug 31 23:59:59 1900", "Fri May 9 9:05:34 2001", "Wed Dec 31 23:59:59 1969",
		"Sat Foo  3 01:05:34 1996", "Xyz Jan  3 01:05:34 1996", "Sat Jan  3 01:05:34 1996 ", "Sat Jan 123 01:05:34 1996",
		"Sat Jan  3 01:05:3 1996", "Tue Sep 30 12:00 2031"}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		ny = time.UTC
	}
	for _, s := range inputs {
		ff, fok := fastAsctime(s)
		gf, gok := strptime(s)
		if fok && (!gok || ff != gf) {
			t.Errorf("%q: fast %+v, general %v %+v", s, ff, gok, gf)
		}
		r1, ok1 := str2time(s, clock(nil), ny)
		if fok {
			r2, ok2 := func() (perlResult, bool) { return str2time(" "+s, clock(nil), ny) }()
			if ok1 != ok2 || r1 != r2 {
				t.Errorf("%q: fast path %v %v, general %v %v", s, ok1, r1, ok2, r2)
			}
		}
	}
}
