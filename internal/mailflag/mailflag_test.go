package mailflag

import (
	"reflect"
	"slices"
	"strconv"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		headers []Header
		info    string
		subdir  string
		client  bool
		kw      []string
	}{
		{"no headers", nil, "", "new", false, nil},
		{"status RO", []Header{{"Status", "RO"}}, "S", "cur", false, nil},
		{"status R only", []Header{{"Status", "R"}}, "S", "cur", false, nil},
		{"status O", []Header{{"Status", "O"}}, "", "cur", false, nil},
		{"lower-case name", []Header{{"status", "RO"}}, "S", "cur", false, nil},
		{"lower-case letters ignored", []Header{{"Status", "ro"}}, "", "new", false, nil},
		{"x-status all", []Header{{"Status", "RO"}, {"X-Status", "ADFT"}}, "DFRST", "cur", false, nil},
		{"x-status draft", []Header{{"X-Status", "T"}}, "D", "cur", false, nil},
		{"x-status deleted", []Header{{"X-Status", "D"}}, "T", "cur", false, nil},
		{"mozilla read", []Header{{"X-Mozilla-Status", "0001"}}, "S", "cur", true, nil},
		{"mozilla replied", []Header{{"X-Mozilla-Status", "0003"}}, "RS", "cur", true, nil},
		{"mozilla deleted", []Header{{"X-Mozilla-Status", "0008"}}, "T", "cur", true, nil},
		{"mozilla marked ignored", []Header{{"X-Mozilla-Status", "0004"}}, "", "new", false, nil},
		{"mozilla garbage", []Header{{"X-Mozilla-Status", "zz"}}, "", "new", false, nil},
		{"mozilla same as status", []Header{{"Status", "RO"}, {"X-Mozilla-Status", "0001"}}, "S", "cur", false, nil},
		{"evolution seen", []Header{{"X-Evolution", "00000001-0010"}}, "S", "cur", true, nil},
		{"evolution many", []Header{{"X-Evolution", "00000001-0019"}}, "FRS", "cur", true, nil},
		{"evolution draft", []Header{{"X-Evolution", "00000001-0004"}}, "D", "cur", true, nil},
		{"evolution bad", []Header{{"X-Evolution", "0001-0010"}}, "", "new", false, nil},
		{"keywords", []Header{{"X-Keywords", "$Label1 work,work  todo"}}, "", "cur", false, []string{"$Label1", "work", "todo"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := Parse(tt.headers)
			if got := f.Info(); got != tt.info {
				t.Errorf("Info() = %q, want %q", got, tt.info)
			}
			if got := f.Subdir(); got != tt.subdir {
				t.Errorf("Subdir() = %q, want %q", got, tt.subdir)
			}
			if f.FromClientHeaders != tt.client {
				t.Errorf("FromClientHeaders = %v, want %v", f.FromClientHeaders, tt.client)
			}
			if !reflect.DeepEqual(f.Keywords, tt.kw) {
				t.Errorf("Keywords = %q, want %q", f.Keywords, tt.kw)
			}
		})
	}
}

func TestInfoWithKeywords(t *testing.T) {
	f := Parse([]Header{{"Status", "RO"}, {"X-Keywords", "b a"}})
	got := f.InfoWithKeywords(map[string]byte{"a": 'a', "b": 'b'})
	if got != "Sab" {
		t.Fatalf("got %q, want %q", got, "Sab")
	}
}

// The golden results of mb2md 3.20's case 02-status (docs/mb2md-3.20.md §5.1).
func TestCompat(t *testing.T) {
	tests := []struct {
		lines []string
		want  string
	}{
		{[]string{"Status: RO"}, "S"},
		{[]string{"Status: R"}, "S"},
		{[]string{"Status: O"}, ""},
		{[]string{"Status: RO", "X-Status: A"}, "RS"},
		{[]string{"X-Status: F"}, "F"},
		{[]string{"X-Status: D"}, "T"},
		{[]string{"X-Status: T"}, ""},
		{[]string{"Status: RO", "X-Status: ADFT"}, "FRST"},
		{[]string{"status: RO"}, ""},
		{[]string{"Status:RO"}, ""},
		{[]string{"Status: ro"}, ""},
		{[]string{"X-Mozilla-Status: 0001"}, "S"},
		{[]string{"X-Mozilla-Status: 0003"}, "RS"},
		{[]string{"X-Mozilla-Status: 0008"}, "T"},
		{[]string{"X-Mozilla-Status: 0004"}, ""},
		{[]string{"X-Evolution: 00000001-0010"}, "S"},
		{[]string{"X-Evolution: 00000001-0019"}, "FRS"},
		{[]string{"X-Evolution: 00000001-0004"}, ""},
		{[]string{"Status: U", "X-Status: "}, ""},
	}
	for _, tt := range tests {
		if got := Compat(tt.lines); got != tt.want {
			t.Errorf("Compat(%q) = %q, want %q", tt.lines, got, tt.want)
		}
	}
}

// Info must give the ASCII-sorted letters for every one of the 32 flag combinations, and
// InfoWithKeywords must merge keyword letters into them in order, without allocating when
// a message has no keywords.
func TestInfoEveryCombination(t *testing.T) {
	for i := 0; i < 32; i++ {
		f := Flags{Draft: i&1 != 0, Flagged: i&2 != 0, Answered: i&4 != 0, Seen: i&8 != 0, Deleted: i&16 != 0}
		want := ""
		for bit, l := range "DFRST" {
			if i&(1<<bit) != 0 {
				want += string(l)
			}
		}
		if got := f.Info(); got != want {
			t.Errorf("flags %05b: Info() = %q, want %q", i, got, want)
		}
		f.Keywords = []string{"z", "c", "unknown", "a"}
		letters := map[string]byte{"a": 'a', "c": 'c', "z": 'z'}
		wantKW := want + "acz"
		if got := f.InfoWithKeywords(letters); got != wantKW {
			t.Errorf("flags %05b with keywords: %q, want %q", i, got, wantKW)
		}
	}
	f := Flags{Seen: true, Answered: true}
	if n := testing.AllocsPerRun(100, func() { _ = f.InfoWithKeywords(nil); _ = f.Subdir() }); n != 0 {
		t.Errorf("%v allocations for the flags of a message without keywords, want 0", n)
	}
}

// A message with thousands of keywords (64 X-Keywords fields of 8 KiB) keeps each once, in
// order of first appearance, and is parsed quickly (a map takes over from the linear search).
func TestParseManyKeywords(t *testing.T) {
	var hs []Header
	var want []string
	seen := map[string]bool{}
	for f := 0; f < 64; f++ {
		var v []byte
		for k := 0; len(v) < 8000; k++ {
			kw := "k" + strconv.Itoa(f*1000+k)
			if k%2 == 1 {
				kw = "k" + strconv.Itoa(k) // repeated across fields
			}
			if !seen[kw] {
				seen[kw] = true
				want = append(want, kw)
			}
			v = append(v, kw...)
			v = append(v, ' ')
		}
		hs = append(hs, Header{"X-Keywords", string(v)})
	}
	got := Parse(hs).Keywords
	if !slices.Equal(got, want) {
		t.Fatalf("got %d keywords, want %d (first difference near %v)", len(got), len(want), got[:min(5, len(got))])
	}
}
