package dovetest

import (
	"bufio"
	"io"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestMUTF7(t *testing.T) {
	for _, c := range []struct{ enc, dec string }{
		{"INBOX", "INBOX"},
		{"Entw&APw-rfe", "Entwürfe"},
		{"&AMQ-rger", "Ärger"},
		{"a&-b", "a&b"},
		{"&ZeVnLIqe-", "日本語"},
		{"&2D3eAA-", "😀"}, // surrogate pair
		{"x/y", "x/y"},
	} {
		got, err := DecodeMUTF7(c.enc)
		if err != nil || got != c.dec {
			t.Errorf("DecodeMUTF7(%q) = %q, %v; want %q", c.enc, got, err, c.dec)
		}
		if e := EncodeMUTF7(c.dec); e != c.enc {
			t.Errorf("EncodeMUTF7(%q) = %q, want %q", c.dec, e, c.enc)
		}
	}
	for _, bad := range []string{"a&AMQ", "&A-", "&2D0-", "&!!-"} {
		if got, err := DecodeMUTF7(bad); err == nil {
			t.Errorf("DecodeMUTF7(%q) = %q, want an error", bad, got)
		}
	}
}

func parse(t *testing.T, s string) *response {
	t.Helper()
	r := &reader{br: bufio.NewReader(strings.NewReader(s))}
	resp, err := r.readResponse()
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return resp
}

func TestParseResponses(t *testing.T) {
	r := parse(t, "* OK [UIDVALIDITY 1700000000] UIDs valid\r\n")
	if r.kind != "OK" || r.code != "UIDVALIDITY 1700000000" || r.text != "UIDs valid" {
		t.Errorf("status: %+v", r)
	}
	r = parse(t, `* LIST (\HasNoChildren \Noselect) "/" "a \"q\" \\b"`+"\r\n")
	l, err := parseList([]*response{r}, "LIST")
	if err != nil || len(l) != 1 || l[0].name != `a "q" \b` || !hasAttr(l[0].attrs, `\noselect`) || l[0].delim != "/" {
		t.Errorf("LIST quoted: %+v %v", l, err)
	}
	r = parse(t, "* LIST () NIL {5}\r\nx\"y z\r\n")
	l, err = parseList([]*response{r}, "LIST")
	if err != nil || len(l) != 1 || l[0].name != `x"y z` || l[0].delim != "" {
		t.Errorf("LIST literal: %+v %v", l, err)
	}
	r = parse(t, "* 12 FETCH (UID 7 FLAGS (\\Seen $Label1 \\Recent) INTERNALDATE \" 2-Jan-2024 03:04:05 +0200\" RFC822.SIZE 9 BODY[] {9}\r\nab\r\n)\r\ncd)\r\n")
	var it fetchItem
	if err := parseFetch(r, &it); err != nil {
		t.Fatal(err)
	}
	if r.num != 12 || it.uid != 7 || it.size != 9 || string(it.body) != "ab\r\n)\r\ncd" ||
		!reflect.DeepEqual(it.flags, []string{`\Seen`, "$Label1", `\Recent`}) {
		t.Errorf("FETCH: %+v", it)
	}
	d, err := ParseInternalDate(it.internalDate)
	if err != nil || !d.Equal(time.Date(2024, 1, 2, 1, 4, 5, 0, time.UTC)) || d.Location() != time.UTC {
		t.Errorf("INTERNALDATE %q -> %v, %v", it.internalDate, d, err)
	}
	r = parse(t, "* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT FROM)] NIL)\r\n")
	if len(r.fields) != 1 || string(r.fields[0].list[0].b) != "BODY[HEADER.FIELDS (SUBJECT FROM)]" || r.fields[0].list[1].kind != kNil {
		t.Errorf("section atom: %s", r)
	}
	for _, bad := range []string{
		"* LIST (\\X \"/\" x\r\n",              // unterminated list
		"* LIST () \"/\" \"abc\r\n",            // unterminated quoted
		"* 1 FETCH (BODY[] {99999999999})\r\n", // huge literal
		"* 1 FETCH (BODY[] {10}\r\nshort",      // truncated literal
		"t1 MAYBE done\r\n",                    // unknown status
	} {
		rd := &reader{br: bufio.NewReader(strings.NewReader(bad))}
		if resp, err := rd.readResponse(); err == nil {
			t.Errorf("parse %q: no error, got %s", bad, resp)
		}
	}
	if _, err := ParseInternalDate("2024-01-02"); err == nil {
		t.Error("ParseInternalDate accepted a bad date")
	}
}

// fakeServer runs script on the server side of a pipe: each step reads one
// command line (checked by prefix) and writes the reply with the tag filled in.
func fakeServer(t *testing.T, greeting string, steps [][2]string) *client {
	t.Helper()
	srv, cli := net.Pipe()
	t.Cleanup(func() { srv.Close(); cli.Close() })
	go func() {
		br := bufio.NewReader(srv)
		srv.Write([]byte(greeting))
		for _, st := range steps {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			tag, rest, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
			if !strings.HasPrefix(rest, st[0]) {
				srv.Write([]byte(tag + " BAD unexpected " + rest + "\r\n"))
				return
			}
			srv.Write([]byte(strings.ReplaceAll(st[1], "TAG", tag)))
		}
		// then say nothing until the pipe is closed: the client must give up by its deadline
		_, _ = io.Copy(io.Discard, br)
	}()
	c := newClient(cli, 2*time.Second)
	if g, err := c.r.readResponse(); err != nil || g.kind != "OK" {
		t.Fatalf("greeting: %v %v", g, err)
	}
	return c
}

func TestReadViewFake(t *testing.T) {
	body := "Subject: x\r\n\r\nhi\r\n"
	c := fakeServer(t, "* OK ready\r\n", [][2]string{
		{`LOGIN "u" "p"`, "TAG OK logged in\r\n"},
		{`LIST "" "*"`, "* LIST (\\HasChildren) \"/\" INBOX\r\n* LIST (\\Noselect) \"/\" \"&AMQ-rger\"\r\n* LIST () \"/\" &AMQ-rger/x\r\nTAG OK done\r\n"},
		{`LSUB "" "*"`, "* LSUB () \"/\" \"&AMQ-rger/x\"\r\n* LSUB () \"/\" gone\r\nTAG OK done\r\n"},
		{`EXAMINE "INBOX"`, "* 2 EXISTS\r\n* 1 RECENT\r\n* OK [UIDVALIDITY 42] x\r\n* OK [UIDNEXT 10] x\r\nTAG OK [READ-ONLY] done\r\n"},
		{"FETCH 1:2 (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])",
			"* 1 FETCH (UID 3 FLAGS (\\Seen kw \\Recent) INTERNALDATE \"01-Jan-2024 10:00:00 +0000\" RFC822.SIZE 18 BODY[] {18}\r\n" + body + ")\r\n" +
				"* 2 FETCH (UID 9 FLAGS () INTERNALDATE \"01-Jan-2024 10:00:00 -0100\" RFC822.SIZE 5 BODY[] \"ab\\\"c\")\r\nTAG OK done\r\n"},
		{`EXAMINE "&AMQ-rger/x"`, "TAG NO [NONEXISTENT] gone\r\n"},
		{"LOGOUT", "* BYE bye\r\nTAG OK bye\r\n"},
	})
	v, err := readView(c, "u", "p", func() {})
	if err != nil {
		t.Fatal(err)
	}
	want := &View{
		Folders: []Folder{
			{Name: "INBOX", RawName: "INBOX", UIDValidity: 42, UIDNext: 10, Messages: []Msg{
				{UID: 3, Flags: []string{`\Seen`}, Keywords: []string{"kw"}, Recent: true, InternalDate: date("2024-01-01T10:00:00Z"), Size: 18, Body: []byte(body)},
				{UID: 9, InternalDate: date("2024-01-01T11:00:00Z"), Size: 5, Body: []byte(`ab"c`)},
			}},
			{Name: "Ärger", RawName: "&AMQ-rger", NoSelect: true},
			{Name: "Ärger/x", RawName: "&AMQ-rger/x", Subscribed: true, Error: "[NONEXISTENT] gone"},
		},
		Subscriptions: []string{"gone", "Ärger/x"},
		Problems: []string{
			`folder "INBOX" uid 9: RFC822.SIZE 5 but BODY[] has 4 bytes`,
			`folder "Ärger/x": EXAMINE failed: [NONEXISTENT] gone`,
		},
	}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("view:\n%s\nwant:\n%s\n%#v", v, want, v)
	}
}

func TestClientDeadline(t *testing.T) {
	c := fakeServer(t, "* OK ready\r\n", nil)
	c.r.timeout = 50 * time.Millisecond
	start := time.Now()
	_, _, err := c.cmd("LOGIN", astr("u"), astr("p"))
	if err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Errorf("want a timeout error, got %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("gave up after %v", d)
	}
}

func TestBuildLocation(t *testing.T) {
	d := t.TempDir()
	loc, paths, err := buildLocation(Config{MailLocation: "mbox:" + d + ":INBOX=" + d, LayoutFS: true, UTF8: true}, "/idx::x")
	if err != nil {
		t.Fatal(err)
	}
	if want := "mbox:" + d + ":INBOX=" + d + ":INDEX=/idx::::x:LAYOUT=fs:UTF-8"; loc != want {
		t.Errorf("location %q, want %q", loc, want)
	}
	if !reflect.DeepEqual(paths, []string{d, d}) {
		t.Errorf("paths %q", paths)
	}
	loc, _, err = buildLocation(Config{MailLocation: "maildir:" + d + ":INDEX=MEMORY"}, "/idx")
	if err != nil || loc != "maildir:"+d+":INDEX=MEMORY" {
		t.Errorf("INDEX given: %q %v", loc, err)
	}
	for _, bad := range []string{"", "maildir", "maildir:relative/x", "maildir:" + d + "/missing", "mbox:" + d + ":INBOX=" + d + "/nope"} {
		if _, _, err := buildLocation(Config{MailLocation: bad}, "/idx"); err == nil {
			t.Errorf("buildLocation(%q): no error", bad)
		}
	}
}

func TestScanLogErrors(t *testing.T) {
	log := "a: Info: fine\nimap(u): Error: broken\nmaster: Fatal: master: service(imap): child 5 killed with signal 9\nx: Panic: boom\n"
	got := scanLogErrors(log)
	if len(got) != 2 || !strings.Contains(got[0], "broken") || !strings.Contains(got[1], "boom") {
		t.Errorf("scanLogErrors = %q", got)
	}
}
