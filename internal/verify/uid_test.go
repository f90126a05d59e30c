package verify

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mb2md/mb2md/internal/convert"
	"github.com/mb2md/mb2md/internal/maildir"
	"github.com/mb2md/mb2md/internal/source"
)

// editUIDList rewrites the folder's dovecot-uidlist line by line with edit (line 0 is the
// header); a line edit returns "" is dropped.
func editUIDList(t *testing.T, dir string, edit func(i int, line string) string) {
	t.Helper()
	p := filepath.Join(dir, maildir.UIDListName)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if l = edit(i, l); l != "" {
			out = append(out, l)
		}
	}
	if err := os.WriteFile(p, []byte(strings.Join(out, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// setUID replaces the UID of a uidlist record line.
func setUID(line string, uid int) string {
	_, rest, _ := strings.Cut(line, " ")
	return fmt.Sprintf("%d %s", uid, rest)
}

func TestUIDListMissing(t *testing.T) {
	plan := converted(t)
	if err := os.Remove(filepath.Join(plan.Dest, ".Sent", maildir.UIDListName)); err != nil {
		t.Fatal(err)
	}
	p := only(t, run(t, plan, false), UIDListMissing)
	if !p.Difference || p.Folder != "Sent" || !strings.Contains(p.Detail, "7 messages new UIDs") {
		t.Fatalf("%+v", p)
	}
}

func TestUIDMissingAndOrder(t *testing.T) {
	plan := converted(t)
	dir := filepath.Join(plan.Dest, ".Sent")
	editUIDList(t, dir, func(i int, l string) string {
		if i == 2 {
			return "" // the second message is no longer listed
		}
		return l
	})
	p := only(t, run(t, plan, false), UIDMissing)
	if !p.Difference || p.Line == 0 {
		t.Fatalf("%+v", p)
	}
	atFromLine(t, p)

	// in another folder the first two messages swap their UIDs (the list stays ascending,
	// the names change places): the second message now comes before the first
	dir = filepath.Join(plan.Dest, ".lists.debian")
	var names [3]string
	editUIDList(t, dir, func(i int, l string) string {
		if i == 1 || i == 2 {
			_, names[i], _ = strings.Cut(l, " ")
		}
		return l
	})
	editUIDList(t, dir, func(i int, l string) string {
		switch i {
		case 1:
			return "1 " + names[2]
		case 2:
			return "2 " + names[1]
		}
		return l
	})
	rep := run(t, plan, false)
	var order []Problem
	for _, f := range rep.Folders {
		if f.Folder == "lists/debian" {
			order = f.Problems
		}
	}
	if len(order) != 1 || order[0].Kind != UIDOrder || !strings.Contains(order[0].Detail, "UID 1 is not above UID 2") {
		t.Fatalf("problems %+v, want one uid_order\n%s", order, Text(rep))
	}
	if rep.Differences != 2 || rep.OK != rep.Messages-2 {
		t.Fatalf("%d differences, %d of %d ok; want 2 differences (the unlisted message too) and the two messages not ok", rep.Differences, rep.OK, rep.Messages)
	}
}

// convertFiles writes the mbox files (name → content) into a source directory, converts it
// and returns the plan.
func convertFiles(t *testing.T, files map[string]string) *source.Plan {
	t.Helper()
	src := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(src, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	plan, err := source.Resolve(source.Config{Source: src, Dest: filepath.Join(t.TempDir(), "Maildir"), Recurse: true, Cwd: "/", Home: "/nonexistent"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := convert.Run(context.Background(), plan, copts(), nop{}); err != nil {
		t.Fatal(err)
	}
	return plan
}

// A source with X-IMAPbase and X-UIDs: the Maildir must keep each X-UID and the
// UIDVALIDITY, and says so when it does not.
func TestUIDChangedAndUIDValidity(t *testing.T) {
	plan := convertFiles(t, map[string]string{"inbox": "From a@b Sat Jan  3 01:05:01 1996\nX-IMAPbase: 1234567 20\nX-UID: 3\nStatus: RO\n\none\n\n" +
		"From a@b Sat Jan  3 01:05:02 1996\nX-UID: 5\nStatus: RO\n\ntwo\n\n" +
		"From a@b Sat Jan  3 01:05:03 1996\nX-UID: 7\nStatus: RO\n\nthree\n"})
	if rep := run(t, plan, true); !rep.Clean() || rep.OK != 3 {
		t.Fatalf("fresh conversion:\n%s", Text(rep))
	}
	editUIDList(t, plan.Dest, func(i int, l string) string {
		switch i {
		case 0:
			return strings.Replace(l, " V1234567 ", " V999 ", 1)
		case 3:
			return setUID(l, 9)
		}
		return l
	})
	rep := run(t, plan, false)
	kinds := map[Kind]int{}
	for _, p := range rep.Folders[0].Problems {
		kinds[p.Kind]++
		if p.Kind == UIDChanged && !strings.Contains(p.Detail, "UID 9, its X-UID is 7") {
			t.Errorf("detail %q", p.Detail)
		}
	}
	if kinds[UIDChanged] != 1 || kinds[UIDValidityChanged] != 1 || len(rep.Folders[0].Problems) != 2 {
		t.Fatalf("problems %v, want one uid_changed and one uidvalidity_changed\n%s", kinds, Text(rep))
	}
}

// An incremental conversion (mail appended to the source, converted again) and a converted
// folder Dovecot went on numbering verify clean: UIDs are checked for continuity, not
// against a fresh numbering.
func TestUIDsIncrementalClean(t *testing.T) {
	plan := converted(t)
	inbox := filepath.Join(plan.Source, "inbox")
	f, err := os.OpenFile(inbox, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "From a@example.org Sat Jan  3 02:00:00 1996\nSubject: appended\n\nnew\n")
	f.Close()
	if _, err := convert.Run(context.Background(), plan, copts(), nop{}); err != nil {
		t.Fatal(err)
	}
	if rep := run(t, plan, true); !rep.Clean() {
		t.Fatalf("after an incremental run:\n%s", Text(rep))
	}
	// with --compat nothing is checked about UIDs (mb2md 3.20 writes no dovecot-uidlist)
	if err := os.Remove(filepath.Join(plan.Dest, maildir.UIDListName)); err != nil {
		t.Fatal(err)
	}
	o := Options{Convert: copts()}
	o.Convert.Compat = true
	rep, err := Run(context.Background(), plan, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Folders {
		for _, p := range f.Problems {
			if strings.HasPrefix(string(p.Kind), "uid") {
				t.Errorf("compat verify reported %s: %s", p.Kind, p.Detail)
			}
		}
	}
}
