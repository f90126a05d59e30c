package datefix

import (
	"bytes"
	"math/rand"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

var genTokens = []string{
	"Sat", "sat", "Saturday", "Mon", "monday", "Tues", "Wednes", "thur", "Thurs", "den", "Fri",
	"Jan", "jan", "January", "Sept", "sep", "September", "Mar", "March", "May", "Jun", "june", "July", "dec", "Foo",
	"1", "3", "03", "12", "13", "24", "29", "30", "31", "0", "00", "96", "70", "69", "77", "196", "1996", "2001", "1969",
	"1900", "2038", "0069", "20220", "123456", "19960103", "960103", "031",
	"01:05:34", "1:05", "12:00", "23:59:59", "23:59:60", "25:00", "00:00:00", "01:05:34.25", "12:00:00z", "1:2:3:4",
	"12:30pm", "11:59:59a.m.", "10am", "7 pm", "12 am",
	"1996-01-03", "1996-01-03T01:05:34", "1996-01-03t01:05:34.5Z", "1995:01:24T09:08:17.1823213", "1996/01/03", "03/01/1996",
	"1/3/96", "13/01/1996", "3-Jan-96", "21/dec/93", "jan/3/", "dec-25-", "3rd", "st", "th", "nd",
	"GMT", "UT", "UTC", "Z", "z", "u", "ut", "EST", "EDT", "PDT", "JST", "CEST", "MET", "DST", "dst", "METDST", "IST", "SGT",
	"\"GMT\"", "\"PST", "est5edt", "gmt_x", "+0900", "-0800", "-0000", "+09:00", "+9", "-5", "--0400", "+-0400", "gmt+0100",
	"ist+530", "met-1", "+090000", "+000", "+1", "H0500", "(JST)", "(comment (nested))", "(", ")", "remote", "from", "bar",
	"am", "pm", "a.m.", "p.m", "AM", ",", ".", "-", "/", ":", "T", "x", "\x17", "é", "年", "_", "&#43;0000",
}

var genSeps = []string{" ", " ", " ", "  ", ", ", ",", "", "\t", "-", "/", ".", ". "}

func genStrings(n int, seed int64) []string {
	r := rand.New(rand.NewSource(seed))
	out := make([]string, 0, n)
	for len(out) < n {
		k := 1 + r.Intn(7)
		var b strings.Builder
		for i := 0; i < k; i++ {
			if i > 0 || r.Intn(8) == 0 {
				b.WriteString(genSeps[r.Intn(len(genSeps))])
			}
			b.WriteString(genTokens[r.Intn(len(genTokens))])
		}
		out = append(out, b.String())
	}
	return out
}

// TestStr2TimeDifferentialGenerated compares with perl on generated strings
// made of date-ish tokens (deterministic seed), to reach the corners of the
// grammar the real-world corpus does not.
func TestStr2TimeDifferentialGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test against perl skipped in -short mode")
	}
	if err := exec.Command("perl", "-MDate::Parse", "-e", "1").Run(); err != nil {
		t.Skip("perl with Date::Parse (libtimedate-perl) not installed")
	}
	if _, err := exec.LookPath("faketime"); err != nil {
		t.Skip("faketime not installed")
	}
	n := 20000
	if s := os.Getenv("DATEFIX_GEN_N"); s != "" {
		n = int(mustAtoi(t, s))
	}
	strs := genStrings(n, 1)
	input := []byte(strings.Join(strs, "\n") + "\n")
	for _, zone := range []string{"UTC", "America/New_York"} {
		loc := mustLoc(t, zone)
		fake := "2026-11-27 12:00:00"
		now, _ := time.ParseInLocation("2006-01-02 15:04:05", fake, loc)
		cmd := exec.Command("faketime", fake, "perl", "-MDate::Parse", "-e", perlScript)
		cmd.Env = append(os.Environ(), "TZ="+zone, "LC_ALL=C")
		cmd.Stdin = bytes.NewReader(input)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("perl: %v", err)
		}
		res := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		if len(res) != len(strs) {
			t.Fatalf("perl printed %d results for %d strings", len(res), len(strs))
		}
		bad, defined := 0, 0
		for i, s := range strs {
			if res[i] != "undef" {
				defined++
			}
			if got := perlString(s, now, loc); got != res[i] {
				bad++
				if bad <= 40 {
					t.Errorf("TZ=%s %q: go %s, perl %s", zone, s, got, res[i])
				}
			}
		}
		t.Logf("TZ=%s: %d/%d agree (%d defined in perl)", zone, len(strs)-bad, len(strs), defined)
	}
}
