package maildir

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEncodeMUTF7(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"Sent", "Sent"},
		{"with space", "with space"},
		{"&", "&-"},
		{"R&D", "R&-D"},
		{"Tom &- Jerry", "Tom &-- Jerry"},
		{"Entwürfe", "Entw&APw-rfe"},
		{"Ärger", "&AMQ-rger"},
		{"日本語", "&ZeVnLIqe-"},
		{"送信済み", "&kAFP4W4IMH8-"},
		{"ゴミ箱", "&MLQw33ux-"},
		{"台北", "&U,BTFw-"},
		{"~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"}, // RFC 3501 5.1.3
		{"😀", "&2D3eAA-"},   // surrogate pair
		{"a\tb", "a&AAk-b"}, // control characters are encoded too
		{"ü&日", "&APw-&-&ZeU-"},
		// invalid UTF-8: each bad byte is read as Latin-1
		{"Entw\xfcrfe", "Entw&APw-rfe"},
		{"x\xff", "x&AP8-"},
		{"\xe6\x97", "&AOYAlw-"}, // truncated UTF-8 sequence: two Latin-1 characters
	}
	for _, tt := range tests {
		if got := EncodeMUTF7(tt.in); got != tt.want {
			t.Errorf("EncodeMUTF7(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDecodeMUTF7RoundTrip(t *testing.T) {
	for _, s := range []string{"", "Sent", "&", "a&b&&", "Entwürfe", "日本語の受信箱", "送信済み/ゴミ箱", "😀 emoji 🇯🇵", "mixed Ärger & 日本 x", "\x01\x7f"} {
		enc := EncodeMUTF7(s)
		dec, err := DecodeMUTF7(enc)
		if err != nil {
			t.Errorf("DecodeMUTF7(%q) (from %q): %v", enc, s, err)
			continue
		}
		if dec != s {
			t.Errorf("round trip %q → %q → %q", s, enc, dec)
		}
		if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r > 0x7e }) != IsMUTF7(enc) {
			t.Errorf("IsMUTF7(%q) = %v for the encoding of %q", enc, IsMUTF7(enc), s)
		}
	}
}

func TestDecodeMUTF7Invalid(t *testing.T) {
	for _, s := range []string{
		"&AMQ",      // unterminated
		"Entwürfe",  // 8-bit
		"a\tb",      // control character
		"&A-",       // 6 bits: no whole UTF-16 unit
		"&AMR-",     // non-zero padding bits
		"&AMQA-",    // an extra character
		"&2D0-",     // lone high surrogate
		"&3gA-",     // lone low surrogate
		"&AGE-",     // encodes printable ASCII "a"
		"&AM/-",     // '/' is not in modified base64
		"AT&T",      // '&' not closed
		"&ZeVnLIqe", // no closing '-'
	} {
		if got, err := DecodeMUTF7(s); err == nil {
			t.Errorf("DecodeMUTF7(%q) = %q, want an error", s, got)
		} else if !strings.Contains(err.Error(), "decode mailbox name") {
			t.Errorf("DecodeMUTF7(%q): error %q does not say what failed", s, err)
		}
		if IsMUTF7(s) {
			t.Errorf("IsMUTF7(%q) = true for invalid modified UTF-7", s)
		}
	}
}

func TestIsMUTF7(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{"&AMQ-rger", true},
		{"&ZeVnLIqe-", true},
		{"a&-b&APw-", true},
		{"plain", false},
		{"a&-b", false}, // only "&-": not counted as already encoded
		{"Ärger", false},
		{"AT&T", false},
	} {
		if got := IsMUTF7(tt.in); got != tt.want {
			t.Errorf("IsMUTF7(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestInvalidUTF8Latin1 documents the choice for invalid UTF-8: the bytes are read as Latin-1,
// so the result decodes to the Latin-1 reading of the input (nothing is dropped).
func TestInvalidUTF8Latin1(t *testing.T) {
	for _, s := range []string{"Entw\xfcrfe", "\xff\xfe", "a\xc3", "\xed\xa0\x80 surrogate", "ok \xe6\x97\xa5 \x80"} {
		enc := EncodeMUTF7(s)
		dec, err := DecodeMUTF7(enc)
		if err != nil {
			t.Fatalf("DecodeMUTF7(EncodeMUTF7(%q) = %q): %v", s, enc, err)
		}
		if want := latin1Fix(s); dec != want || !utf8.ValidString(dec) {
			t.Errorf("%q → %q → %q, want %q", s, enc, dec, want)
		}
		if utf8.RuneCountInString(dec) < utf8.RuneCountInString(s) {
			t.Errorf("%q lost characters: %q", s, dec)
		}
	}
}

func FuzzMUTF7(f *testing.F) {
	for _, s := range []string{"", "Sent", "&", "日本語", "Entw\xfcrfe", "&AMQ-rger", "😀", "a&-b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		enc := EncodeMUTF7(s)
		for i := 0; i < len(enc); i++ {
			if enc[i] < 0x20 || enc[i] > 0x7e {
				t.Fatalf("EncodeMUTF7(%q) = %q: not printable ASCII", s, enc)
			}
		}
		dec, err := DecodeMUTF7(enc)
		if err != nil {
			t.Fatalf("DecodeMUTF7(EncodeMUTF7(%q) = %q): %v", s, enc, err)
		}
		if want := latin1Fix(s); dec != want {
			t.Fatalf("round trip %q → %q → %q, want %q", s, enc, dec, want)
		}
		if d, err := DecodeMUTF7(s); err == nil && EncodeMUTF7(d) != s && IsMUTF7(s) {
			// a valid name re-encodes to itself unless it has adjacent sections, which we
			// merge ("&AMQ-&AMQ-" → "&AMQAxA-")
			if !strings.Contains(s, "-&") {
				t.Fatalf("valid %q decodes to %q which encodes to %q", s, d, EncodeMUTF7(d))
			}
		}
	})
}
