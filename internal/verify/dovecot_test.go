package verify

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mb2md/mb2md/internal/dovetest"
	"github.com/mb2md/mb2md/internal/maildir"
)

// verify after Dovecot: a Maildir that Dovecot has served (it reads dovecot-uidlist, may
// rewrite it and move files) still verifies clean; once Dovecot has renumbered a folder
// (its dovecot-uidlist lost, so it makes a new one with a new UIDVALIDITY), verify says so.
// The UID checks are thus tested against lists Dovecot itself wrote, not only against our
// own edited ones.
func TestVerifyAfterDovecot(t *testing.T) {
	if err := dovetest.Available(); err != nil {
		t.Skipf("dovecot is not installed (%v); CI installs dovecot-imapd", err)
	}
	var mb strings.Builder
	mb.WriteString("From a@b Sat Jan  3 01:05:00 1996\nX-IMAPbase: 1234567 40\nX-UID: 3\nStatus: RO\nSubject: one\n\none\n\n")
	for i, uid := range []string{"5", "8", "13", "21", "34"} {
		fmt.Fprintf(&mb, "From a@b Sat Jan  3 01:%02d:00 1996\nX-UID: %s\nStatus: O\nSubject: m%s\n\nbody %s\n\n", 10+i, uid, uid, uid)
	}
	plan := convertFiles(t, map[string]string{"inbox": mb.String(), "Sent": "From a@b Sat Jan  3 02:00:00 1996\nSubject: sent\n\nsent\n"})
	if rep := run(t, plan, true); !rep.Clean() || rep.OK != 7 {
		t.Fatalf("fresh conversion:\n%s", Text(rep))
	}

	// Dovecot serves the Maildir itself (not a copy) and shows the UIDs of the source
	v := dovetest.Start(t, dovetest.Config{MailLocation: "maildir:" + plan.Dest}).View(t)
	inbox := v.Folder("INBOX")
	if inbox == nil || inbox.UIDValidity != 1234567 || len(inbox.Messages) != 6 || inbox.Messages[5].UID != 34 {
		t.Fatalf("Dovecot's INBOX: %+v", inbox)
	}
	if rep := run(t, plan, true); !rep.Clean() || rep.OK != 7 {
		t.Fatalf("after Dovecot served the Maildir:\n%s", Text(rep))
	}

	// INBOX loses its list: Dovecot numbers it afresh, which verify reports
	if err := os.Remove(filepath.Join(plan.Dest, maildir.UIDListName)); err != nil {
		t.Fatal(err)
	}
	v = dovetest.Start(t, dovetest.Config{MailLocation: "maildir:" + plan.Dest}).View(t)
	if inbox = v.Folder("INBOX"); inbox == nil || inbox.UIDValidity == 1234567 || inbox.Messages[0].UID != 1 {
		t.Fatalf("Dovecot kept the numbering without its list: %+v", inbox)
	}
	rep := run(t, plan, false)
	kinds := map[Kind]int{}
	for _, f := range rep.Folders {
		for _, p := range f.Problems {
			kinds[p.Kind]++
			if f.Folder != "" && f.Folder != "INBOX" {
				t.Errorf("a problem in %q, which Dovecot did not renumber: %+v", f.Folder, p)
			}
		}
	}
	if kinds[UIDValidityChanged] != 1 || kinds[UIDChanged] == 0 || rep.Clean() {
		t.Fatalf("problems %v, want uidvalidity_changed and uid_changed\n%s", kinds, Text(rep))
	}
}
