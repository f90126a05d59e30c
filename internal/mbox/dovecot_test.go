package mbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
)

// dovecotFetch returns the messages Dovecot shows for the mbox file at path
// (doveadm fetch text, run privately on a copy).
func dovecotFetch(t *testing.T, doveadm, path string) ([]string, error) {
	// not t.TempDir: its parent is mode 0700, and doveadm runs as nobody
	dir, err := os.MkdirTemp("", "mbox-dovecot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"run", "state", "home", "root", "idx"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	inbox := filepath.Join(dir, "inbox")
	if err := os.WriteFile(inbox, data, 0o644); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf("base_dir = %s/run\nstate_dir = %s/state\nlog_path = /dev/stderr\nfirst_valid_uid = 1\n"+
		"mbox_md5 = all\nnamespace inbox {\n  inbox = yes\n  prefix =\n  separator = /\n}\n", dir, dir)
	if os.Geteuid() == 0 {
		conf += "mail_uid = nobody\nmail_gid = nogroup\n"
		u, err := user.Lookup("nobody")
		if err != nil {
			t.Skip("no user nobody to run doveadm as")
		}
		var uid int
		fmt.Sscan(u.Uid, &uid)
		filepath.Walk(dir, func(p string, _ os.FileInfo, _ error) error { return os.Chown(p, uid, -1) })
	}
	confPath := filepath.Join(dir, "conv.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(doveadm, "-c", confPath,
		"-o", "mail_location=mbox:"+dir+"/root:INBOX="+inbox+":INDEX="+dir+"/idx",
		"-f", "json", "fetch", "text", "mailbox", "INBOX", "all")
	cmd.Env = append(os.Environ(), "HOME="+dir+"/home", "USER=conv", "TZ=UTC")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("doveadm: %v: %s", err, stderr.String())
	}
	var recs []struct {
		Text string `json:"text"`
	}
	if len(bytes.TrimSpace(out)) == 0 {
		return nil, nil
	}
	if err := json.Unmarshal(out, &recs); err != nil {
		return nil, fmt.Errorf("doveadm output: %v", err)
	}
	var msgs []string
	for _, r := range recs {
		msgs = append(msgs, r.Text)
	}
	return msgs, nil
}

// norm makes our bytes comparable with what comes out of doveadm's JSON:
// invalid UTF-8 bytes become U+FFFD, CRLF becomes LF.
func norm(s string) string {
	return strings.ReplaceAll(string([]rune(s)), "\r\n", "\n")
}

// TestDovecotAgrees compares message count and content with Dovecot for the
// corpus files (those Dovecot reads as mbox).
func TestDovecotAgrees(t *testing.T) {
	doveadm, err := exec.LookPath("doveadm")
	if err != nil {
		t.Skip("doveadm not installed; skipping the comparison with Dovecot")
	}
	if testing.Short() {
		t.Skip("slow: runs doveadm per corpus file")
	}
	files := corpusFiles(t)
	compared, agreed := 0, 0
	for _, path := range files {
		st, err := os.Stat(path)
		if err != nil || st.Size() > 2<<20 {
			continue
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		g := splitAll(t, f, Options{IsSeparator: asctimeSep, Strip: dovecotStrip, Capture: []string{"X-IMAP"}}, 1<<16)
		f.Close()
		if g.err != nil {
			continue // not an mbox for us; Dovecot skips such files too
		}
		dv, err := dovecotFetch(t, doveadm, path)
		if err != nil {
			t.Logf("%s: %v", path, err)
			continue
		}
		ours := g.data
		if len(g.msgs) > 0 && len(g.msgs[0].Fields) > 0 {
			ours = ours[1:] // Dovecot hides a first message with X-IMAP
		}
		compared++
		if len(ours) != len(dv) {
			t.Errorf("%s: %d messages, Dovecot shows %d", path, len(ours), len(dv))
			continue
		}
		ok := true
		for i := range ours {
			if norm(ours[i]) != norm(dv[i]) {
				t.Errorf("%s: message %d differs:\nours    %q\ndovecot %q", path, i+1, clipS(ours[i]), clipS(dv[i]))
				ok = false
				break
			}
		}
		if ok {
			agreed++
		}
	}
	t.Logf("compared %d files with Dovecot, %d identical", compared, agreed)
	if compared == 0 {
		t.Skip("no file could be compared")
	}
}

func clipS(s string) string {
	if len(s) > 300 {
		return s[:150] + " ... " + s[len(s)-150:]
	}
	return s
}
