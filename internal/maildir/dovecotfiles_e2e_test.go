package maildir

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mb2md/mb2md/internal/dovetest"
)

// TestDovecotServesOurStateFiles writes a Maildir by hand with dovecot-uidlist,
// dovecot-keywords and subscriptions made by this package, serves it with a private
// Dovecot and checks that IMAP and POP3 show exactly our UIDVALIDITY, UIDs, keywords and
// subscriptions.
func TestDovecotServesOurStateFiles(t *testing.T) {
	if err := dovetest.Available(); err != nil {
		t.Skipf("%v", err)
	}
	root := filepath.Join(t.TempDir(), "Maildir")
	type fmsg struct {
		uid   uint32
		name  string
		flags string
		kws   []string
	}
	folders := []struct {
		dir, imap string
		validity  uint32
		next      uint32
		msgs      []fmsg
	}{
		{"", "INBOX", 1234567890, 100, []fmsg{
			{5, "1700000000.M1P1.host", "S", []string{"$Label1"}},
			{11, "1700000001.M2P1.host", "", nil},
			{12, "1700000002.M3P1.host", "RS", []string{"work", "$label1"}},
		}},
		{".Archive.2022", "Archive/2022", 42, 0, []fmsg{
			{1, "1700000003.M4P1.host", "S", nil},
			{7, "1700000004.M5P1.host", "F", []string{"Junk"}},
		}},
		{".Entw&APw-rfe", "Entwürfe", 43, 0, nil},
	}
	for _, f := range folders {
		dir := filepath.Join(root, f.dir)
		for _, sub := range []string{"cur", "new", "tmp"} {
			if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
				t.Fatal(err)
			}
		}
		if f.dir != "" {
			os.WriteFile(filepath.Join(dir, "maildirfolder"), nil, 0o600)
		}
		var used []string
		for _, m := range f.msgs {
			used = append(used, m.kws...)
		}
		kwList, letters, dropped := AssignKeywords(nil, used)
		if len(dropped) != 0 {
			t.Fatal(dropped)
		}
		list := NewUIDList(f.validity)
		list.NextUID = f.next
		for _, m := range f.msgs {
			info := []byte(m.flags)
			for _, k := range m.kws {
				if l := letters[k]; !slices.Contains(info, l) {
					info = append(info, l)
				}
			}
			slices.Sort(info)
			name := m.name + ":2," + string(info)
			body := fmt.Sprintf("Subject: uid %d\n\nbody %d\n", m.uid, m.uid)
			if err := os.WriteFile(filepath.Join(dir, "cur", name), []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := list.Add(m.uid, name); err != nil {
				t.Fatal(err)
			}
		}
		if err := WriteUIDList(dir, list); err != nil {
			t.Fatal(err)
		}
		if len(kwList) > 0 {
			if err := WriteKeywords(dir, kwList); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := WriteSubscriptions(root, [][]string{{"inbox"}, {"Archive", "2022"}, {"Entwürfe"}}, false, 0); err != nil {
		t.Fatal(err)
	}

	srv := dovetest.Start(t, dovetest.Config{MailLocation: "maildir:" + root, POP3: true})
	v := srv.View(t)
	if want := []string{"Archive/2022", "Entwürfe", "INBOX"}; !slices.Equal(v.Subscriptions, want) {
		t.Errorf("subscriptions %q, want %q", v.Subscriptions, want)
	}
	for _, f := range folders {
		vf := v.Folder(f.imap)
		if vf == nil {
			t.Errorf("folder %s missing; view:\n%s", f.imap, v)
			continue
		}
		if vf.UIDValidity != f.validity {
			t.Errorf("%s: UIDVALIDITY %d, want %d", f.imap, vf.UIDValidity, f.validity)
		}
		wantNext := f.next
		if n := len(f.msgs); n > 0 && f.msgs[n-1].uid >= wantNext {
			wantNext = f.msgs[n-1].uid + 1
		}
		if wantNext == 0 {
			wantNext = 1
		}
		if vf.UIDNext != wantNext {
			t.Errorf("%s: UIDNEXT %d, want %d", f.imap, vf.UIDNext, wantNext)
		}
		if len(vf.Messages) != len(f.msgs) {
			t.Errorf("%s: %d messages, want %d", f.imap, len(vf.Messages), len(f.msgs))
			continue
		}
		for i, m := range f.msgs {
			got := vf.Messages[i]
			if got.UID != m.uid {
				t.Errorf("%s message %d: UID %d, want %d", f.imap, i+1, got.UID, m.uid)
			}
			if !strings.Contains(string(got.Body), fmt.Sprintf("uid %d", m.uid)) {
				t.Errorf("%s UID %d: wrong body %q", f.imap, got.UID, got.Body)
			}
			// keywords compare without case in Dovecot: the first spelling is kept
			var want []string
			for _, k := range m.kws {
				if !slices.ContainsFunc(want, func(w string) bool { return strings.EqualFold(w, k) }) {
					want = append(want, k)
				}
			}
			for j, w := range want {
				for _, e := range []string{"$Label1", "work", "Junk"} {
					if strings.EqualFold(e, w) {
						want[j] = e
					}
				}
			}
			slices.Sort(want)
			if !slices.Equal(got.Keywords, want) && !(len(want) == 0 && len(got.Keywords) == 0) {
				t.Errorf("%s UID %d: keywords %q, want %q", f.imap, got.UID, got.Keywords, want)
			}
		}
	}
	// POP3 UIDLs of INBOX follow Dovecot's default %08Xu%08Xv
	uidls := srv.POP3UIDLs(t)
	var want []string
	for _, m := range folders[0].msgs {
		want = append(want, POP3UIDL(m.uid, folders[0].validity))
	}
	if !slices.Equal(uidls, want) {
		t.Errorf("POP3 UIDLs %q, want %q", uidls, want)
	}

	srv.Close()

	// Dovecot-written lists: a new file gets N (100) from our list, and the list Dovecot
	// rewrites parses and re-serializes byte for byte
	newName := "1700000009.M9P1.host:2,S"
	if err := os.WriteFile(filepath.Join(root, "cur", newName), []byte("Subject: new\n\nnew\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv2 := dovetest.Start(t, dovetest.Config{MailLocation: "maildir:" + root})
	v2 := srv2.View(t)
	srv2.Close()
	inbox := v2.Folder("INBOX")
	if inbox == nil || len(inbox.Messages) != 4 || inbox.Messages[3].UID != 100 {
		t.Fatalf("after adding a file Dovecot shows:\n%s", v2)
	}
	raw, err := os.ReadFile(filepath.Join(root, UIDListName))
	if err != nil {
		t.Fatal(err)
	}
	l, err := ReadUIDList(root)
	if err != nil {
		t.Fatalf("Dovecot's list:\n%s\n%v", raw, err)
	}
	if uid, ok := l.Lookup(newName); !ok || uid != 100 || l.UIDValidity != 1234567890 || l.EffectiveNextUID() != 101 {
		t.Errorf("Dovecot's list parsed as %+v:\n%s", l, raw)
	}
	// Dovecot appended the record without raising N (it reads max(N, last UID+1));
	// we write that effective value, everything else is identical
	again, err := l.Bytes()
	wantList := strings.Replace(string(raw), " N100 ", " N101 ", 1)
	if err != nil || string(again) != wantList {
		t.Errorf("re-serialized list differs:\n%s\nDovecot's:\n%s", again, raw)
	}
}
