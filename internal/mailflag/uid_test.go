package mailflag

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

func TestParseIMAPBase(t *testing.T) {
	for _, tc := range []struct {
		in       string
		v, last  uint32
		kws      []string
		ok       bool
		describe string
	}{
		{"1700000000 0000000010", 1700000000, 10, nil, true, "Dovecot's own form"},
		{"1700000000 0000000010 $Label1 work Junk", 1700000000, 10, []string{"$Label1", "work", "Junk"}, true, "declared keywords"},
		{"42 7", 42, 7, nil, true, "last UID need not be 10 digits"},
		{"42", 42, 0, nil, true, "no last UID"},
		{"42 ", 42, 0, nil, true, "space, no last UID"},
		{"42 \t 7\tkw", 42, 7, []string{"kw"}, true, "tabs after the first space"},
		{"42 7\n\tkw1\n kw2", 42, 7, []string{"kw1", "kw2"}, true, "folded value"},
		{"0 10", 0, 0, nil, false, "UIDVALIDITY 0"},
		{"", 0, 0, nil, false, "empty"},
		{"42\t7", 0, 0, nil, false, "tab right after UIDVALIDITY"},
		{"x42 7", 0, 0, nil, false, "leading garbage"},
		{"42 7x", 0, 0, nil, false, "garbage after last UID"},
		{"42 7 a(b c\\d e]f g%h i*j k\"l m{n ok o\x01p", 42, 7, []string{"ok"}, true, "invalid keywords dropped"},
		{"42 7 Work work WORK other", 42, 7, []string{"Work", "other"}, true, "case-insensitive duplicates"},
		{"42 7 caf\xc3\xa9", 42, 7, nil, true, "8-bit keyword dropped"},
		{"4294967297 1", 1, 1, nil, true, "32-bit wrap like Dovecot's uint32_t"},
	} {
		v, last, kws, ok := ParseIMAPBase(tc.in)
		if v != tc.v || last != tc.last || !slices.Equal(kws, tc.kws) || ok != tc.ok {
			t.Errorf("%s: ParseIMAPBase(%q) = %d, %d, %q, %v; want %d, %d, %q, %v",
				tc.describe, tc.in, v, last, kws, ok, tc.v, tc.last, tc.kws, tc.ok)
		}
	}
	long := "k"
	for len(long) < MaxKeywordLength {
		long += "k"
	}
	_, _, kws, _ := ParseIMAPBase("1 1 " + long + " " + long + "x")
	if !slices.Equal(kws, []string{long}) {
		t.Errorf("keyword length limit: got %q", kws)
	}
}

func TestParseXUID(t *testing.T) {
	for _, tc := range []struct {
		in string
		v  uint32
		ok bool
	}{
		{"17", 17, true},
		{"0000000017", 17, true},
		{"17 \t", 17, true},
		{"17\n ", 17, true},
		{"", 0, false},
		{"0", 0, false},
		{"17x", 0, false},
		{" 17", 0, false},
		{"-1", 0, false},
	} {
		v, ok := ParseXUID(tc.in)
		if v != tc.v || ok != tc.ok {
			t.Errorf("ParseXUID(%q) = %d, %v; want %d, %v", tc.in, v, ok, tc.v, tc.ok)
		}
	}
}

// msg builds the header list of one message: pairs of name, value.
func msg(kv ...string) []Header {
	var h []Header
	for i := 0; i+1 < len(kv); i += 2 {
		h = append(h, Header{kv[i], kv[i+1]})
	}
	return h
}

func assignAll(t *testing.T, a *UIDAssigner, msgs [][]Header) []uint32 {
	t.Helper()
	var uids []uint32
	for i, m := range msgs {
		r, err := a.Next(m, 0)
		if err != nil {
			t.Fatalf("message %d: %v", i+1, err)
		}
		uids = append(uids, r.UID)
	}
	return uids
}

func TestUIDAssignerDovecotExample(t *testing.T) {
	// dovecot.md §3: X-UIDs 5,3,5,99 with last UID 10 became 5,11,12,13
	a := NewUIDAssigner()
	got := assignAll(t, a, [][]Header{
		msg("X-IMAPbase", "1234567890 0000000010", "X-UID", "5"),
		msg("X-UID", "3"),
		msg("X-UID", "5"),
		msg("X-UID", "99"),
	})
	if want := []uint32{5, 11, 12, 13}; !slices.Equal(got, want) {
		t.Fatalf("UIDs %v, want %v", got, want)
	}
	if a.UIDValidity() != 1234567890 || a.NextUID() != 14 {
		t.Errorf("UIDVALIDITY %d next %d, want 1234567890 14", a.UIDValidity(), a.NextUID())
	}
}

func TestUIDAssignerRules(t *testing.T) {
	for _, tc := range []struct {
		name       string
		msgs       [][]Header
		uids       []uint32
		validity   uint32
		next       uint32
		renumbered []bool
	}{
		{
			name:     "no headers: 1..n",
			msgs:     [][]Header{nil, nil, nil},
			uids:     []uint32{1, 2, 3},
			validity: 0, next: 4,
			renumbered: []bool{false, false, false},
		},
		{
			name: "kept with gaps, last UID leaves room",
			msgs: [][]Header{
				msg("X-IMAPbase", "7 0000000100", "X-UID", "10"),
				msg("X-UID", "20"), msg("X-UID", "100"), msg(),
			},
			uids:     []uint32{10, 20, 100, 101},
			validity: 7, next: 102,
			renumbered: []bool{false, false, false, false},
		},
		{
			name: "X-UID = last UID + 1 is kept (Dovecot allows the next UID)",
			msgs: [][]Header{
				msg("X-IMAPbase", "7 5", "X-UID", "5"),
				msg("X-UID", "6"), msg("X-UID", "8"),
			},
			uids:     []uint32{5, 6, 7},
			validity: 7, next: 8,
			renumbered: []bool{false, false, true},
		},
		{
			name: "X-UID before X-IMAPbase in the first message is ignored",
			msgs: [][]Header{
				msg("X-UID", "3", "X-IMAPbase", "7 10"),
				msg("X-UID", "4"),
			},
			uids:     []uint32{11, 12},
			validity: 7, next: 13,
			renumbered: []bool{true, true},
		},
		{
			name: "no X-IMAPbase: X-UIDs only survive when they equal the next number",
			msgs: [][]Header{
				msg("X-UID", "1"), msg("X-UID", "2"), msg("X-UID", "9"), msg("X-UID", "4"),
			},
			uids:     []uint32{1, 2, 3, 4},
			validity: 0, next: 5,
			renumbered: []bool{true, false, true, false},
		},
		{
			name: "X-IMAPbase outside the first message is ignored",
			msgs: [][]Header{
				msg(), msg("X-IMAPbase", "7 100", "X-UID", "50"),
			},
			uids:     []uint32{1, 2},
			validity: 0, next: 3,
			renumbered: []bool{false, true},
		},
		{
			name: "broken X-IMAPbase is ignored",
			msgs: [][]Header{
				msg("X-IMAPbase", "0 100", "X-UID", "50"),
			},
			uids:     []uint32{1},
			validity: 0, next: 2,
			renumbered: []bool{true},
		},
		{
			name: "second X-IMAPbase in the first message is ignored",
			msgs: [][]Header{
				msg("x-imapbase", "7 10", "X-IMAPbase", "8 20", "x-uid", "3"),
			},
			uids:     []uint32{3},
			validity: 7, next: 11,
			renumbered: []bool{false},
		},
		{
			name: "duplicate X-UID: the first usable one counts",
			msgs: [][]Header{
				msg("X-IMAPbase", "7 10", "X-UID", "abc", "X-UID", "4", "X-UID", "2"),
				msg("X-UID", "5", "X-UID", "6"),
			},
			uids:     []uint32{4, 5},
			validity: 7, next: 11,
			renumbered: []bool{false, false},
		},
		{
			name: "X-UID 0 is renumbered",
			msgs: [][]Header{
				msg("X-IMAPbase", "7 10", "X-UID", "0"),
			},
			uids:     []uint32{11},
			validity: 7, next: 12,
			renumbered: []bool{true},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := NewUIDAssigner()
			var uids []uint32
			var ren []bool
			for i, m := range tc.msgs {
				r, err := a.Next(m, 0)
				if err != nil {
					t.Fatalf("message %d: %v", i+1, err)
				}
				if r.Kept == r.Renumbered && r.Kept {
					t.Errorf("message %d both kept and renumbered", i+1)
				}
				uids = append(uids, r.UID)
				ren = append(ren, r.Renumbered)
			}
			if !slices.Equal(uids, tc.uids) {
				t.Errorf("UIDs %v, want %v", uids, tc.uids)
			}
			if !slices.Equal(ren, tc.renumbered) {
				t.Errorf("renumbered %v, want %v", ren, tc.renumbered)
			}
			if a.UIDValidity() != tc.validity || a.NextUID() != tc.next {
				t.Errorf("UIDVALIDITY %d next %d, want %d %d", a.UIDValidity(), a.NextUID(), tc.validity, tc.next)
			}
		})
	}
}

func TestUIDAssignerPseudoMessage(t *testing.T) {
	a := NewUIDAssigner()
	r, err := a.Next(msg("Subject", "DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA",
		"X-IMAP", "1111 0000000003 Junk NonJunk"), 0)
	if err != nil || !r.Pseudo || r.UID != 0 {
		t.Fatalf("first message: %+v, %v; want pseudo without UID", r, err)
	}
	got := assignAll(t, a, [][]Header{msg("X-UID", "2"), msg("X-UID", "3"), msg()})
	if want := []uint32{2, 3, 4}; !slices.Equal(got, want) {
		t.Errorf("UIDs %v, want %v", got, want)
	}
	if a.UIDValidity() != 1111 || !slices.Equal(a.Keywords(), []string{"Junk", "NonJunk"}) {
		t.Errorf("UIDVALIDITY %d keywords %q", a.UIDValidity(), a.Keywords())
	}

	// X-IMAP in a later message is just a header; a broken X-IMAP hides nothing
	for _, first := range [][]Header{msg("X-IMAP", "0 5"), msg("X-IMAPbase", "5 5", "X-IMAP", "6 6")} {
		a := NewUIDAssigner()
		r, _ := a.Next(first, 0)
		if r.Pseudo {
			t.Errorf("%v: pseudo", first)
		}
		r, _ = a.Next(msg("X-IMAP", "9 9"), 0)
		if r.Pseudo {
			t.Errorf("X-IMAP in message 2 made it pseudo")
		}
	}
}

func TestUIDAssignerStreamingHeaders(t *testing.T) {
	a := NewUIDAssigner()
	a.Header("From", "x")
	a.Header("X-IMAPbase", "9 20")
	a.Header("X-UID", "15")
	r, err := a.End(0)
	if err != nil || r.UID != 15 || !r.Kept {
		t.Fatalf("got %+v, %v", r, err)
	}
	// a message without any header call
	r, err = a.End(0)
	if err != nil || r.UID != 21 {
		t.Fatalf("got %+v, %v; want UID 21", r, err)
	}
}

func TestUIDAssignerOutOfUIDs(t *testing.T) {
	a := NewUIDAssigner()
	if _, err := a.Next(msg("X-IMAPbase", "9 4294967293", "X-UID", "4294967293"), 0); err != nil {
		t.Fatal(err)
	}
	r, err := a.Next(nil, 0)
	if err != nil || r.UID != 4294967294 {
		t.Fatalf("got %+v, %v; want 4294967294", r, err)
	}
	if _, err := a.Next(nil, 0); !errors.Is(err, ErrOutOfUIDs) {
		t.Fatalf("err %v, want ErrOutOfUIDs", err)
	}
	// starting over with Renumber gives 1..n and asks for a new UIDVALIDITY
	b := NewUIDAssigner()
	b.Renumber = true
	got := assignAll(t, b, [][]Header{msg("X-IMAPbase", "9 4294967293", "X-UID", "4294967293"), nil, nil})
	if !slices.Equal(got, []uint32{1, 2, 3}) || b.UIDValidity() != 0 {
		t.Errorf("renumber: UIDs %v validity %d", got, b.UIDValidity())
	}
}

func TestUIDAssignerResume(t *testing.T) {
	// first run: 3 messages with X-UIDs 1..3, X-IMAPbase last UID 3
	first := [][]Header{
		msg("X-IMAPbase", "500 0000000003", "X-UID", "1"),
		msg("X-UID", "2"), msg("X-UID", "3"),
	}
	a := NewUIDAssigner()
	firstUIDs := assignAll(t, a, first)
	if !slices.Equal(firstUIDs, []uint32{1, 2, 3}) {
		t.Fatal(firstUIDs)
	}

	t.Run("new mail without X-UID", func(t *testing.T) {
		b := NewUIDAssigner()
		b.Resume(500, 4)
		var got []uint32
		for i, m := range append(slices.Clone(first), msg(), msg()) {
			var existing uint32
			if i < 3 {
				existing = firstUIDs[i]
			}
			r, err := b.Next(m, existing)
			if err != nil {
				t.Fatal(err)
			}
			if (i < 3) != r.Existing {
				t.Errorf("message %d Existing=%v", i+1, r.Existing)
			}
			got = append(got, r.UID)
		}
		if !slices.Equal(got, []uint32{1, 2, 3, 4, 5}) || b.NextUID() != 6 || b.UIDValidity() != 500 {
			t.Errorf("UIDs %v next %d validity %d", got, b.NextUID(), b.UIDValidity())
		}
	})

	t.Run("source UIDs kept when free", func(t *testing.T) {
		// the source kept being served: two messages were expunged and two new ones
		// got X-UID 8 and 9 (last UID 9)
		src := [][]Header{
			msg("X-IMAPbase", "500 0000000009", "X-UID", "1"),
			msg("X-UID", "3"), msg("X-UID", "8"), msg("X-UID", "9"),
		}
		b := NewUIDAssigner()
		b.Resume(500, 4)
		var got []uint32
		for i, m := range src {
			existing := []uint32{1, 3, 0, 0}[i]
			r, err := b.Next(m, existing)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, r.UID)
		}
		if !slices.Equal(got, []uint32{1, 3, 8, 9}) || b.NextUID() != 10 {
			t.Errorf("UIDs %v next %d", got, b.NextUID())
		}
	})

	t.Run("source UIDVALIDITY changed: renumber above the list", func(t *testing.T) {
		src := [][]Header{
			msg("X-IMAPbase", "777 0000000009", "X-UID", "1"),
			msg("X-UID", "8"),
		}
		b := NewUIDAssigner()
		b.Resume(500, 40)
		got := assignAll(t, b, src)
		if !slices.Equal(got, []uint32{40, 41}) || b.NextUID() != 42 || b.UIDValidity() != 500 || b.SourceUIDValidity() != 777 {
			t.Errorf("UIDs %v next %d validity %d/%d", got, b.NextUID(), b.UIDValidity(), b.SourceUIDValidity())
		}
	})

	t.Run("source UID below the list's next UID", func(t *testing.T) {
		b := NewUIDAssigner()
		b.Resume(500, 50)
		got := assignAll(t, b, [][]Header{msg("X-IMAPbase", "500 60", "X-UID", "10"), msg("X-UID", "55"), msg("X-UID", "56")})
		if want := []uint32{50, 55, 56}; !slices.Equal(got, want) {
			t.Errorf("UIDs %v, want %v", got, want)
		}
		if b.NextUID() != 61 {
			t.Errorf("next %d, want 61 (source last UID 60)", b.NextUID())
		}
	})
}

func TestUIDAssignerLarge(t *testing.T) {
	// UIDs are strictly increasing whatever the input
	a := NewUIDAssigner()
	var prev uint32
	for i := 0; i < 2000; i++ {
		var m []Header
		if i == 0 {
			m = append(m, Header{"X-IMAPbase", "99 1500"})
		}
		m = append(m, Header{"X-UID", fmt.Sprint((i * 7919) % 3000)})
		r, err := a.Next(m, 0)
		if err != nil {
			t.Fatal(err)
		}
		if r.UID <= prev {
			t.Fatalf("message %d: UID %d after %d", i+1, r.UID, prev)
		}
		prev = r.UID
	}
	if a.NextUID() <= prev || a.NextUID() < 1501 {
		t.Errorf("next UID %d after last UID %d with X-IMAPbase last UID 1500", a.NextUID(), prev)
	}
}
