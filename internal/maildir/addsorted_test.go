package maildir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func recs(uids ...uint32) []UIDRecord {
	var r []UIDRecord
	for _, u := range uids {
		r = append(r, UIDRecord{UID: u, Name: fmt.Sprintf("%d.M0Hx.mb2md,S=1,W=1:2,S", u)})
	}
	return r
}

// AddSorted must list exactly what a loop of Lookup+Add lists, on its fast path (all UIDs
// above the list) and on its slow path (UIDs below or between listed ones).
func TestAddSortedMatchesAdd(t *testing.T) {
	cases := []struct {
		name     string
		existing []UIDRecord
		add      []UIDRecord
	}{
		{"fresh list", nil, recs(1, 2, 3, 10)},
		{"appended after listed", recs(1, 2), recs(3, 7)},
		{"appended, one already listed keeps its UID", recs(1, 2), append(recs(5), UIDRecord{UID: 6, Name: recs(2)[0].Name})},
		{"below the listed UIDs", recs(5, 9), recs(1, 7, 12)},
		{"nothing", recs(1), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want, got := NewUIDList(7), NewUIDList(7)
			for _, l := range []*UIDList{want, got} {
				for _, r := range c.existing {
					if err := l.Add(r.UID, r.Name); err != nil {
						t.Fatal(err)
					}
				}
			}
			for _, r := range c.add {
				if _, listed := want.Lookup(r.Name); listed {
					continue
				}
				if err := want.Add(r.UID, r.Name); err != nil {
					t.Fatal(err)
				}
			}
			if err := got.AddSorted(c.add); err != nil {
				t.Fatal(err)
			}
			wb, err := want.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			got.GUID = want.GUID
			gb, err := got.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			if string(wb) != string(gb) {
				t.Errorf("AddSorted gave\n%s\nAdd gave\n%s", gb, wb)
			}
			for _, r := range c.add {
				if _, ok := got.Lookup(r.Name); !ok {
					t.Errorf("%s not listed after AddSorted", r.Name)
				}
			}
		})
	}
}

func TestAddSortedRejects(t *testing.T) {
	for _, c := range []struct {
		name string
		add  []UIDRecord
		want string
	}{
		{"same UID twice", append(recs(3), UIDRecord{UID: 3, Name: "other"}), "UID 3 is already used"},
		{"descending", append(recs(5), recs(4)...), "not ascending"},
		{"UID out of range", recs(4294967295), "out of range"},
		{"line break in name", []UIDRecord{{UID: 1, Name: "a\nb"}}, "line break"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := NewUIDList(1).AddSorted(c.add)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("AddSorted(%v) = %v, want an error with %q", c.add, err, c.want)
			}
		})
	}
}

// The allocation-free system call wrappers behave as x/sys's: same results, same errors,
// also for names they hand over to x/sys (too long, or with a NUL byte).
func TestNoAllocSyscalls(t *testing.T) {
	dir := t.TempDir()
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dfd)
	fd, err := openatNoAlloc(dfd, "a", unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	if _, err := openatNoAlloc(dfd, "a", unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL, 0o600); !errors.Is(err, unix.EEXIST) {
		t.Errorf("second O_EXCL create: %v, want EEXIST", err)
	}
	if _, err := openatNoAlloc(dfd, strings.Repeat("x", 300), unix.O_RDONLY, 0); !errors.Is(err, unix.ENAMETOOLONG) {
		t.Errorf("300-byte name: %v, want ENAMETOOLONG", err)
	}
	if _, err := openatNoAlloc(dfd, "a\x00b", unix.O_RDONLY, 0); !errors.Is(err, unix.EINVAL) {
		t.Errorf("name with NUL: %v, want EINVAL (as x/sys gives)", err)
	}
	fd, _ = openatNoAlloc(dfd, "b", unix.O_WRONLY|unix.O_CREAT, 0o600)
	unix.Close(fd)
	if err := renameat2NoAlloc(dfd, "a", dfd, "b", unix.RENAME_NOREPLACE); !errors.Is(err, unix.EEXIST) {
		t.Errorf("rename onto an existing name: %v, want EEXIST", err)
	}
	if err := renameat2NoAlloc(dfd, "a", dfd, "c", unix.RENAME_NOREPLACE); err != nil {
		t.Errorf("rename: %v", err)
	}
	if err := unlinkatNoAlloc(dfd, "a", 0); !errors.Is(err, unix.ENOENT) {
		t.Errorf("unlink of a renamed file: %v, want ENOENT", err)
	}
	for _, n := range []string{"b", "c"} {
		if err := unlinkatNoAlloc(dfd, n, 0); err != nil {
			t.Errorf("unlink %s: %v", n, err)
		}
	}
	if n := testing.AllocsPerRun(50, func() {
		fd, err := openatNoAlloc(dfd, "d", unix.O_WRONLY|unix.O_CREAT, 0o600)
		if err == nil {
			unix.Close(fd)
		}
		_ = renameat2NoAlloc(dfd, "d", dfd, "e", 0)
		_ = unlinkatNoAlloc(dfd, "e", 0)
	}); n != 0 {
		t.Errorf("%v allocations per create+rename+unlink, want 0", n)
	}
}

// A list that cannot be written (UIDVALIDITY 0, a bad extension field) is refused with the
// list's path, and neither dovecot-uidlist nor its .tmp is left behind.
func TestWriteUIDListRefusesInvalid(t *testing.T) {
	for _, c := range []struct {
		name string
		l    *UIDList
		want string
	}{
		{"uidvalidity 0", &UIDList{Version: 3, NextUID: 1}, "UIDVALIDITY 0"},
		{"bad extension", &UIDList{Version: 3, UIDValidity: 5, NextUID: 1, Records: []UIDRecord{{UID: 1, Name: "a", Ext: []string{"bad ext"}}}}, "invalid extension"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			err := WriteUIDList(dir, c.l)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), filepath.Join(dir, UIDListName)+":") {
				t.Fatalf("WriteUIDList = %v, want an error naming %s with %q", err, filepath.Join(dir, UIDListName), c.want)
			}
			for _, n := range []string{UIDListName, UIDListName + ".tmp", UIDListName + ".lock"} {
				if _, err := os.Lstat(filepath.Join(dir, n)); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s left behind (%v)", n, err)
				}
			}
		})
	}
}
