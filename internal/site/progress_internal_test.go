package site

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// The filter takes progress lines out of a child's output, whatever the write boundaries,
// and passes everything else on unchanged; malformed progress lines are dropped.
func TestProgressFilter(t *testing.T) {
	var out bytes.Buffer
	var got []string
	f := &progressFilter{next: &out, fn: func(m int, b int64) { got = append(got, fmt.Sprintf("%d/%d", m, b)) }}
	in := "warning: one\n" + progressMarker + "3 100\n" + progressMarker + "bad\npartial line\n" + progressMarker + "5 200\ntail"
	for i := 0; i < len(in); i += 3 { // small pieces, as a pipe may deliver them
		if _, err := f.Write([]byte(in[i:min(i+3, len(in))])); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Flush(); err != nil {
		t.Fatal(err)
	}
	if out.String() != "warning: one\npartial line\ntail" {
		t.Errorf("passed on %q", out.String())
	}
	if strings.Join(got, " ") != "3/100 5/200" {
		t.Errorf("progress %q", got)
	}
}
