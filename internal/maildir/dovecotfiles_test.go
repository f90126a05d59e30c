package maildir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mb2md/mb2md/internal/lockfile"
)

func TestUIDListRoundTrip(t *testing.T) {
	l := NewUIDList(1700000000)
	for _, a := range []struct {
		uid  uint32
		name string
	}{{10, "b:2,S"}, {3, "a"}, {20, "c:2,"}, {15, "d"}} {
		if err := l.Add(a.uid, a.name); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Add(10, "b:2,FS"); err != nil {
		t.Errorf("re-adding the same name and UID: %v", err)
	}
	for _, bad := range []struct {
		uid  uint32
		name string
	}{{11, "b"}, {3, "zzz"}, {0, "x"}, {4294967295, "x"}, {5, "a/b"}, {5, ""}, {5, "x\ny"}} {
		if err := l.Add(bad.uid, bad.name); err == nil {
			t.Errorf("Add(%d, %q) succeeded", bad.uid, bad.name)
		}
	}
	b, err := l.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if want := fmt.Sprintf("3 V1700000000 N21 G%s", l.GUID); lines[0] != want || len(l.GUID) != 32 {
		t.Errorf("header %q, want %q", lines[0], want)
	}
	if want := []string{"3 :a", "10 :b", "15 :d", "20 :c"}; !slices.Equal(lines[1:], want) {
		t.Errorf("records %q, want %q", lines[1:], want)
	}
	r, err := parseUIDList(strings.NewReader(string(b)), "x")
	if err != nil {
		t.Fatal(err)
	}
	if r.UIDValidity != 1700000000 || r.NextUID != 21 || r.GUID != l.GUID || len(r.Records) != 4 {
		t.Errorf("parsed %+v", r)
	}
	if uid, ok := r.Lookup("d:2,S"); !ok || uid != 15 {
		t.Errorf("Lookup(d:2,S) = %d, %v", uid, ok)
	}
	if _, ok := r.Lookup("nope"); ok {
		t.Error("Lookup(nope) found")
	}
}

func TestParseUIDListDovecotForms(t *testing.T) {
	guid := "0123456789abcdef0123456789abcdef"
	in := "3 V424242 N1 G" + guid + " Zfuture\n" +
		"10 G" + guid + " W123 :1700000000.1_0.host,S=14\n" +
		"20   :1700000000.2_0.host,S=15:2,S\n" +
		"53 :1700000000.3_0.host\n" +
		"54 :1700000000.1_0.host,S=14\n" // duplicate file: the later record wins
	l, err := parseUIDList(strings.NewReader(in), "dovecot-uidlist")
	if err != nil {
		t.Fatal(err)
	}
	if l.EffectiveNextUID() != 55 {
		t.Errorf("EffectiveNextUID %d, want 55 (stale N1)", l.EffectiveNextUID())
	}
	if uid, _ := l.Lookup("1700000000.1_0.host,S=14:2,RS"); uid != 54 {
		t.Errorf("duplicate record: UID %d, want 54", uid)
	}
	if uid, _ := l.Lookup("1700000000.2_0.host,S=15"); uid != 20 {
		t.Errorf("record with extra spaces: UID %d", uid)
	}
	b, err := l.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	want := "3 V424242 N55 G" + guid + " Zfuture\n20 :1700000000.2_0.host,S=15\n53 :1700000000.3_0.host\n54 :1700000000.1_0.host,S=14\n"
	if string(b) != want {
		t.Errorf("rewritten:\n%s\nwant:\n%s", b, want)
	}
	// the extension fields of a record are kept
	l2, _ := parseUIDList(strings.NewReader("3 V1 N5\n4 G"+guid+" W9 :f\n"), "x")
	b, _ = l2.Bytes()
	if !strings.HasSuffix(string(b), "\n4 G"+guid+" W9 :f\n") {
		t.Errorf("extensions lost: %q", b)
	}

	v1, err := parseUIDList(strings.NewReader("1 77 10\n3 foo:2,S\n9 bar\n"), "x")
	if err != nil {
		t.Fatal(err)
	}
	if v1.Version != 1 || v1.UIDValidity != 77 || v1.EffectiveNextUID() != 10 {
		t.Errorf("v1: %+v", v1)
	}
	if uid, _ := v1.Lookup("foo"); uid != 3 {
		t.Errorf("v1 Lookup(foo) = %d", uid)
	}

	for _, bad := range []struct{ in, want string }{
		{"", "empty file"},
		{"x V1 N1\n", ":1: invalid version"},
		{"2 V1 N1\n", "unsupported version"},
		{"3 N5\n", "broken header"},
		{"3 V1 N5 Gzz\n", "invalid mailbox GUID"},
		{"3 V1 N5\n5 :a\n4 :b\n", ":3: UIDs not ascending"},
		{"3 V1 N5\n0 :a\n", "invalid record"},
		{"3 V1 N5\n5:a\n", "invalid record"},
		{"3 V1 N5\n5 a\n", "invalid extension"},
		{"3 V1 N5\n5 :\n", "without file name"},
		{"3 V1 N5\n5 :a/b\n", "broken file name"},
		{"3 V1 N5\n4294967295 :a\n", "too high"},
		{"1 7 5\n6 a\n", "not below the next UID"},
		{"3 V1 N5\n" + strings.Repeat("x", maxStateLine+10) + "\n", "longer than"},
	} {
		_, err := parseUIDList(strings.NewReader(bad.in), "dovecot-uidlist")
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("parse %.30q: err %v, want %q", bad.in, err, bad.want)
		}
	}
}

func TestWriteReadUIDList(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadUIDList(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing list: %v", err)
	}
	l := NewUIDList(99)
	l.Add(1, "one:2,S")
	l.Add(2, "two")
	if err := WriteUIDList(dir, l); err != nil {
		t.Fatal(err)
	}
	if got := lsDir(t, dir); !slices.Equal(got, []string{UIDListName}) {
		t.Errorf("directory holds %q (lock or temp file left?)", got)
	}
	err := UpdateUIDList(dir, LockOptions{}, func(l *UIDList) (*UIDList, error) {
		if l == nil || len(l.Records) != 2 {
			t.Fatalf("read back %+v", l)
		}
		return l, l.Add(l.EffectiveNextUID(), "three")
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := ReadUIDList(dir)
	if err != nil {
		t.Fatal(err)
	}
	if uid, _ := r.Lookup("three"); uid != 3 || r.UIDValidity != 99 || r.GUID != l.GUID {
		t.Errorf("after update: %+v", r)
	}
	fi, _ := os.Stat(filepath.Join(dir, UIDListName))
	if fi.Mode().Perm() != fileModeFor(dir) {
		t.Errorf("mode %v, want %v", fi.Mode().Perm(), fileModeFor(dir))
	}
}

func lsDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// fakeClock's Sleep advances Now: lock waiting runs without real sleeping.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	slept  time.Duration
	onTick func(time.Time)
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Sleep(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.slept += d
	now, f := c.now, c.onTick
	c.mu.Unlock()
	if f != nil {
		f(now)
	}
}
func (c *fakeClock) opts(timeout, stale time.Duration) LockOptions {
	return LockOptions{Timeout: timeout, StaleTimeout: stale, Now: c.Now, Sleep: c.Sleep}
}

func TestLockHeldTimesOut(t *testing.T) {
	dir := t.TempDir()
	lock := filepath.Join(dir, UIDListName+".lock")
	// PID 1 always exists: Dovecot never overrides a lock of a live local process,
	// however old
	if err := os.WriteFile(lock, []byte("1:"+lockfile.Hostname()), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	os.Chtimes(lock, old, old)
	clk := &fakeClock{now: time.Now()}
	_, err := LockFolder(dir, clk.opts(10*time.Second, 3*time.Second))
	if !errors.Is(err, ErrLockTimeout) || !strings.Contains(err.Error(), lock) {
		t.Fatalf("err %v; want a timeout naming %s", err, lock)
	}
	if clk.slept < 10*time.Second || clk.slept > 14*time.Second {
		t.Errorf("waited %v, want about the 10s timeout", clk.slept)
	}
	if b, _ := os.ReadFile(lock); string(b) != "1:"+lockfile.Hostname() {
		t.Errorf("held lock was touched: %q", b)
	}
	// a held lock that goes away while we wait
	clk = &fakeClock{now: time.Now()}
	clk.onTick = func(now time.Time) {
		if clk.slept > 2*time.Second {
			os.Remove(lock)
		}
	}
	fl, err := LockFolder(dir, clk.opts(10*time.Second, 0))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(lock)
	if want := fmt.Sprintf("%d:%s", os.Getpid(), lockfile.Hostname()); string(b) != want {
		t.Errorf("lock content %q, want %q", b, want)
	}
	if err := fl.Unlock(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(lock); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("lock still there after Unlock: %v", err)
	}
}

func TestLockStaleOverridden(t *testing.T) {
	dir := t.TempDir()
	lock := filepath.Join(dir, UIDListName+".lock")
	// a lock without PID (e.g. from another host's Dovecot over NFS): overridden when
	// neither it nor dovecot-uidlist changed for the stale timeout
	if err := os.WriteFile(lock, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	clk := &fakeClock{now: time.Now()}
	fl, err := LockFolder(dir, clk.opts(300*time.Second, 120*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if clk.slept < 120*time.Second || clk.slept > 130*time.Second {
		t.Errorf("overridden after %v, want just over the 120s stale timeout", clk.slept)
	}
	fl.Unlock()

	// the stale timeout restarts when the protected file changes
	os.WriteFile(lock, nil, 0o600)
	list := filepath.Join(dir, UIDListName)
	os.WriteFile(list, []byte("3 V1 N1\n"), 0o600)
	clk = &fakeClock{now: time.Now()}
	touched := false
	clk.onTick = func(now time.Time) {
		if !touched && clk.slept > 60*time.Second {
			touched = true
			os.WriteFile(list, []byte("3 V1 N2\n"), 0o600) // Dovecot is still working
			os.Chtimes(list, now, now)
		}
	}
	fl, err = LockFolder(dir, clk.opts(300*time.Second, 120*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if clk.slept < 180*time.Second {
		t.Errorf("overridden after %v although the uidlist changed at 60s", clk.slept)
	}
	fl.Unlock()
}

func TestLockDeadPIDOverridden(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skipf("cannot run true: %v", err)
	}
	dead := cmd.Process.Pid
	dir := t.TempDir()
	lock := filepath.Join(dir, UIDListName+".lock")
	os.WriteFile(lock, []byte(fmt.Sprintf("%d:%s", dead, lockfile.Hostname())), 0o600)
	old := time.Now().Add(-10 * time.Second)
	os.Chtimes(lock, old, old)
	clk := &fakeClock{now: time.Now()}
	fl, err := LockFolder(dir, clk.opts(60*time.Second, 120*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Unlock()
	if clk.slept > time.Second {
		t.Errorf("lock of dead PID %d overridden only after %v", dead, clk.slept)
	}
}

func TestLockOverriddenWhileHeld(t *testing.T) {
	dir := t.TempDir()
	fl, err := LockFolder(dir, LockOptions{})
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(fl.LockPath())
	os.WriteFile(fl.LockPath(), []byte("1:elsewhere"), 0o600)
	if err := fl.WriteUIDList(NewUIDList(5)); err == nil || !strings.Contains(err.Error(), "overridden") {
		t.Errorf("write under a lost lock: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, UIDListName)); !errors.Is(err, fs.ErrNotExist) {
		t.Error("uidlist written under a lost lock")
	}
	if err := fl.Unlock(); err == nil {
		t.Error("Unlock of an overridden lock reported no error")
	}
	if _, err := os.Stat(fl.LockPath()); err != nil {
		t.Error("the other process's lock was removed")
	}
}

func TestLockSameProcessSerialized(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs <- UpdateUIDList(dir, LockOptions{}, func(l *UIDList) (*UIDList, error) {
				if l == nil {
					l = NewUIDList(1)
				}
				return l, l.Add(l.EffectiveNextUID(), fmt.Sprintf("m%d", i))
			})
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	l, err := ReadUIDList(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Records) != 8 || l.EffectiveNextUID() != 9 {
		t.Errorf("%d records, next %d; want 8, 9 (an update was lost)", len(l.Records), l.EffectiveNextUID())
	}
}

func TestAssignKeywords(t *testing.T) {
	var used []string
	for i := 0; i < 30; i++ {
		used = append(used, fmt.Sprintf("kw%02d", i))
	}
	used = append(used, "KW00", "kw29", "kw05")
	list, letters, dropped := AssignKeywords([]string{"", "old", "", "other"}, used)
	if len(list) != 26 || list[1] != "old" || list[3] != "other" || list[0] != "kw00" || list[2] != "kw01" || list[4] != "kw02" {
		t.Errorf("list %q", list)
	}
	if letters["kw00"] != 'a' || letters["KW00"] != 'a' || letters["old"] != 'b' || letters["kw01"] != 'c' {
		t.Errorf("letters %v", letters)
	}
	// 24 free letters: kw00..kw23 get them, kw24..kw29 are dropped, each once
	if want := []string{"kw24", "kw25", "kw26", "kw27", "kw28", "kw29"}; !slices.Equal(dropped, want) {
		t.Errorf("dropped %q, want %q", dropped, want)
	}
	if _, ok := letters["kw24"]; ok {
		t.Error("dropped keyword has a letter")
	}
	l2, d2 := KeywordLetters(nil, []string{"$Label1", "Junk", "$label1"})
	if l2["$Label1"] != 'a' || l2["$label1"] != 'a' || l2["Junk"] != 'b' || len(d2) != 0 {
		t.Errorf("KeywordLetters: %v %v", l2, d2)
	}
}

func TestKeywordsFile(t *testing.T) {
	dir := t.TempDir()
	if kws, err := ReadKeywords(dir); kws != nil || err != nil {
		t.Fatalf("missing file: %q, %v", kws, err)
	}
	p := filepath.Join(dir, KeywordsName)
	os.WriteFile(p, []byte("0 $Label1\n2 Junk\nbad line\n27 toohigh\nx y\n"), 0o600)
	old := time.Now().Add(time.Hour) // even an mtime in the future must grow
	os.Chtimes(p, old, old)
	kws, err := ReadKeywords(dir)
	if err != nil || !slices.Equal(kws, []string{"$Label1", "", "Junk"}) {
		t.Fatalf("read %q, %v", kws, err)
	}
	if err := WriteKeywords(dir, []string{"$Label1", "work", "Junk"}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if string(b) != "0 $Label1\n1 work\n2 Junk\n" {
		t.Errorf("content %q", b)
	}
	fi, _ := os.Stat(p)
	if !fi.ModTime().After(old) {
		t.Errorf("mtime %v did not grow past %v: Dovecot would not re-read the file", fi.ModTime(), old)
	}
	if got := lsDir(t, dir); !slices.Equal(got, []string{KeywordsName}) {
		t.Errorf("directory holds %q", got)
	}
	for _, bad := range [][]string{make([]string, 27), {"a", "A"}, {"x\ny"}} {
		if err := WriteKeywords(dir, bad); err == nil {
			t.Errorf("WriteKeywords(%q) succeeded", bad)
		}
	}
}

func TestSubscriptions(t *testing.T) {
	root := t.TempDir()
	p := filepath.Join(root, SubscriptionsFN)
	if err := WriteSubscriptions(root, [][]string{{"inbox"}, {"Archive", "2022"}, {"Entwürfe"}, {"&Co"}}, false, 0); err != nil {
		t.Fatal(err)
	}
	if err := WriteSubscriptions(root, [][]string{{"a\tb"}}, true, 0); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	want := "V\t2\n\nINBOX\nArchive\t2022\nEntw&APw-rfe\n&-Co\na\x01tb\n"
	if string(b) != want {
		t.Errorf("content %q, want %q", b, want)
	}
	names, err := ReadSubscriptions(root, '.')
	if err != nil || len(names) != 5 || !slices.Equal(names[1], []string{"Archive", "2022"}) || names[4][0] != "a\tb" {
		t.Errorf("read back %q, %v", names, err)
	}
	// merge: existing lines stay byte for byte, nothing duplicated
	os.WriteFile(p, []byte("V\t2\n\nKeep\tme\nINBOX\n"), 0o600)
	if err := WriteSubscriptions(root, [][]string{{"INBOX"}, {"Entwürfe"}}, true, 0); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(p)
	if want := "V\t2\n\nKeep\tme\nINBOX\nEntwürfe\n"; string(b) != want {
		t.Errorf("merged %q, want %q", b, want)
	}
	// v1 file: converted with its separator
	os.WriteFile(p, []byte("Archive.2022\nINBOX\n"), 0o600)
	if err := WriteSubscriptions(root, [][]string{{"Archive", "2022"}}, false, '.'); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(p)
	if want := "V\t2\n\nArchive\t2022\nINBOX\n"; string(b) != want {
		t.Errorf("from v1 %q, want %q", b, want)
	}
	if got := lsDir(t, root); !slices.Equal(got, []string{SubscriptionsFN}) {
		t.Errorf("root holds %q", got)
	}
	// nothing new: the file is not rewritten
	fi1, _ := os.Stat(p)
	if err := WriteSubscriptions(root, [][]string{{"INBOX"}}, false, '.'); err != nil {
		t.Fatal(err)
	}
	fi2, _ := os.Stat(p)
	if !os.SameFile(fi1, fi2) {
		t.Error("unchanged subscriptions were rewritten")
	}
	if s := TabUnescape(tabEscape("x\x01\t\r\ny")); s != "x\x01\t\r\ny" {
		t.Errorf("tab escaping round trip: %q", s)
	}
}

func TestUIDValidityGen(t *testing.T) {
	root := t.TempDir()
	now := time.Unix(1700000000, 0)
	g := NewUIDValidityGen(root)
	g.Now = func() time.Time { return now }
	var got []uint32
	for i := 0; i < 3; i++ {
		got = append(got, g.Next())
	}
	if !slices.Equal(got, []uint32{1700000000, 1700000001, 1700000002}) {
		t.Errorf("values %v", got)
	}
	b, _ := os.ReadFile(filepath.Join(root, UIDValidityName))
	if string(b) != "6553f102" {
		t.Errorf("%s holds %q", UIDValidityName, b)
	}
	if _, err := os.Stat(filepath.Join(root, UIDValidityName+".6553f102")); err != nil {
		t.Errorf("marker: %v", err)
	}
	// another generator (a later run, or Dovecot) continues from the file
	g2 := NewUIDValidityGen(root)
	if v := g2.Next(); v != 1700000003 {
		t.Errorf("second generator gave %d", v)
	}
	// without a usable root: the clock, still strictly increasing and never 0
	g3 := NewUIDValidityGen(filepath.Join(root, "missing"))
	g3.Now = func() time.Time { return time.Unix(0, 0) }
	if a, b := g3.Next(), g3.Next(); a != 1 || b != 2 {
		t.Errorf("fallback gave %d, %d", a, b)
	}
	if POP3UIDL(5, 0x6553f100) != "000000056553f100" {
		t.Errorf("POP3UIDL %q", POP3UIDL(5, 0x6553f100))
	}
}

func TestStateFilesOwnedLikeFolder(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give files away")
	}
	dir := t.TempDir()
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	l := NewUIDList(3)
	l.Add(1, "a")
	if err := WriteUIDList(dir, l); err != nil {
		t.Fatal(err)
	}
	if err := WriteKeywords(dir, []string{"x"}); err != nil {
		t.Fatal(err)
	}
	if err := WriteSubscriptions(dir, [][]string{{"INBOX"}}, false, 0); err != nil {
		t.Fatal(err)
	}
	g := NewUIDValidityGen(dir)
	g.Next()
	for _, n := range []string{UIDListName, KeywordsName, SubscriptionsFN, UIDValidityName} {
		fi, err := os.Stat(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if st.Uid != 65534 || st.Gid != 65534 {
			t.Errorf("%s owned by %d:%d, want 65534:65534 like its folder", n, st.Uid, st.Gid)
		}
	}
}
