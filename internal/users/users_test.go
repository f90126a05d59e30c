package users

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"
)

const passwd = `# comment
root:x:0:0:root:/root:/bin/bash

daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash
bob:x:1001:100::/home/bob/:/usr/sbin/nologin
+@netgroup::::::
-eve::::::
+
carol:*:60000:60000:C:/srv/home/carol:
`

func TestParsePasswd(t *testing.T) {
	got, err := ParsePasswd(strings.NewReader(passwd))
	if err != nil {
		t.Fatal(err)
	}
	want := []User{
		{"root", 0, 0, "/root", "/bin/bash"},
		{"daemon", 1, 1, "/usr/sbin", "/usr/sbin/nologin"},
		{"alice", 1000, 1000, "/home/alice", "/bin/bash"},
		{"bob", 1001, 100, "/home/bob", "/usr/sbin/nologin"},
		{"carol", 60000, 60000, "/srv/home/carol", ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	// CRLF and no final newline
	got, err = ParsePasswd(strings.NewReader("a:x:1:2::/h:/s\r\nb:x:3:4::/i:/t"))
	if err != nil || len(got) != 2 || got[0].Shell != "/s" || got[1].Home != "/i" {
		t.Errorf("CRLF/no newline: %+v %v", got, err)
	}
}

func TestParsePasswdErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"few fields", "a:x:1:1::/h:/s\nb:x:1:1:/h\n", "line 2: 5 fields, want 7"},
		{"many fields", "a:x:1:1::/h:/s:extra\n", "line 1: 8 fields"},
		{"empty name", ":x:1:1::/h:/s\n", "line 1: bad user name"},
		{"slash name", "a/b:x:1:1::/h:/s\n", "line 1: bad user name"},
		{"dotdot name", "..:x:1:1::/h:/s\n", "bad user name"},
		{"bad uid", "\n\na:x:one:1::/h:/s\n", "line 3: user a: uid \"one\""},
		{"negative uid", "a:x:-1:1::/h:/s\n", "uid \"-1\""},
		{"uid -1 as unsigned", "a:x:4294967295:1::/h:/s\n", "uid"},
		{"huge uid", "a:x:99999999999:1::/h:/s\n", "uid"},
		{"bad gid", "a:x:1:g::/h:/s\n", "gid \"g\""},
		{"relative home", "a:x:1:1::home/a:/s\n", "not an absolute path"},
		{"empty home", "a:x:1:1:::/s\n", "not an absolute path"},
		{"duplicate", "a:x:1:1::/h:/s\nb:x:2:2::/i:/s\na:x:3:3::/j:/s\n", "line 3: user \"a\" already defined on line 1"},
		{"long line", "a:x:1:1:" + strings.Repeat("g", 70000) + ":/h:/s\n", "line 1: line longer than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePasswd(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func FuzzParsePasswd(f *testing.F) {
	f.Add(passwd)
	f.Add("a:x:1:1::/h:/s")
	f.Fuzz(func(t *testing.T, s string) {
		us, err := ParsePasswd(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, u := range us {
			if u.Name == "" || !filepath.IsAbs(u.Home) || u.UID < 0 || strings.Contains(u.Name, "/") {
				t.Fatalf("bad user %+v", u)
			}
		}
	})
}

func names(us []User) []string {
	var s []string
	for _, u := range us {
		s = append(s, u.Name)
	}
	return s
}

func TestSelect(t *testing.T) {
	all, err := ParsePasswd(strings.NewReader(passwd))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		names    []string
		minUID   int
		everyone bool
		want     []string
		problems []string
	}{
		{"all from 1000 (nologin bob included)", nil, 1000, true, []string{"alice", "bob", "carol"}, nil},
		{"all from 1001", nil, 1001, true, []string{"bob", "carol"}, nil},
		{"all from 0", nil, 0, true, []string{"root", "daemon", "alice", "bob", "carol"}, nil},
		{"nothing asked", nil, 1000, false, nil, nil},
		{"names keep their order", []string{"carol", "alice"}, 1000, false, []string{"carol", "alice"}, nil},
		{"explicit system user taken", []string{"daemon"}, 1000, false, []string{"daemon"}, nil},
		{"unknown names", []string{"alice", "zed", "eve"}, 1000, false, []string{"alice"}, []string{"zed", "eve"}},
		{"duplicates once", []string{"bob", "bob"}, 1000, false, []string{"bob"}, nil},
		{"names plus all", []string{"root"}, 1000, true, []string{"root", "alice", "bob", "carol"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, probs := Select(all, tc.names, tc.minUID, tc.everyone)
			if !reflect.DeepEqual(names(got), tc.want) {
				t.Errorf("got %q, want %q", names(got), tc.want)
			}
			var pn []string
			for _, p := range probs {
				pn = append(pn, p.Name)
				if !strings.Contains(p.Error(), p.Name+": no such user") {
					t.Errorf("problem text %q", p.Error())
				}
			}
			if !reflect.DeepEqual(pn, tc.problems) {
				t.Errorf("problems %q, want %q", pn, tc.problems)
			}
		})
	}
}

func TestParseShard(t *testing.T) {
	for _, tc := range []struct {
		in   string
		k, n int
		ok   bool
	}{
		{"1/1", 1, 1, true}, {"3/8", 3, 8, true}, {" 8/8 ", 8, 8, true},
		{"0/8", 0, 0, false}, {"9/8", 0, 0, false}, {"1/0", 0, 0, false}, {"-1/2", 0, 0, false},
		{"3", 0, 0, false}, {"a/b", 0, 0, false}, {"1/2/3", 0, 0, false}, {"", 0, 0, false},
	} {
		k, n, err := ParseShard(tc.in)
		if (err == nil) != tc.ok || k != tc.k || n != tc.n {
			t.Errorf("ParseShard(%q) = %d, %d, %v", tc.in, k, n, err)
		}
		if err != nil && !strings.Contains(err.Error(), "K/N") {
			t.Errorf("error %q does not explain the form", err)
		}
	}
}

func TestShard(t *testing.T) {
	var all []User
	for i := range 1000 {
		all = append(all, User{Name: fmt.Sprintf("user%04d", i), UID: 60000 + i, Home: "/h"})
	}
	shuffled := append([]User(nil), all...)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for _, n := range []int{1, 2, 3, 7, 16, 100, 1500} {
		count := map[string]int{}
		for k := 1; k <= n; k++ {
			a, b := Shard(all, k, n), Shard(shuffled, k, n)
			an, bn := names(a), names(b)
			sort.Strings(an)
			sort.Strings(bn)
			if !reflect.DeepEqual(an, bn) {
				t.Fatalf("n=%d k=%d: shard depends on passwd order", n, k)
			}
			for _, u := range a {
				count[u.Name]++
				if ShardOf(u.Name, n) != k {
					t.Fatalf("ShardOf(%s, %d) != %d", u.Name, n, k)
				}
			}
			// roughly balanced for small n
			if n <= 16 && (len(a) < 1000/n/2 || len(a) > 1000/n*2) {
				t.Errorf("n=%d k=%d: %d users, unbalanced", n, k, len(a))
			}
		}
		if len(count) != len(all) {
			t.Errorf("n=%d: shards hold %d distinct users, want %d", n, len(count), len(all))
		}
		for name, c := range count {
			if c != 1 {
				t.Errorf("n=%d: %s in %d shards", n, name, c)
			}
		}
	}
	// n = 1 takes everyone
	if len(Shard(all[:1], 1, 1)) != 1 {
		t.Error("unstable")
	}
}

func TestSpoolPath(t *testing.T) {
	if got := SpoolPath(User{Name: "alice"}, "/var/mail/"); got != "/var/mail/alice" {
		t.Errorf("got %q", got)
	}
}

func TestCheckOwnership(t *testing.T) {
	dir := t.TempDir()
	me := os.Geteuid()
	file := filepath.Join(dir, "spool")
	os.WriteFile(file, nil, 0o600)
	link := filepath.Join(dir, "link")
	os.Symlink(file, link)
	sub := filepath.Join(dir, "home")
	os.Mkdir(sub, 0o700)
	other := me + 1
	for _, tc := range []struct {
		name, path string
		uid        int
		want       []string // substrings; nil means no error
		symlink    bool
		notExist   bool
	}{
		{"own file", file, me, nil, false, false},
		{"own dir", sub, me, nil, false, false},
		{"other owner", file, other, []string{file, fmt.Sprintf("owned by uid %d", me), fmt.Sprintf("expected uid %d", other), "chown"}, false, false},
		{"symlink even to own file", link, me, []string{link, "symbolic link", "refusing to follow"}, true, false},
		{"missing", filepath.Join(dir, "nope"), me, []string{"nope"}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckOwnership(tc.path, tc.uid)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, s := range tc.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
			var oe *OwnershipError
			if errors.As(err, &oe) != !tc.notExist || (oe != nil && oe.Symlink != tc.symlink) {
				t.Errorf("error type %T %+v", err, oe)
			}
			if tc.notExist != errors.Is(err, fs.ErrNotExist) {
				t.Errorf("ErrNotExist mismatch: %v", err)
			}
		})
	}
	if me == 0 {
		os.Lchown(file, 60000, 60000)
		if err := CheckOwnership(file, 60000); err != nil {
			t.Errorf("chowned file: %v", err)
		}
		if err := CheckOwnership(file, 0); err == nil {
			t.Error("root accepted a file of uid 60000")
		}
	}
}

func TestSortByName(t *testing.T) {
	us := []User{{Name: "b"}, {Name: "a"}, {Name: "c"}}
	SortByName(us)
	if strings.Join(names(us), "") != "abc" {
		t.Errorf("%q", names(us))
	}
}

// tree lists everything under dir as "path mode [content]".
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, p)
		fi, _ := os.Lstat(p)
		s := fmt.Sprintf("%s %v", rel, fi.Mode())
		if fi.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			s += fmt.Sprintf(" %q", b)
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && os.Geteuid() == 0 {
			s += fmt.Sprintf(" %d:%d", st.Uid, st.Gid)
		}
		out = append(out, s)
		return nil
	})
	return out
}

func TestSkel(t *testing.T) {
	owner := ""
	opt := SkelOptions{}
	if os.Geteuid() == 0 {
		opt = SkelOptions{Chown: true, UID: 60000, GID: 60001}
		owner = " 60000:60001"
	}
	base := t.TempDir()
	md := filepath.Join(base, "Maildir")
	old := syscall.Umask(0o277) // modes must not depend on it
	err := Skel(md, []string{"Sent", "Drafts", "Archive/2022", "Entwürfe", "Sent"}, opt)
	syscall.Umask(old)
	if err != nil {
		t.Fatal(err)
	}
	sub := "\"V\\t2\\n\\nSent\\nDrafts\\nArchive\\t2022\\nEntw&APw-rfe\\n\""
	want := []string{". drwx------" + owner}
	for _, f := range []string{".Archive.2022", ".Drafts", ".Entw&APw-rfe", ".Sent"} {
		want = append(want, f+" drwx------"+owner, f+"/cur drwx------"+owner, f+"/maildirfolder -rw------- \"\""+owner,
			f+"/new drwx------"+owner, f+"/tmp drwx------"+owner)
	}
	want = append(want, "cur drwx------"+owner, "new drwx------"+owner, "subscriptions -rw------- "+sub+owner, "tmp drwx------"+owner)
	got := tree(t, md)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tree:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// again, with one more folder: idempotent, subscriptions gain only the new one
	if err := Skel(md, []string{"Sent", "Junk"}, opt); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(md, "subscriptions"))
	if string(b) != "V\t2\n\nSent\nDrafts\nArchive\t2022\nEntw&APw-rfe\nJunk\n" {
		t.Errorf("subscriptions after rerun %q", b)
	}
	if _, err := os.Stat(filepath.Join(md, ".Junk", "maildirfolder")); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(filepath.Join(md, ".subscriptions.tmp")); err == nil {
		t.Error("temp file left")
	}

	// no folders: no subscriptions file
	md2 := filepath.Join(base, "Plain")
	if err := Skel(md2, nil, SkelOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := tree(t, md2); len(got) != 4 {
		t.Errorf("plain Maildir: %q", got)
	}
	// v1 subscriptions are read and rewritten as v2
	md3 := filepath.Join(base, "V1")
	os.Mkdir(md3, 0o700)
	os.WriteFile(filepath.Join(md3, "subscriptions"), []byte("Old.Sub\nTrash\n"), 0o600)
	if err := Skel(md3, []string{"Trash", "New"}, SkelOptions{}); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(filepath.Join(md3, "subscriptions"))
	if string(b) != "V\t2\n\nOld\tSub\nTrash\nNew\n" {
		t.Errorf("v1 merge %q", b)
	}
	// NoSubscriptions
	md4 := filepath.Join(base, "NoSub")
	if err := Skel(md4, []string{"Sent"}, SkelOptions{NoSubscriptions: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(md4, "subscriptions")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("subscriptions written with NoSubscriptions: %v", err)
	}
}

func TestSkelRefuses(t *testing.T) {
	base := t.TempDir()
	target := filepath.Join(base, "target")
	os.Mkdir(target, 0o755)
	for _, tc := range []struct {
		name    string
		setup   func(md string)
		folders []string
		want    string
	}{
		{"maildir is a symlink", func(md string) { os.Symlink(target, md) }, nil, "not a directory"},
		{"cur is a symlink", func(md string) { os.Mkdir(md, 0o700); os.Symlink(target, filepath.Join(md, "cur")) }, nil, "cur exists and is not a directory"},
		{"folder is a symlink", func(md string) { os.Mkdir(md, 0o700); os.Symlink(target, filepath.Join(md, ".Sent")) }, []string{"Sent"}, ".Sent exists and is not a directory"},
		{"subscriptions is a symlink", func(md string) {
			os.Mkdir(md, 0o700)
			os.Symlink(filepath.Join(target, "x"), filepath.Join(md, "subscriptions"))
		}, []string{"Sent"}, "subscriptions exists and is not a regular file"},
		{"maildirfolder is a symlink", func(md string) {
			os.MkdirAll(filepath.Join(md, ".Sent"), 0o700)
			os.Symlink(filepath.Join(target, "y"), filepath.Join(md, ".Sent", "maildirfolder"))
		}, []string{"Sent"}, "maildirfolder exists and is not a regular file"},
		{"missing parent", func(md string) {}, nil, "parent directory"},
		{"dot in name", func(md string) {}, []string{"a.b"}, "may not hold '.'"},
		{"empty level", func(md string) {}, []string{"a//b"}, "empty"},
		{"inbox", func(md string) {}, []string{"inbox"}, "INBOX is the Maildir itself"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			md := filepath.Join(base, strings.ReplaceAll(tc.name, " ", "_"), "Maildir")
			if tc.name != "missing parent" {
				os.Mkdir(filepath.Dir(md), 0o755)
			}
			tc.setup(md)
			err := Skel(md, tc.folders, SkelOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	if ents, _ := os.ReadDir(target); len(ents) != 0 {
		t.Errorf("something was written through a symlink: %v", ents)
	}
}
