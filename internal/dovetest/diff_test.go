package dovetest

import (
	"strings"
	"testing"
	"time"
)

func msg(uid uint32, body string, flags ...string) Msg {
	m := Msg{UID: uid, Body: []byte(body), Size: int64(len(body)), InternalDate: time.Date(2024, 1, 1, 0, 0, int(uid), 0, time.UTC)}
	for _, f := range flags {
		if strings.HasPrefix(f, `\`) {
			m.Flags = append(m.Flags, f)
		} else {
			m.Keywords = append(m.Keywords, f)
		}
	}
	return m
}

func view(msgs ...Msg) *View {
	return &View{Folders: []Folder{{Name: "INBOX", RawName: "INBOX", UIDValidity: 1, UIDNext: 100, Messages: msgs}}}
}

func base() []Msg {
	return []Msg{
		msg(1, "Subject: one\r\n\r\nbody 1\r\n", `\Seen`),
		msg(2, "Subject: two\r\n\r\nbody 2\r\n", `\Seen`, "work"),
		msg(3, "Subject: three\r\n\r\nbody 3\r\n"),
		msg(4, "Subject: four\r\n\r\nbody 4\r\n", `\Flagged`),
	}
}

func TestDiffIdentical(t *testing.T) {
	if d := Diff(view(base()...), view(base()...), DiffOptions{}); len(d) != 0 {
		t.Errorf("identical views differ: %q", d)
	}
}

func TestDiffFinds(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(ms []Msg) []Msg
		opt    DiffOptions
		want   []string // substrings, one per line
	}{
		{"changed byte", func(ms []Msg) []Msg { ms[1].Body = []byte("Subject: twO\r\n\r\nbody 2\r\n"); return ms }, DiffOptions{},
			[]string{`message 2 (uid 2): BODY[] differs at byte 11 (a 24 bytes, b 24 bytes): a "Subject: two\r\n\r\nbody 2\r\n", b "Subject: twO`}},
		{"missing message", func(ms []Msg) []Msg { return append(ms[:1:1], ms[2:]...) }, DiffOptions{},
			[]string{`4 messages in a, 3 in b`, `message 2 (uid 2, 2024-01-01T00:00:02Z, 24 bytes, Subject "two") only in a`}},
		{"extra message and changed one", func(ms []Msg) []Msg {
			ms[3].Body = []byte("Subject: FOUR\r\n\r\nbody 4\r\n")
			return append(ms, msg(5, "Subject: five\r\n\r\n"))
		}, DiffOptions{},
			[]string{`4 messages in a, 5 in b`, `message 4 (uid 4): BODY[] differs at byte 9`, `message 5 (uid 5, 2024-01-01T00:00:05Z, 17 bytes, Subject "five") only in b`}},
		{"changed flag", func(ms []Msg) []Msg { ms[0].Flags = []string{`\Answered`, `\Seen`}; return ms }, DiffOptions{},
			[]string{`message 1 (uid 1): flags a [\Seen], b [\Answered \Seen]`}},
		{"ignored flag", func(ms []Msg) []Msg { ms[0].Flags = []string{`\Answered`, `\Seen`}; return ms }, DiffOptions{IgnoreFlags: []string{`\answered`}},
			nil},
		{"changed keyword", func(ms []Msg) []Msg { ms[1].Keywords = nil; return ms }, DiffOptions{},
			[]string{`message 2 (uid 2): keywords a ["work"], b []`}},
		{"different date", func(ms []Msg) []Msg { ms[2].InternalDate = ms[2].InternalDate.Add(time.Hour); return ms }, DiffOptions{},
			[]string{`message 3 (uid 3): INTERNALDATE a 2024-01-01T00:00:03Z, b 2024-01-01T01:00:03Z (1h0m0s)`}},
		{"recent", func(ms []Msg) []Msg { ms[2].Recent = true; return ms }, DiffOptions{},
			[]string{`message 3 (uid 3): \Recent a false, b true`}},
		{"recent ignored", func(ms []Msg) []Msg { ms[2].Recent = true; return ms }, DiffOptions{IgnoreRecent: true}, nil},
		{"uid", func(ms []Msg) []Msg { ms[3].UID = 40; return ms }, DiffOptions{},
			[]string{`message 4 (uid 4/40): UID a 4, b 40`}},
		{"uid ignored", func(ms []Msg) []Msg { ms[3].UID = 40; return ms }, DiffOptions{IgnoreUIDs: true}, nil},
		{"size", func(ms []Msg) []Msg { ms[0].Size = 3; return ms }, DiffOptions{},
			[]string{`message 1 (uid 1): RFC822.SIZE a 24, b 3`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := Diff(view(base()...), view(c.change(base())...), c.opt)
			if len(d) != len(c.want) {
				t.Fatalf("got %d lines, want %d:\n%s", len(d), len(c.want), strings.Join(d, "\n"))
			}
			for i, w := range c.want {
				if !strings.Contains(d[i], w) || !strings.HasPrefix(d[i], `folder "INBOX": `) {
					t.Errorf("line %d: %s\nwant it to contain %s", i, d[i], w)
				}
			}
		})
	}
}

func TestDiffFolders(t *testing.T) {
	a, b := view(base()...), view(base()...)
	a.Folders = append(a.Folders, Folder{Name: "Old", Subscribed: true})
	b.Folders = append(b.Folders, Folder{Name: "New", NoSelect: true})
	a.Folders[0].UIDValidity = 7
	b.Folders[0].Subscribed = true
	a.Subscriptions = []string{"Old"}
	b.Subscriptions = []string{"INBOX"}
	want := []string{
		`folder "INBOX": subscribed a false, b true`,
		`folder "INBOX": UIDVALIDITY a 7, b 1`,
		`folder "New" (0 messages) only in b`,
		`folder "Old" (0 messages) only in a`,
		`subscription "Old" only in a`,
		`subscription "INBOX" only in b`,
	}
	d := Diff(a, b, DiffOptions{})
	if strings.Join(d, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(d, "\n"), strings.Join(want, "\n"))
	}
	d = Diff(a, b, DiffOptions{IgnoreUIDs: true, IgnoreSubscriptions: true, Labels: [2]string{"mbox", "maildir"}})
	if len(d) != 2 || d[0] != `folder "New" (0 messages) only in maildir` {
		t.Errorf("with ignores: %q", d)
	}
}

func TestDiffCap(t *testing.T) {
	var a, b []Msg
	for i := uint32(1); i <= 30; i++ {
		a = append(a, msg(i, "x", `\Seen`))
		b = append(b, msg(i, "x"))
	}
	d := Diff(view(a...), view(b...), DiffOptions{MaxPerFolder: 5})
	if len(d) != 6 || d[5] != `folder "INBOX": ... and 25 more difference(s)` {
		t.Errorf("cap: %q", d)
	}
}
