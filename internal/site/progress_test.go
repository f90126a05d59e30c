package site_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mb2md/mb2md/internal/site"
)

// Live progress: while users are converted, each child's running totals reach OnProgress
// (taken out of the child's output), and the last report equals the user's final counts.
func TestLiveProgress(t *testing.T) {
	needRoot(t)
	fx := newSite(t)
	fx.populate(6)
	var mu sync.Mutex
	last := map[string][2]int64{}
	calls := 0
	rep := fx.run(context.Background(), func(c *site.Config) {
		c.OnProgress = func(user string, messages int, bytes int64) {
			mu.Lock()
			defer mu.Unlock()
			calls++
			prev := last[user]
			if int64(messages) < prev[0] || bytes < prev[1] {
				t.Errorf("%s: progress went back from %v to %d/%d", user, prev, messages, bytes)
			}
			last[user] = [2]int64{int64(messages), bytes}
		}
	})
	for _, u := range rep.Users {
		var written int64
		for _, m := range u.Mailboxes {
			written += m.Bytes
		}
		got := last[u.Name]
		if u.Status != site.StatusOK || got[0] != int64(u.Messages) || got[1] != written {
			t.Errorf("%s: last progress %v, final %d messages %d bytes (%s)", u.Name, got, u.Messages, written, u.Status)
		}
	}
	if calls < len(rep.Users) {
		t.Errorf("%d progress calls for %d users", calls, len(rep.Users))
	}
}

// An unreadable folder directory fails that folder only: the user's other mail is converted
// and the user ends with status error naming the directory.
func TestUnreadableFolderDirectory(t *testing.T) {
	needRoot(t)
	fx := newSite(t)
	fx.addUser("u01", firstUID)
	fx.appendMail(fx.spoolOf("u01"), "u01", 3, 0)
	fx.folder("u01", "Sent", 2)
	fx.folder("u01", "old/2019", 2)
	locked := filepath.Join(fx.homes["u01"], "mail", "old")
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	rep := fx.run(context.Background(), nil)
	u := rep.Users[0]
	if u.Status != site.StatusError || !strings.Contains(u.Error, locked) || !strings.Contains(u.Error, "permission denied") {
		t.Fatalf("status %s, error %q", u.Status, u.Error)
	}
	if u.Written != 5 {
		t.Errorf("%d messages written, want the 5 of the spool and Sent", u.Written)
	}
}

// --layout fs reaches the per-user child: folders become nested directories.
func TestUsersLayoutFS(t *testing.T) {
	needRoot(t)
	fx := newSite(t)
	fx.addUser("u01", firstUID)
	fx.folder("u01", "lists/debian.announce", 2)
	rep := fx.run(context.Background(), func(c *site.Config) { c.Conv.Layout = "fs" })
	if u := rep.Users[0]; u.Status != site.StatusOK || u.Written != 2 {
		t.Fatalf("%s: %d written (%s)", u.Status, u.Written, u.Error)
	}
	if _, err := os.Stat(filepath.Join(fx.homes["u01"], "Maildir", "lists", "debian.announce", "cur")); err != nil {
		t.Errorf("LAYOUT=fs folder: %v", err)
	}
}

// A spool that is not an mbox is an error for that user (as with -m), while a non-mbox file
// in the user's folder directory is only a warning; the rest is converted.
func TestUsersSpoolNotMbox(t *testing.T) {
	needRoot(t)
	fx := newSite(t)
	fx.addUser("u01", firstUID)
	fx.folder("u01", "Sent", 2)
	fx.folder("u01", "notes", 1)
	if err := os.WriteFile(filepath.Join(fx.homes["u01"], "mail", "notes"), []byte("just notes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fx.spoolOf("u01"), []byte("Dear diary,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(fx.spoolOf("u01"), firstUID, firstUID); err != nil {
		t.Fatal(err)
	}
	u := fx.run(context.Background(), nil).Users[0]
	if u.Status != site.StatusError || !strings.Contains(u.Error, fx.spoolOf("u01")) || !strings.Contains(u.Error, "not an mbox") {
		t.Errorf("status %s, error %q", u.Status, u.Error)
	}
	if strings.Contains(u.Error, "notes") || u.Written != 2 {
		t.Errorf("folders: %d written, error %q (the notes file is only a warning)", u.Written, u.Error)
	}
}
