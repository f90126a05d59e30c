package convert

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mb2md/mb2md/internal/dovetest"
	"github.com/mb2md/mb2md/internal/maildir"
	"github.com/mb2md/mb2md/internal/mbox"
	"github.com/mb2md/mb2md/internal/source"
)

// genFlagged writes an mbox of n messages carrying UW/Dovecot metadata: X-IMAPbase in the
// first message (UIDVALIDITY, last UID, declared keywords), X-UID with gaps and a few
// out-of-order values, X-Keywords with declared and undeclared keywords, Status/X-Status.
func genFlagged(n int, uidValidity uint32, start int) string {
	var b strings.Builder
	declared := []string{"$Label1", "work", "todo", "Junk", "NonJunk"}
	uid := 0
	last := n*2 + 10
	for i := 0; i < n; i++ {
		t := time.Unix(int64(1_000_000_000+(start+i)*3607), 0).UTC()
		fmt.Fprintf(&b, "From user%d@example.org %s\n", i%7, t.Format("Mon Jan _2 15:04:05 2006"))
		if i == 0 && uidValidity != 0 {
			fmt.Fprintf(&b, "X-IMAPbase: %d %010d %s\n", uidValidity, last, strings.Join(declared, " "))
		}
		fmt.Fprintf(&b, "Date: %s\nFrom: user%d@example.org\nSubject: message %d\nMessage-ID: <%d.%d@example.org>\n",
			t.Format(time.RFC1123Z), i%7, start+i, start+i, uidValidity)
		switch i % 5 {
		case 0:
			b.WriteString("Status: RO\n")
		case 1:
			b.WriteString("Status: O\nX-Status: AF\n")
		case 2:
			b.WriteString("Status: R\nX-Status: T\n")
		case 3:
			b.WriteString("X-Status: D\n")
		}
		if i%3 == 0 {
			fmt.Fprintf(&b, "X-Keywords: %s %s\n", declared[i%len(declared)], map[bool]string{true: "undeclared", false: ""}[i%9 == 0])
		}
		if uidValidity != 0 {
			uid += 1 + i%3
			x := uid
			if i%97 == 50 {
				x = 3 // not increasing: Dovecot renumbers it
			}
			fmt.Fprintf(&b, "X-UID: %d\n", x)
		}
		fmt.Fprintf(&b, "\nBody of message %d.\n", start+i)
		if i%11 == 0 {
			b.WriteString(">From a quoted line\n\n")
		}
		b.WriteString("\n")
	}
	return b.String()
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		copyFile(t, p, target)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDovecotContinuity: Dovecot shows the same folders, subscriptions, UIDVALIDITY, UIDs,
// flags, keywords, INTERNALDATE, sizes, bytes and POP3 UIDLs from our Maildir as from the
// mbox tree; a second run and an incremental run keep every UID.
func TestDovecotContinuity(t *testing.T) {
	if err := dovetest.Available(); err != nil {
		t.Skipf("dovecot is not installed (%v); CI installs dovecot-imapd", err)
	}
	work := t.TempDir()
	src := filepath.Join(work, "src")
	writeFile(t, filepath.Join(src, "inbox"), genFlagged(2000, 1234567890, 0))
	writeFile(t, filepath.Join(src, "Sent"), genFlagged(30, 0, 5000))
	writeFile(t, filepath.Join(src, "lists", "debian.announce"), genFlagged(12, 777, 6000))
	writeFile(t, filepath.Join(src, "lists", "sub", "deep"), genFlagged(3, 0, 6100))
	writeFile(t, filepath.Join(src, maildir.EncodeMUTF7("日本語")), genFlagged(5, 0, 7000))
	writeFile(t, filepath.Join(src, maildir.EncodeMUTF7("Entwürfe & Notizen")), genFlagged(4, 0, 8000))
	writeFile(t, filepath.Join(src, "a.b.c"), genFlagged(2, 0, 9000))
	// Dovecot's own mbox subscription list (v1: one name per line, "/" between levels)
	writeFile(t, filepath.Join(src, ".subscriptions"), "Sent\nlists/debian.announce\n"+maildir.EncodeMUTF7("日本語")+"\n")

	// Dovecot's view of the mbox tree (from a copy: Dovecot rewrites what it serves)
	view := filepath.Join(work, "view")
	copyTree(t, src, view)
	want := dovetest.Start(t, dovetest.Config{MailLocation: "mbox:" + view + ":INBOX=" + filepath.Join(view, "inbox"), POP3: true})
	wv := want.View(t)
	wantUIDLs := want.POP3UIDLs(t)

	dest := filepath.Join(work, "Maildir")
	convertTree := func() []*Result {
		t.Helper()
		plan, err := source.Resolve(source.Config{Source: src, Dest: dest, Recurse: true, Home: work, Cwd: work})
		if err != nil {
			t.Fatal(err)
		}
		rs, err := Run(context.Background(), plan, Options{Format: mbox.Auto, Loc: time.UTC, Now: time.Now()}, nopObserver{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if r.Error != "" {
				t.Fatalf("%s: %s", r.Source, r.Error)
			}
		}
		return rs
	}
	convertTree()
	serve := func() (*dovetest.View, []string) {
		t.Helper()
		cp := filepath.Join(t.TempDir(), "Maildir")
		copyTree(t, dest, cp)
		s := dovetest.Start(t, dovetest.Config{MailLocation: "maildir:" + cp, POP3: true})
		return s.View(t), s.POP3UIDLs(t)
	}
	gv, gotUIDLs := serve()
	compareViews(t, wv, gv)
	if strings.Join(gotUIDLs, " ") != strings.Join(wantUIDLs, " ") {
		t.Errorf("POP3 UIDLs differ: %d from the mbox, %d from the Maildir; first %q vs %q", len(wantUIDLs), len(gotUIDLs), first(wantUIDLs), first(gotUIDLs))
	}

	// a second run changes nothing
	for _, r := range convertTree() {
		if r.Written != 0 {
			t.Errorf("second run wrote %d messages into %s", r.Written, r.Folder)
		}
	}
	gv2, _ := serve()
	compareViews(t, wv, gv2)

	// new mail arrives in the spool: only it is converted, every earlier UID stays
	f, err := os.OpenFile(filepath.Join(src, "inbox"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	extra := genFlagged(5, 0, 20000)
	if _, err := f.WriteString(extra); err != nil {
		t.Fatal(err)
	}
	f.Close()
	written := 0
	for _, r := range convertTree() {
		written += r.Written
	}
	if written != 5 {
		t.Errorf("incremental run wrote %d messages, want 5", written)
	}
	view2 := filepath.Join(work, "view2")
	copyTree(t, src, view2)
	wv3 := dovetest.Start(t, dovetest.Config{MailLocation: "mbox:" + view2 + ":INBOX=" + filepath.Join(view2, "inbox")}).View(t)
	gv3, _ := serve()
	compareViews(t, wv3, gv3)
	t.Logf("compared %d folders, %d INBOX messages (UIDs up to %d), %d POP3 UIDLs", len(wv.Folders), len(wv3.Folder("INBOX").Messages),
		wv3.Folder("INBOX").Messages[len(wv3.Folder("INBOX").Messages)-1].UID, len(wantUIDLs))

	// Dovecot's :UTF-8 (--utf8): folder directories and subscriptions in UTF-8
	utfDest := filepath.Join(work, "MaildirUTF8")
	plan, err := source.Resolve(source.Config{Source: src, Dest: utfDest, Recurse: true, Home: work, Cwd: work})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), plan, Options{Format: mbox.Auto, Loc: time.UTC, Now: time.Now(), UTF8: true}, nopObserver{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(utfDest, ".日本語", "cur")); err != nil {
		t.Errorf("--utf8: %v", err)
	}
	compareViews(t, wv3, dovetest.Start(t, dovetest.Config{MailLocation: "maildir:" + utfDest, UTF8: true}).View(t))

	// Dovecot's LAYOUT=fs: nested directories, dots kept in names
	fsDest := filepath.Join(work, "MaildirFS")
	plan, err = source.Resolve(source.Config{Source: src, Dest: fsDest, Recurse: true, Home: work, Cwd: work, LayoutFS: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), plan, Options{Format: mbox.Auto, Loc: time.UTC, Now: time.Now(), LayoutFS: true}, nopObserver{}); err != nil {
		t.Fatal(err)
	}
	fsView := dovetest.Start(t, dovetest.Config{MailLocation: "maildir:" + fsDest, LayoutFS: true}).View(t)
	keepDots = true
	defer func() { keepDots = false }()
	compareViews(t, wv3, fsView)
}

// keepDots: folder names are compared as they are (LAYOUT=fs keeps dots).
var keepDots bool

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// imapName maps a Dovecot mbox folder name to the name of our Maildir++ folder: '.' in a
// name becomes '_' (Maildir++ uses '.' as its separator), as dsync does.
func imapName(n string) string {
	if keepDots {
		return n
	}
	return strings.ReplaceAll(n, ".", "_")
}

func compareViews(t *testing.T, want, got *dovetest.View) {
	t.Helper()
	var wn, gn []string
	for _, f := range want.Folders {
		wn = append(wn, imapName(f.Name))
	}
	for _, f := range got.Folders {
		gn = append(gn, f.Name)
	}
	sort.Strings(wn)
	sort.Strings(gn)
	if strings.Join(wn, "|") != strings.Join(gn, "|") {
		t.Fatalf("folders differ:\nmbox:    %q\nMaildir: %q", wn, gn)
	}
	for _, wf := range want.Folders {
		gf := got.Folder(imapName(wf.Name))
		if gf.Subscribed != wf.Subscribed {
			t.Errorf("%s: subscribed %v, Dovecot showed %v", wf.Name, gf.Subscribed, wf.Subscribed)
		}
		declared := wf.Name == "INBOX" || wf.Name == "lists/debian.announce"
		if declared {
			// these mboxes carry X-IMAPbase: the UIDVALIDITY must survive
			if gf.UIDValidity != wf.UIDValidity {
				t.Errorf("%s: UIDVALIDITY %d, Dovecot showed %d", wf.Name, gf.UIDValidity, wf.UIDValidity)
			}
		}
		if len(gf.Messages) != len(wf.Messages) {
			t.Errorf("%s: %d messages, Dovecot showed %d", wf.Name, len(gf.Messages), len(wf.Messages))
			continue
		}
		bad := 0
		for i, w := range wf.Messages {
			g := gf.Messages[i]
			var diffs []string
			if g.UID != w.UID {
				diffs = append(diffs, fmt.Sprintf("UID %d vs %d", g.UID, w.UID))
			}
			if strings.Join(g.Flags, " ") != strings.Join(w.Flags, " ") {
				diffs = append(diffs, fmt.Sprintf("flags %v vs %v", g.Flags, w.Flags))
			}
			// we keep undeclared keywords, which Dovecot drops (with the whole X-Keywords
			// line it found them in): ours must contain Dovecot's, and extra ones are only
			// allowed on a message whose X-Keywords had an undeclared keyword (in a folder
			// without X-IMAPbase every keyword is undeclared)
			have := map[string]bool{}
			for _, k := range g.Keywords {
				have[k] = true
			}
			for _, k := range w.Keywords {
				if !have[k] {
					diffs = append(diffs, fmt.Sprintf("keyword %s missing", k))
				}
				delete(have, k)
			}
			if len(have) > 0 && declared && !have["undeclared"] {
				for k := range have {
					diffs = append(diffs, fmt.Sprintf("extra keyword %s", k))
				}
			}
			if !g.InternalDate.Equal(w.InternalDate) {
				diffs = append(diffs, fmt.Sprintf("INTERNALDATE %s vs %s", g.InternalDate, w.InternalDate))
			}
			if g.Size != w.Size || string(g.Body) != string(w.Body) {
				diffs = append(diffs, fmt.Sprintf("body differs (%d vs %d bytes)", g.Size, w.Size))
			}
			if len(diffs) > 0 {
				bad++
				if bad <= 5 {
					t.Errorf("%s message %d: %s", wf.Name, i+1, strings.Join(diffs, "; "))
				}
			}
		}
		if bad > 5 {
			t.Errorf("%s: %d messages differ in all", wf.Name, bad)
		}
	}
}
