package dovetest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

func needDovecot(t *testing.T) {
	t.Helper()
	if err := Available(); err != nil {
		t.Skipf("dovetest: %v", err)
	}
}

func writeFile(t *testing.T, path, data string, mtime time.Time) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if !mtime.IsZero() {
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
}

func crlf(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }

func date(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// testMbox has flag headers, declared keywords, X-UIDs, a zoneless and a numeric-zone
// From_ date and a message without Status (recent).
const testMbox = `From alice@example.org Mon Jan  1 10:00:00 2024
X-IMAPbase: 1234567 20 work later
X-UID: 5
Status: RO
X-Status: AF
X-Keywords: work
Subject: first

hello

From bob@example.org Mon Jan  1 11:00:00 2024 +0200
X-UID: 7
Status: O
X-Status: T
Subject: second

>From the body
bye

From carol@example.org Tue Jan  2 12:30:45 2024
Subject: third

new mail
`

func mboxTree(t *testing.T) (root, inbox string) {
	d := t.TempDir()
	root = filepath.Join(d, "mail")
	inbox = filepath.Join(root, "inbox")
	writeFile(t, inbox, testMbox, time.Time{})
	writeFile(t, filepath.Join(root, "Archive"), "From x@y Wed Feb 28 23:59:59 2024\nSubject: old\n\nold\n", time.Time{})
	writeFile(t, filepath.Join(root, ".subscriptions"), "Archive\n", time.Time{})
	return root, inbox
}

func TestMboxView(t *testing.T) {
	needDovecot(t)
	root, inbox := mboxTree(t)
	s := Start(t, Config{MailLocation: "mbox:" + root + ":INBOX=" + inbox, POP3: true})
	v := s.View(t)
	if len(v.Folders) != 2 || v.Folders[0].Name != "Archive" || v.Folders[1].Name != "INBOX" {
		t.Fatalf("folders:\n%s", v)
	}
	arch, in := v.Folders[0], v.Folders[1]
	if !arch.Subscribed || in.Subscribed || !reflect.DeepEqual(v.Subscriptions, []string{"Archive"}) {
		t.Errorf("subscriptions wrong:\n%s", v)
	}
	// lastuid 20 in X-IMAPbase: the message without X-UID gets 21
	if in.UIDValidity != 1234567 || in.UIDNext != 22 {
		t.Errorf("INBOX UIDVALIDITY/UIDNEXT = %d/%d, want 1234567/22", in.UIDValidity, in.UIDNext)
	}
	want := []Msg{
		{UID: 5, Flags: []string{`\Answered`, `\Flagged`, `\Seen`}, Keywords: []string{"work"},
			InternalDate: date("2024-01-01T10:00:00Z"), Body: crlf("Subject: first\n\nhello\n")},
		{UID: 7, Flags: []string{`\Draft`}, InternalDate: date("2024-01-01T09:00:00Z"),
			Body: crlf("Subject: second\n\n>From the body\nbye\n")},
		{UID: 21, Recent: true, InternalDate: date("2024-01-02T12:30:45Z"), Body: crlf("Subject: third\n\nnew mail")},
	}
	if len(in.Messages) != len(want) {
		t.Fatalf("INBOX has %d messages, want %d:\n%s", len(in.Messages), len(want), v)
	}
	for i, m := range in.Messages {
		w := want[i]
		w.Size = int64(len(w.Body))
		if !reflect.DeepEqual(normMsg(m), normMsg(w)) {
			t.Errorf("INBOX message %d:\n got %+v\nwant %+v", i+1, normMsg(m), normMsg(w))
		}
	}
	if len(arch.Messages) != 1 || string(arch.Messages[0].Body) != "Subject: old\r\n\r\nold" ||
		!arch.Messages[0].InternalDate.Equal(date("2024-02-28T23:59:59Z")) {
		t.Errorf("Archive wrong:\n%s", v)
	}
	// a second view of the same server is identical, including \Recent
	if d := Diff(v, s.View(t), DiffOptions{}); len(d) > 0 {
		t.Errorf("second view differs:\n%s", strings.Join(d, "\n"))
	}
	if u := s.POP3UIDLs(t); len(u) != 3 || u[0] == u[1] {
		t.Errorf("POP3 UIDLs = %q, want 3 distinct", u)
	}
	// the served copy was changed (G3), the paths are owned by the mail user
	if data, _ := os.ReadFile(inbox); !strings.Contains(string(data), "X-UID") {
		t.Errorf("served mbox has no X-UID header: Dovecot did not serve it?")
	}
	if os.Geteuid() == 0 {
		st, err := os.Stat(inbox)
		if err != nil {
			t.Fatal(err)
		}
		if uid := st.Sys().(*syscall.Stat_t).Uid; uid == 0 {
			t.Errorf("served mbox still owned by root")
		}
	}
}

// normMsg makes nil and empty slices compare equal.
func normMsg(m Msg) Msg {
	if len(m.Flags) == 0 {
		m.Flags = nil
	}
	if len(m.Keywords) == 0 {
		m.Keywords = nil
	}
	return m
}

func TestMboxTZ(t *testing.T) {
	needDovecot(t)
	root, inbox := mboxTree(t)
	// POSIX TZ string (no tzdata needed): UTC+1
	s := Start(t, Config{MailLocation: "mbox:" + root + ":INBOX=" + inbox, TZ: "XYZ-1"})
	v := s.View(t)
	in := v.Folder("INBOX")
	if in == nil || len(in.Messages) != 3 {
		t.Fatalf("INBOX wrong:\n%s", v)
	}
	// the zoneless From_ date is local time of the Dovecot process; +0200 is honoured
	for i, w := range []string{"2024-01-01T09:00:00Z", "2024-01-01T09:00:00Z", "2024-01-02T11:30:45Z"} {
		if got := in.Messages[i].InternalDate; !got.Equal(date(w)) {
			t.Errorf("message %d INTERNALDATE %s, want %s", i+1, got, w)
		}
	}
}

var (
	t1 = date("2023-05-06T07:08:09Z")
	t2 = date("2023-05-07T00:00:00Z")
	t3 = date("2024-12-31T23:59:59Z")
)

const (
	msgA = "From: a@example.org\nSubject: A\n\nbody A\n"
	msgB = "From: b@example.org\nSubject: B\n\nbody B\nline 2\n"
	msgC = "Subject: C\n\nin new\n"
	msgD = "Subject: D\n\nsub folder\n"
)

// maildirName returns a file name with correct ,S= and ,W= sizes.
func maildirName(base, body, info string) string {
	w := len(body) + strings.Count(body, "\n") - strings.Count(body, "\r\n")
	n := fmt.Sprintf("%s,S=%d,W=%d", base, len(body), w)
	if info != "" {
		n += ":2," + info
	}
	return n
}

func maildirTree(t *testing.T) string {
	root := filepath.Join(t.TempDir(), "Maildir")
	for _, d := range []string{"cur", "new", "tmp", ".Sub/cur", ".Sub/new", ".Sub/tmp", ".Entw&APw-rfe/cur", ".Entw&APw-rfe/new", ".Entw&APw-rfe/tmp"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(root, "cur", maildirName("1700000001.M1P1.host", msgA, "S")), msgA, t1)
	writeFile(t, filepath.Join(root, "cur", maildirName("1700000002.M2P1.host", msgB, "FRSa")), msgB, t2)
	writeFile(t, filepath.Join(root, "new", maildirName("1700000003.M3P1.host", msgC, "")), msgC, t3)
	writeFile(t, filepath.Join(root, "dovecot-keywords"), "0 $Label1\n", time.Time{})
	writeFile(t, filepath.Join(root, ".Sub", "maildirfolder"), "", time.Time{})
	writeFile(t, filepath.Join(root, ".Sub", "cur", maildirName("1700000004.M4P1.host", msgD, "T")), msgD, t1)
	writeFile(t, filepath.Join(root, ".Entw&APw-rfe", "maildirfolder"), "", time.Time{})
	writeFile(t, filepath.Join(root, "subscriptions"), "V\t2\n\nSub\nGone\n", time.Time{})
	return root
}

func TestMaildirView(t *testing.T) {
	needDovecot(t)
	root := maildirTree(t)
	start := time.Now()
	s := Start(t, Config{MailLocation: "maildir:" + root})
	v := s.View(t)
	t.Logf("start + view: %v", time.Since(start))
	names := []string{}
	for _, f := range v.Folders {
		names = append(names, f.Name)
	}
	if want := []string{"Entwürfe", "INBOX", "Sub"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("folders %q, want %q:\n%s", names, want, v)
	}
	if f := v.Folder("Entwürfe"); f.RawName != "Entw&APw-rfe" || len(f.Messages) != 0 || f.Subscribed {
		t.Errorf("Entwürfe wrong: %+v", f)
	}
	if !reflect.DeepEqual(v.Subscriptions, []string{"Gone", "Sub"}) || !v.Folder("Sub").Subscribed || v.Folder("INBOX").Subscribed {
		t.Errorf("subscriptions wrong:\n%s", v)
	}
	in := v.Folder("INBOX")
	// every message is \Recent: Dovecot sees them all for the first time
	want := []Msg{
		{UID: 1, Flags: []string{`\Seen`}, Recent: true, InternalDate: t1, Body: crlf(msgA)},
		{UID: 2, Flags: []string{`\Answered`, `\Flagged`, `\Seen`}, Keywords: []string{"$Label1"}, Recent: true, InternalDate: t2, Body: crlf(msgB)},
		{UID: 3, Recent: true, InternalDate: t3, Body: crlf(msgC)},
	}
	if len(in.Messages) != len(want) || in.UIDNext != 4 || in.UIDValidity == 0 {
		t.Fatalf("INBOX wrong:\n%s", v)
	}
	for i, m := range in.Messages {
		w := want[i]
		w.Size = int64(len(w.Body))
		if !reflect.DeepEqual(normMsg(m), normMsg(w)) {
			t.Errorf("INBOX message %d:\n got %+v\nwant %+v", i+1, normMsg(m), normMsg(w))
		}
	}
	sub := v.Folder("Sub")
	if len(sub.Messages) != 1 || !reflect.DeepEqual(sub.Messages[0].Flags, []string{`\Deleted`}) ||
		string(sub.Messages[0].Body) != string(crlf(msgD)) || !sub.Messages[0].InternalDate.Equal(t1) {
		t.Errorf("Sub wrong:\n%s", v)
	}
	// EXAMINE leaves new/ alone and Dovecot's indexes go to the private dir
	if _, err := os.Stat(filepath.Join(root, "new", maildirName("1700000003.M3P1.host", msgC, ""))); err != nil {
		t.Errorf("new/ message moved: %v", err)
	}
	if m, _ := filepath.Glob(filepath.Join(root, "dovecot.index*")); len(m) > 0 {
		t.Errorf("index files in the served tree: %q", m)
	}
}

func TestMaildirLayoutFSUTF8(t *testing.T) {
	needDovecot(t)
	root := filepath.Join(t.TempDir(), "Maildir")
	writeFile(t, filepath.Join(root, "cur", maildirName("1.M1P1.h", msgA, "S")), msgA, t1)
	writeFile(t, filepath.Join(root, "a", "b", "cur", maildirName("2.M1P1.h", msgB, "")), msgB, t2)
	writeFile(t, filepath.Join(root, "Entwürfe", "cur", maildirName("3.M1P1.h", msgC, "")), msgC, t3)
	for _, d := range []string{"new", "tmp", "a/b/new", "a/b/tmp", "Entwürfe/new", "Entwürfe/tmp"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	s := Start(t, Config{MailLocation: "maildir:" + root, LayoutFS: true, UTF8: true})
	v := s.View(t)
	got := []string{}
	for _, f := range v.Folders {
		got = append(got, fmt.Sprintf("%s:%d:%t", f.Name, len(f.Messages), f.NoSelect))
	}
	want := []string{"Entwürfe:1:false", "INBOX:1:false", "a:0:true", "a/b:1:false"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("folders %q, want %q\n%s", got, want, v)
	}
}

func TestDiffThroughDovecot(t *testing.T) {
	needDovecot(t)
	a := maildirTree(t)
	b := maildirTree(t)
	// b: one byte changed (same size), message C removed, A gets \Flagged, B gets another date
	nameA := filepath.Join(b, "cur", maildirName("1700000001.M1P1.host", msgA, "S"))
	nameB := filepath.Join(b, "cur", maildirName("1700000002.M2P1.host", msgB, "FRSa"))
	writeFile(t, filepath.Join(b, ".Sub", "cur", maildirName("1700000004.M4P1.host", msgD, "T")), strings.Replace(msgD, "sub", "sUb", 1), t1)
	if err := os.Remove(filepath.Join(b, "new", maildirName("1700000003.M3P1.host", msgC, ""))); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(nameA, strings.TrimSuffix(nameA, "S")+"FS"); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(nameB, t3, t3); err != nil {
		t.Fatal(err)
	}
	va := Start(t, Config{MailLocation: "maildir:" + a}).View(t)
	vb := Start(t, Config{MailLocation: "maildir:" + b}).View(t)
	d := Diff(va, vb, DiffOptions{IgnoreUIDs: true, Labels: [2]string{"src", "dst"}})
	want := []string{
		`folder "INBOX": 3 messages in src, 2 in dst`,
		`folder "INBOX": message 1 (uid 1): flags src [\Seen], dst [\Flagged \Seen]`,
		`folder "INBOX": message 2 (uid 2): INTERNALDATE src 2023-05-07T00:00:00Z, dst 2024-12-31T23:59:59Z`,
		`folder "INBOX": message 3 (uid 3, 2024-12-31T23:59:59Z, 22 bytes, Subject "C") only in src`,
		`folder "Sub": message 1 (uid 1): BODY[] differs at byte 15 (src 26 bytes, dst 26 bytes)`,
	}
	if len(d) != len(want) {
		t.Fatalf("Diff gave %d lines, want %d:\n%s", len(d), len(want), strings.Join(d, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(d[i], want[i]) {
			t.Errorf("diff line %d:\n got %s\nwant %s...", i, d[i], want[i])
		}
	}
	// the same tree served twice: no differences
	if d := Diff(va, Start(t, Config{MailLocation: "maildir:" + maildirTree(t)}).View(t), DiffOptions{IgnoreUIDs: true}); len(d) != 0 {
		t.Errorf("same content: got differences:\n%s", strings.Join(d, "\n"))
	}
}

func TestBrokenSizeIsAProblem(t *testing.T) {
	needDovecot(t)
	root := filepath.Join(t.TempDir(), "Maildir")
	for _, d := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	// wrong S= and no W=: Dovecot logs errors and ends the session in the FETCH
	writeFile(t, filepath.Join(root, "cur", "1.M1P1.h,S=999:2,S"), msgA, t1)
	s := Start(t, Config{MailLocation: "maildir:" + root, AllowProblems: true})
	v := s.View(t)
	var fetch, logged bool
	for _, p := range v.Problems {
		fetch = fetch || strings.Contains(p, `folder "INBOX": FETCH`)
		logged = logged || strings.Contains(p, "dovecot log:") && strings.Contains(p, "Error:")
	}
	if !fetch || !logged || v.Folder("INBOX").Error == "" {
		t.Errorf("want a FETCH problem and a logged error, got:\n%s", v)
	}
	if len(s.LogErrors()) == 0 {
		t.Errorf("LogErrors is empty")
	}
}

// TestNonRoot runs the Dovecot tests again as user nobody (only when root).
func TestNonRoot(t *testing.T) {
	needDovecot(t)
	if os.Geteuid() != 0 {
		t.Skip("already not root")
	}
	if os.Getenv("DOVETEST_CHILD") != "" {
		t.Skip("child")
	}
	uid, gid, err := nobodyIDs()
	if err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "dovetest.test")
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(tmp, uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := makeReachable(tmp); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run", "^(TestMboxView|TestMaildirView|TestDiffThroughDovecot)$", "-test.v")
	cmd.Dir = tmp
	cmd.Env = []string{"DOVETEST_CHILD=1", "TMPDIR=" + tmp, "HOME=" + tmp, "PATH=" + os.Getenv("PATH")}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Contains(string(out), "SKIP") || !strings.Contains(string(out), "PASS: TestMaildirView") {
		t.Fatalf("tests as nobody: %v\n%s", err, out)
	}
}
