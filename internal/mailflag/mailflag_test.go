package mailflag

import (
	"reflect"
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
