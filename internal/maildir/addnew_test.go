package maildir

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func newFiles(uids ...uint32) []NewFile {
	var fs []NewFile
	for _, u := range uids {
		var k Key
		k.Hash[0], k.N = byte(u), u%3
		fs = append(fs, NewFile{UID: u, Key: k, MTime: 1420071676 + int64(u), Size: 100 + int64(u), VSize: 110 + int64(u)})
	}
	return fs
}

func names(fs []NewFile) []UIDRecord {
	var r []UIDRecord
	for _, f := range fs {
		r = append(r, UIDRecord{UID: f.UID, Name: f.Name()})
	}
	return r
}

// AddNew must list exactly what a loop of Lookup+Add lists, on its fast path (all UIDs
// above the list: the files are named only when written) and on its slow path (UIDs below
// or between listed ones), and Lookup must see the files either way.
func TestAddNewMatchesAdd(t *testing.T) {
	cases := []struct {
		name     string
		existing []UIDRecord
		add      []NewFile
	}{
		{"fresh list", nil, newFiles(1, 2, 3, 10)},
		{"appended after listed", names(newFiles(1, 2)), newFiles(3, 7)},
		{"appended, one already listed keeps its UID", names(newFiles(1, 2)), append(newFiles(5), NewFile{UID: 6, Key: newFiles(2)[0].Key, MTime: newFiles(2)[0].MTime, Size: 102, VSize: 112})},
		{"below the listed UIDs", names(newFiles(5, 9)), newFiles(1, 7, 12)},
		{"nothing", names(newFiles(1)), nil},
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
			for _, r := range names(c.add) {
				if _, listed := want.Lookup(r.Name); listed {
					continue
				}
				if err := want.Add(r.UID, r.Name); err != nil {
					t.Fatal(err)
				}
			}
			add := names(c.add)
			if err := got.AddNew(slices.Clone(c.add)); err != nil {
				t.Fatal(err)
			}
			if g, w := got.EffectiveNextUID(), want.EffectiveNextUID(); g != w {
				t.Errorf("next UID %d, want %d", g, w)
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
				t.Errorf("AddNew gave\n%s\nAdd gave\n%s", gb, wb)
			}
			for _, r := range add {
				gu, ok := got.Lookup(r.Name)
				wu, _ := want.Lookup(r.Name)
				if !ok || gu != wu {
					t.Errorf("%s: UID %d (listed %v) after AddNew, want %d", r.Name, gu, ok, wu)
				}
			}
		})
	}
}

func TestAddNewRejects(t *testing.T) {
	f := newFiles(3)[0]
	for _, c := range []struct {
		name string
		add  []NewFile
		want string
	}{
		{"same UID twice", append(newFiles(3), NewFile{UID: 3, Key: Key{N: 9}}), "UID 3 given to two files"},
		{"descending", append(newFiles(5), newFiles(4)...), "not ascending"},
		{"UID out of range", []NewFile{{UID: 4294967295, Key: f.Key}}, "out of range"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := NewUIDList(1).AddNew(c.add)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("AddNew(%v) = %v, want an error with %q", c.add, err, c.want)
			}
		})
	}
}

// A NewFile's name is the name Writer gives the file it delivers.
func TestNewFileNameIsWriterName(t *testing.T) {
	f := newFiles(42)[0]
	if got, want := f.Name(), Name(f.Key, time.Unix(f.MTime, 0), f.Size, f.VSize); got != want {
		t.Fatalf("NewFile.Name() = %q, Name() = %q", got, want)
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

	// flink: both ways of naming an O_TMPFILE file, EEXIST on a taken name, the long-name
	// path through x/sys, no allocations
	for _, viaProc := range []bool{false, true} {
		fd, err := openatNoAlloc(dfd, ".", unix.O_RDWR|unix.O_TMPFILE, 0o600)
		if err != nil {
			t.Skipf("O_TMPFILE not supported here (%v): flink not tested", err)
		}
		if _, err := unix.Write(fd, []byte("content")); err != nil {
			t.Fatal(err)
		}
		if err := flinkNoAlloc(fd, dfd, "f", viaProc); err != nil {
			t.Fatalf("flink (via /proc %v): %v", viaProc, err)
		}
		if data, err := os.ReadFile(filepath.Join(dir, "f")); err != nil || string(data) != "content" {
			t.Errorf("linked file: %q, %v", data, err)
		}
		if err := flinkNoAlloc(fd, dfd, "f", viaProc); !errors.Is(err, unix.EEXIST) {
			t.Errorf("flink onto a taken name (via /proc %v): %v, want EEXIST", viaProc, err)
		}
		if err := flinkNoAlloc(fd, dfd, strings.Repeat("x", 300), viaProc); !errors.Is(err, unix.ENAMETOOLONG) {
			t.Errorf("flink to a 300-byte name (via /proc %v): %v, want ENAMETOOLONG", viaProc, err)
		}
		if n := testing.AllocsPerRun(50, func() {
			_ = flinkNoAlloc(fd, dfd, "g", viaProc)
			_ = unlinkatNoAlloc(dfd, "g", 0)
		}); n != 0 {
			t.Errorf("%v allocations per flink+unlink (via /proc %v), want 0", n, viaProc)
		}
		unix.Close(fd)
		_ = unlinkatNoAlloc(dfd, "f", 0)
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
