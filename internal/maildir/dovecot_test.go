package maildir

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDovecotReadsOurMaildir writes folders and messages with the writer and reads them back
// through a real Dovecot (doveadm, standalone, INDEX=MEMORY): folder names decode to the
// intended IMAP names, and every message has the right flags, INTERNALDATE, virtual size
// (W=) and bytes, with no error logged (a wrong S= or W= makes Dovecot log one or truncate).
func TestDovecotReadsOurMaildir(t *testing.T) {
	doveadm, err := exec.LookPath("doveadm")
	if err != nil {
		t.Skip("doveadm not installed (apt-get install dovecot-core); skipped")
	}
	base := t.TempDir()
	uid, gid := -1, -1
	userConf := ""
	if os.Geteuid() == 0 {
		// Dovecot refuses mail access as root (dovecot.md G1): serve as nobody
		uid, gid = 65534, 65534
		userConf = "mail_uid = 65534\nmail_gid = 65534\n"
		for p := base; p != "/" && p != os.TempDir(); p = filepath.Dir(p) {
			if err := os.Chmod(p, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	root := filepath.Join(base, "Maildir")
	if err := EnsureOwned(root, false, uid, gid); err != nil {
		t.Fatal(err)
	}
	type msg struct {
		content, subdir, flags, imapFlags string
		mtime                             time.Time
	}
	folders := []struct {
		comps    []string
		imapName string
		msgs     []msg
	}{
		{[]string{"INBOX"}, "INBOX", []msg{
			{"Subject: lf\n\nbody\n", "new", "", "", time.Unix(1000000000, 0)},
			{"Subject: crlf\r\n\r\nbody\r\n", "cur", "FRS", `\Answered \Flagged \Seen`, time.Unix(1100000000, 0)},
		}},
		{[]string{"Entwürfe"}, "Entwürfe", []msg{
			{"Subject: draft\n\nno final newline", "cur", "DS", `\Draft \Seen`, time.Unix(1200000000, 0)},
		}},
		{[]string{"日本語", "受信"}, "日本語/受信", []msg{
			{"Subject: mixed\r\n\nline\n\r\n\n\n", "cur", "T", `\Deleted`, time.Unix(1300000000, 0)},
		}},
		{[]string{"R&D"}, "R&D", []msg{{"x", "cur", "", "", time.Unix(1400000000, 0)}}},
		{[]string{"a.b"}, "a_b", []msg{{"\n", "new", "", "", time.Unix(1500000000, 0)}}},
		{[]string{"&AMQ-rger"}, "Ärger", nil},
	}
	type want struct{ mailbox, flags, date, vsize, psize, text string }
	var wants []want
	for _, f := range folders {
		name := FolderDir(f.comps, NameOptions{})
		dir := filepath.Join(root, name)
		if err := EnsureOwned(dir, name != "", uid, gid); err != nil {
			t.Fatal(err)
		}
		w, err := Open(dir, Options{UID: uid, GID: gid})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range f.msgs {
			if err := put(w, m.content, keyOf(m.content, 0), m.mtime, m.subdir, m.flags); err != nil {
				t.Fatal(err)
			}
			wants = append(wants, want{f.imapName, flagSet(m.imapFlags), m.mtime.UTC().Format("2006-01-02 15:04:05"),
				strconv.FormatInt(vsizeRef(m.content), 10), strconv.Itoa(len(m.content)), m.content})
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	home := filepath.Join(base, "home")
	run := filepath.Join(base, "run")
	for _, d := range []string{home, run} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	conf := filepath.Join(base, "dovecot.conf")
	cfg := fmt.Sprintf("base_dir = %s\nstate_dir = %s\nlog_path = /dev/stderr\nfirst_valid_uid = 1\n%s"+
		"namespace inbox {\n  inbox = yes\n  prefix =\n  separator = /\n}\n", run, run, userConf)
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	dadm := func(args ...string) []byte {
		t.Helper()
		cmd := exec.Command(doveadm, append([]string{"-f", "json", "-c", conf, "-o", "mail_location=maildir:" + root + ":INDEX=MEMORY"}, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+home, "USER=mb2md-test", "TZ=UTC")
		cmd.Dir = base
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || stderr.Len() > 0 {
			t.Fatalf("doveadm %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
		}
		return out
	}
	var boxes []map[string]string
	if err := json.Unmarshal(dadm("mailbox", "list"), &boxes); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range boxes {
		names = append(names, b["mailbox"])
	}
	for _, f := range folders {
		if !slices.Contains(names, f.imapName) {
			t.Errorf("Dovecot lists %q, want %q among them", names, f.imapName)
		}
	}
	var got []map[string]string
	out := dadm("fetch", "mailbox flags date.received size.virtual size.physical text", "mailbox", "*")
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(got) != len(wants) {
		t.Fatalf("Dovecot shows %d messages, want %d:\n%s", len(got), len(wants), out)
	}
	for _, w := range wants {
		i := slices.IndexFunc(got, func(g map[string]string) bool { return g["mailbox"] == w.mailbox && g["text"] == w.text })
		if i < 0 {
			t.Errorf("message %q in %s not shown by Dovecot:\n%s", w.text, w.mailbox, out)
			continue
		}
		g := got[i]
		if flagSet(g["flags"]) != w.flags || g["date.received"] != w.date || g["size.virtual"] != w.vsize || g["size.physical"] != w.psize {
			t.Errorf("%s %q: Dovecot shows flags %q date %s W %s S %s, want %q %s %s %s", w.mailbox, w.text,
				flagSet(g["flags"]), g["date.received"], g["size.virtual"], g["size.physical"], w.flags, w.date, w.vsize, w.psize)
		}
	}
}

// flagSet sorts IMAP flags and drops \Recent (session dependent).
func flagSet(s string) string {
	f := slices.DeleteFunc(strings.Fields(s), func(x string) bool { return x == `\Recent` })
	slices.Sort(f)
	return strings.Join(f, " ")
}
