package site_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mb2md/mb2md/internal/cli"
	"github.com/mb2md/mb2md/internal/privsep"
	"github.com/mb2md/mb2md/internal/site"
	"github.com/mb2md/mb2md/internal/spoollock"
)

func TestMain(m *testing.M) {
	if code, ok := privsep.MaybeChild(); ok {
		os.Exit(code)
	}
	os.Exit(m.Run())
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: converts as other users (CI runs as root)")
	}
}

const firstUID = 60000

// fixture is a small site: a passwd file, a spool directory and homes under one temp dir.
type fixture struct {
	t      *testing.T
	dir    string
	passwd string
	spool  string
	names  []string
	uids   map[string]int
	homes  map[string]string
	// want is, per user, every marker that must end up in the Maildir exactly once.
	want map[string][]string
	seq  int
}

// newSite makes a site; the temp dir's parents are made traversable for the test uids.
func newSite(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	for p := dir; p != "/" && p != os.TempDir(); p = filepath.Dir(p) {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	fx := &fixture{t: t, dir: dir, passwd: filepath.Join(dir, "passwd"), spool: filepath.Join(dir, "spool"),
		uids: map[string]int{}, homes: map[string]string{}, want: map[string][]string{}}
	for _, d := range []string{fx.spool, filepath.Join(dir, "home")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(fx.passwd, []byte("root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return fx
}

// addUser adds a user with a home (0700, owned by the user) to the passwd file.
func (fx *fixture) addUser(name string, uid int) {
	fx.t.Helper()
	home := filepath.Join(fx.dir, "home", name)
	if err := os.Mkdir(home, 0o700); err != nil {
		fx.t.Fatal(err)
	}
	if err := os.Chown(home, uid, uid); err != nil {
		fx.t.Fatal(err)
	}
	f, err := os.OpenFile(fx.passwd, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		fx.t.Fatal(err)
	}
	fmt.Fprintf(f, "%s:x:%d:%d:Test User:%s:/bin/sh\n", name, uid, uid, home)
	f.Close()
	fx.names = append(fx.names, name)
	fx.uids[name] = uid
	fx.homes[name] = home
}

// message returns one mbox message carrying a unique marker; big adds a body of that many bytes.
func (fx *fixture) message(user string, big int) (string, string) {
	fx.seq++
	marker := fmt.Sprintf("%s-%06d", user, fx.seq)
	var b strings.Builder
	fmt.Fprintf(&b, "From sender@example.org Mon Jan  1 00:%02d:%02d 2024\n", fx.seq/60%60, fx.seq%60)
	fmt.Fprintf(&b, "From: Sender <sender@example.org>\nTo: %s@example.org\nSubject: message %d\n", user, fx.seq)
	fmt.Fprintf(&b, "Message-ID: <%s@example.org>\nX-Test-Marker: %s\n", marker, marker)
	if fx.seq%3 == 0 {
		b.WriteString("Status: RO\n")
	}
	b.WriteString("\nHello " + marker + "\n")
	for n := 0; n < big; n += 64 {
		b.WriteString("0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopq\n")
	}
	b.WriteString("\n")
	return marker, b.String()
}

// appendMail appends n messages to a file (created 0600, owned by uid, when missing).
func (fx *fixture) appendMail(path, user string, n, big int) {
	fx.t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		fx.t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := 0; i < n; i++ {
		m, text := fx.message(user, big)
		w.WriteString(text)
		fx.want[user] = append(fx.want[user], m)
	}
	if err := w.Flush(); err != nil {
		fx.t.Fatal(err)
	}
	f.Close()
	if err := os.Chown(path, fx.uids[user], fx.uids[user]); err != nil {
		fx.t.Fatal(err)
	}
}

func (fx *fixture) spoolOf(user string) string { return filepath.Join(fx.spool, user) }

// folder appends n messages to ~/mail/REL (directories made as the user).
func (fx *fixture) folder(user, rel string, n int) {
	fx.t.Helper()
	p := filepath.Join(fx.homes[user], "mail", rel)
	var missing []string // from the innermost up
	for d := filepath.Dir(p); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		}
		missing = append(missing, d)
	}
	for i := len(missing) - 1; i >= 0; i-- { // made top-down, each owned by the user
		if err := os.Mkdir(missing[i], 0o700); err != nil {
			fx.t.Fatal(err)
		}
		if err := os.Chown(missing[i], fx.uids[user], fx.uids[user]); err != nil {
			fx.t.Fatal(err)
		}
	}
	fx.appendMail(p, user, n, 0)
}

// config is the default configuration for the fixture.
func (fx *fixture) config() site.Config {
	return site.Config{Passwd: fx.passwd, SpoolDir: fx.spool, All: true, MinUID: firstUID, Maildir: "Maildir",
		Folders: "mail", Jobs: 4, LockTimeout: 10 * time.Second, Output: io.Discard,
		Conv: site.ConvOptions{TZ: "UTC", Sync: "none"}}
}

func (fx *fixture) run(ctx context.Context, mod func(*site.Config)) *site.Report {
	fx.t.Helper()
	cfg := fx.config()
	if mod != nil {
		mod(&cfg)
	}
	rep, err := site.Run(ctx, cfg)
	if err != nil {
		fx.t.Fatalf("site.Run: %v", err)
	}
	return rep
}

func byName(rep *site.Report) map[string]*site.UserResult {
	m := map[string]*site.UserResult{}
	for _, u := range rep.Users {
		m[u.Name] = u
	}
	return m
}

// markers walks a user's Maildir: it checks that every file and directory belongs to the user
// with mode 0600/0700 and returns how often each marker was found in a message.
func (fx *fixture) markers(user string) map[string]int {
	fx.t.Helper()
	root := filepath.Join(fx.homes[user], "Maildir")
	uid := fx.uids[user]
	got := map[string]int{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		if int(st.Uid) != uid || int(st.Gid) != uid {
			fx.t.Errorf("%s: owner %d:%d, want %d:%d", p, st.Uid, st.Gid, uid, uid)
		}
		mode := fi.Mode()
		switch {
		case mode.IsDir():
			if mode.Perm() != 0o700 {
				fx.t.Errorf("%s: mode %v, want 0700", p, mode.Perm())
			}
			return nil
		case !mode.IsRegular():
			fx.t.Errorf("%s: not a regular file (%v)", p, mode.Type())
			return nil
		case strings.HasPrefix(d.Name(), "dovecot-uidvalidity."):
			// Dovecot's own convention: an empty, read-only marker file
			if mode.Perm()&0o222 != 0 || fi.Size() != 0 {
				fx.t.Errorf("%s: mode %v size %d, want read-only and empty", p, mode.Perm(), fi.Size())
			}
			return nil
		case mode.Perm() != 0o600:
			fx.t.Errorf("%s: mode %v, want 0600", p, mode.Perm())
		}
		sub := filepath.Base(filepath.Dir(p))
		if sub == "tmp" {
			return nil // not delivered
		}
		if sub != "new" && sub != "cur" {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		i := bytes.Index(b, []byte("\nX-Test-Marker: "))
		if i < 0 {
			fx.t.Errorf("%s: no marker", p)
			return nil
		}
		line := b[i+len("\nX-Test-Marker: "):]
		line = line[:bytes.IndexByte(line, '\n')]
		got[string(line)]++
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		fx.t.Fatalf("walk %s: %v", root, err)
	}
	return got
}

// exactlyOnce checks that each wanted marker of the user is in the Maildir exactly once, and
// nothing else is.
func (fx *fixture) exactlyOnce(user string) {
	fx.t.Helper()
	got := fx.markers(user)
	for _, m := range fx.want[user] {
		if got[m] != 1 {
			fx.t.Errorf("user %s: message %s found %d times, want exactly once", user, m, got[m])
		}
		delete(got, m)
	}
	for m, n := range got {
		fx.t.Errorf("user %s: unexpected message %s (%d times)", user, m, n)
	}
}

// populate makes n users with uids from firstUID: spools of various sizes (none, empty, small,
// a few hundred messages, one with large messages), some with ~/mail folders.
func (fx *fixture) populate(n int) int {
	total := 0
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("u%02d", i)
		fx.addUser(name, firstUID+i)
		switch {
		case i%10 == 3: // no spool at all
		case i%10 == 4: // an empty spool
			fx.appendMail(fx.spoolOf(name), name, 0, 0)
		case i == 7:
			fx.appendMail(fx.spoolOf(name), name, 3, 1<<20+100) // bigger than the buffer
		case i%9 == 0:
			fx.appendMail(fx.spoolOf(name), name, 300, 200)
		default:
			fx.appendMail(fx.spoolOf(name), name, (i*i)%37+1, 64*(i%5))
		}
		if i%4 == 0 {
			fx.folder(name, "Sent", 5+i%7)
			fx.folder(name, "lists/debian", 3)
		}
		total += len(fx.want[name])
	}
	return total
}

// spoolSums returns a hash of every entry of the spool directory, to check that the spools
// are never modified and nothing is left behind (dotlocks, temporary files).
func (fx *fixture) spoolSums() map[string]string {
	fx.t.Helper()
	ents, err := os.ReadDir(fx.spool)
	if err != nil {
		fx.t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(fx.spool, e.Name()))
		if err != nil {
			fx.t.Fatal(err)
		}
		out[e.Name()] = fmt.Sprintf("%x", sha256.Sum256(b))
	}
	return out
}

func sameMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestFiftyUsersIncremental(t *testing.T) {
	needRoot(t)
	fx := newSite(t)
	total := fx.populate(50)
	before := fx.spoolSums()
	ctx := context.Background()

	batch := func(c *site.Config) { c.Conv.Sync = "batch" } // the default, as in production
	start := time.Now()
	rep := fx.run(ctx, batch)
	t.Logf("first run: 50 users, %d messages (%d in ~/mail folders), --jobs 4, --sync batch: %v", total, inFolders(fx), time.Since(start))
	if len(rep.Users) != 50 {
		t.Fatalf("%d users in the report, want 50", len(rep.Users))
	}
	written := 0
	for _, u := range rep.Users {
		if u.Status != site.StatusOK {
			t.Errorf("user %s: %s: %s", u.Name, u.Status, u.Error)
		}
		if u.Written != len(fx.want[u.Name]) || u.Messages != len(fx.want[u.Name]) {
			t.Errorf("user %s: %d messages, %d written, want %d", u.Name, u.Messages, u.Written, len(fx.want[u.Name]))
		}
		written += u.Written
		fx.exactlyOnce(u.Name)
		if _, err := os.Stat(filepath.Join(fx.homes[u.Name], "Maildir", "cur")); err != nil {
			t.Errorf("user %s: no Maildir: %v", u.Name, err)
		}
	}
	if written != total {
		t.Errorf("%d written, want %d", written, total)
	}
	if after := fx.spoolSums(); !sameMap(before, after) {
		t.Errorf("spool directory changed:\nbefore %v\nafter  %v", before, after)
	}
	// ~/mail folders land in the same Maildir, as -s mail -R does
	if _, err := os.Stat(filepath.Join(fx.homes["u00"], "Maildir", ".lists.debian", "maildirfolder")); err != nil {
		t.Errorf("nested folder missing: %v", err)
	}

	start = time.Now()
	rep = fx.run(ctx, batch)
	t.Logf("re-run with nothing new: 50 users in %v", time.Since(start))
	for _, u := range rep.Users {
		if u.Status != site.StatusOK || u.Written != 0 || u.Messages != len(fx.want[u.Name]) {
			t.Errorf("re-run, user %s: %s, %d messages, %d written (%s)", u.Name, u.Status, u.Messages, u.Written, u.Error)
		}
	}

	// the user reads mail in the new Maildir (new/ → cur/ with the Seen flag): not converted again
	readDir := filepath.Join(fx.homes["u02"], "Maildir")
	ents, err := os.ReadDir(filepath.Join(readDir, "new"))
	if err != nil || len(ents) < 2 {
		t.Fatalf("u02 new/: %d entries, %v", len(ents), err)
	}
	for _, e := range ents[:2] {
		if err := os.Rename(filepath.Join(readDir, "new", e.Name()), filepath.Join(readDir, "cur", e.Name()+":2,S")); err != nil {
			t.Fatal(err)
		}
	}

	// new mail since: only it is converted
	newMail := map[string]int{}
	for i, name := range fx.names {
		if i%5 == 1 {
			n := len(fx.want[name])
			fx.appendMail(fx.spoolOf(name), name, 1+i%4, 0)
			newMail[name] = len(fx.want[name]) - n
		}
	}
	n := len(fx.want["u08"])
	fx.folder("u08", "Sent", 2)
	newMail["u08"] += len(fx.want["u08"]) - n
	n = len(fx.want["u03"]) // had no spool at all
	fx.appendMail(fx.spoolOf("u03"), "u03", 4, 0)
	newMail["u03"] += len(fx.want["u03"]) - n
	rep = fx.run(ctx, nil)
	for _, u := range rep.Users {
		if u.Status != site.StatusOK || u.Written != newMail[u.Name] {
			t.Errorf("incremental run, user %s: %s, %d written, want %d (%s)", u.Name, u.Status, u.Written, newMail[u.Name], u.Error)
		}
		fx.exactlyOnce(u.Name)
	}
}

func TestShardUnion(t *testing.T) {
	needRoot(t)
	fx := newSite(t)
	fx.populate(30)
	const n = 4
	seen := map[string]int{}
	for k := 1; k <= n; k++ {
		rep := fx.run(context.Background(), func(c *site.Config) { c.ShardK, c.ShardN = k, n })
		if len(rep.Users) == 30 || len(rep.Users) == 0 {
			t.Errorf("shard %d/%d has %d users: not a slice", k, n, len(rep.Users))
		}
		for _, u := range rep.Users {
			seen[u.Name]++
			if u.Status != site.StatusOK || u.Written != len(fx.want[u.Name]) {
				t.Errorf("shard %d/%d, user %s: %s, %d written, want %d (%s)", k, n, u.Name, u.Status, u.Written, len(fx.want[u.Name]), u.Error)
			}
		}
	}
	for _, name := range fx.names {
		if seen[name] != 1 {
			t.Errorf("user %s in %d shards, want exactly 1", name, seen[name])
		}
		fx.exactlyOnce(name)
	}
	if len(seen) != len(fx.names) {
		t.Errorf("%d users over all shards, want %d", len(seen), len(fx.names))
	}
}

// rootDir makes a directory owned by root with the given mode and a file in it.
func rootDir(t *testing.T, parent, name string, mode os.FileMode) string {
	t.Helper()
	d := filepath.Join(parent, name)
	if err := os.Mkdir(d, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d, "secret"), []byte("From x Mon Jan  1 00:00:00 2024\nX-Test-Marker: root-secret\n\nsecret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return d
}

func listDir(t *testing.T, d string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(d, func(p string, _ fs.DirEntry, err error) error {
		if err == nil {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func TestSymlinkAttacksRefused(t *testing.T) {
	needRoot(t)
	fx := newSite(t)
	for i, name := range []string{"good", "linkroot", "linkcur", "linkspool", "victim", "notowned", "hardlink", "foldlink", "linkfolder"} {
		fx.addUser(name, firstUID+100+i)
		fx.appendMail(fx.spoolOf(name), name, 3, 0)
	}
	secretDir := rootDir(t, fx.dir, "rootonly", 0o700)
	openDir := rootDir(t, fx.dir, "rootopen", 0o755)
	before := map[string][]string{secretDir: listDir(t, secretDir), openDir: listDir(t, openDir)}

	// ~/Maildir → a root directory
	if err := os.Symlink(secretDir, filepath.Join(fx.homes["linkroot"], "Maildir")); err != nil {
		t.Fatal(err)
	}
	// ~/Maildir/cur → a root directory
	md := filepath.Join(fx.homes["linkcur"], "Maildir")
	for _, d := range []string{md, filepath.Join(md, "new"), filepath.Join(md, "tmp")} {
		os.Mkdir(d, 0o700)
		os.Chown(d, fx.uids["linkcur"], fx.uids["linkcur"])
	}
	if err := os.Symlink(openDir, filepath.Join(md, "cur")); err != nil {
		t.Fatal(err)
	}
	os.Lchown(filepath.Join(md, "cur"), fx.uids["linkcur"], fx.uids["linkcur"])
	// a spool that is a symlink to another user's spool (the link itself owned by the user)
	os.Remove(fx.spoolOf("linkspool"))
	fx.want["linkspool"] = nil
	if err := os.Symlink(fx.spoolOf("victim"), fx.spoolOf("linkspool")); err != nil {
		t.Fatal(err)
	}
	os.Lchown(fx.spoolOf("linkspool"), fx.uids["linkspool"], fx.uids["linkspool"])
	// a spool that is a hard link to another user's spool
	os.Remove(fx.spoolOf("hardlink"))
	fx.want["hardlink"] = nil
	if err := os.Link(fx.spoolOf("victim"), fx.spoolOf("hardlink")); err != nil {
		t.Fatal(err)
	}
	// a home not owned by its user
	if err := os.Chown(fx.homes["notowned"], 0, 0); err != nil {
		t.Fatal(err)
	}
	// a folder that links to a root-only file
	fx.folder("foldlink", "Sent", 2)
	if err := os.Symlink(filepath.Join(secretDir, "secret"), filepath.Join(fx.homes["foldlink"], "mail", "stolen")); err != nil {
		t.Fatal(err)
	}

	// ~/Maildir/.Sent → a root directory (not looked at by mb2md: the kernel refuses the user)
	fx.folder("linkfolder", "Sent", 2)
	md = filepath.Join(fx.homes["linkfolder"], "Maildir")
	os.Mkdir(md, 0o700)
	os.Chown(md, fx.uids["linkfolder"], fx.uids["linkfolder"])
	if err := os.Symlink(openDir, filepath.Join(md, ".Sent")); err != nil {
		t.Fatal(err)
	}
	os.Lchown(filepath.Join(md, ".Sent"), fx.uids["linkfolder"], fx.uids["linkfolder"])

	var lines []string
	rep := fx.run(context.Background(), func(c *site.Config) {
		c.OnDone = func(r *site.UserResult) { lines = append(lines, fmt.Sprintf("%s %s %s", r.Name, r.Status, r.Error)) }
	})
	t.Logf("results:\n%s", strings.Join(lines, "\n"))
	got := byName(rep)
	for name, wantErr := range map[string]string{
		"linkroot":   "symbolic link",
		"linkcur":    "symbolic link",
		"linkspool":  "symbolic link",
		"hardlink":   "owned by uid",
		"notowned":   "owned by uid 0",
		"linkfolder": "permission denied",
	} {
		r := got[name]
		if r == nil || r.Status != site.StatusError || !strings.Contains(r.Error, wantErr) || name != "linkfolder" && r.Written != 0 {
			t.Errorf("user %s: got %+v, want status error mentioning %q", name, r, wantErr)
		}
	}
	for _, name := range []string{"good", "victim", "foldlink"} {
		if r := got[name]; r == nil || r.Status != site.StatusOK {
			t.Errorf("user %s: got %+v, want ok", name, r)
		}
		fx.exactlyOnce(name)
	}
	for _, name := range []string{"linkspool", "hardlink", "notowned"} {
		if got := fx.markers(name); len(got) != 0 {
			t.Errorf("user %s got messages: %v", name, got)
		}
	}
	for d, was := range before {
		if now := listDir(t, d); strings.Join(now, "\n") != strings.Join(was, "\n") {
			t.Errorf("%s changed:\nbefore %v\nafter  %v", d, was, now)
		}
	}
	if ents, _ := os.ReadDir(fx.homes["notowned"]); len(ents) != 0 {
		t.Errorf("something was written into the home not owned by its user: %v", ents)
	}
}

func TestLockedUserOthersFinish(t *testing.T) {
	needRoot(t)
	fx := newSite(t)
	fx.populate(6)
	held, err := spoollock.Lock(context.Background(), fx.spoolOf("u01"), spoollock.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer held.Unlock()

	var stdout, stderr bytes.Buffer
	env := cli.Env{Args: []string{"users", "--all", "--passwd", fx.passwd, "--spool", fx.spool, "--min-uid", fmt.Sprint(firstUID),
		"--folders", "mail", "--lock-timeout", "300ms", "--jobs", "3", "--sync", "none", "--json"},
		Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Cwd: fx.dir,
		Getenv: func(string) (string, bool) { return "", false }, Now: time.Now}
	code := cli.Run(context.Background(), env)
	t.Logf("stderr:\n%s", stderr.String())
	if code != cli.ExitTemporary {
		t.Errorf("exit status %d, want %d", code, cli.ExitTemporary)
	}
	var doc struct {
		Users []struct {
			Name     string `json:"name"`
			UID      int    `json:"uid"`
			Status   string `json:"status"`
			Messages int    `json:"messages"`
			Written  int    `json:"written"`
			Error    string `json:"error"`
		} `json:"users"`
		Mailboxes []json.RawMessage `json:"mailboxes"`
		Totals    struct {
			Written int `json:"written"`
		} `json:"totals"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
		t.Fatalf("JSON report: %v\n%s", err, stdout.String())
	}
	if len(doc.Users) != 6 {
		t.Fatalf("%d users in the JSON report, want 6", len(doc.Users))
	}
	total := 0
	for _, u := range doc.Users {
		want := "ok"
		if u.Name == "u01" {
			want = "locked"
		}
		if u.Status != want || u.UID != fx.uids[u.Name] {
			t.Errorf("user %s: status %s uid %d, want %s %d (%s)", u.Name, u.Status, u.UID, want, fx.uids[u.Name], u.Error)
		}
		if want == "ok" {
			fx.exactlyOnce(u.Name)
			total += u.Written
		}
	}
	if doc.Totals.Written != total || total == 0 {
		t.Errorf("totals.written %d, users wrote %d", doc.Totals.Written, total)
	}
	if !strings.Contains(stderr.String(), "mb2md: user u01 (uid 60001): locked: ") {
		t.Errorf("no per-user line for the locked user in:\n%s", stderr.String())
	}
	if got := fx.markers("u01"); len(got) != 0 {
		t.Errorf("locked user got messages: %v", got)
	}
	// once the lock is given back, the next run finishes the job
	held.Unlock()
	rep := fx.run(context.Background(), nil)
	for _, u := range rep.Users {
		if u.Status != site.StatusOK {
			t.Errorf("second run, user %s: %s %s", u.Name, u.Status, u.Error)
		}
		fx.exactlyOnce(u.Name)
	}
}

// deliver appends one message the way Postfix local does: dotlock, then an fcntl write lock
// (waiting), append, unlock.
func deliver(ctx context.Context, path, text string) error {
	opt := spoollock.DefaultOptions()
	opt.Fcntl = false
	opt.Timeout = time.Minute
	dl, err := spoollock.Lock(ctx, path, opt)
	if err != nil {
		return err
	}
	defer dl.Unlock()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	lk := unix.Flock_t{Type: unix.F_WRLCK}
	if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLKW, &lk); err != nil {
		return err
	}
	_, err = f.WriteString(text)
	return err
}

func TestAppenderDuringRunLosesNothing(t *testing.T) {
	needRoot(t)
	fx := newSite(t)
	fx.addUser("busy", firstUID)
	fx.addUser("calm", firstUID+1)
	fx.appendMail(fx.spoolOf("busy"), "busy", 2000, 300)
	fx.appendMail(fx.spoolOf("calm"), "calm", 10, 0)

	// prepare the messages first (fx is not safe for concurrent use)
	var texts []string
	for i := 0; i < 40; i++ {
		m, text := fx.message("busy", 0)
		fx.want["busy"] = append(fx.want["busy"], m)
		texts = append(texts, text)
	}
	ctx := context.Background()
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		<-started
		for _, text := range texts {
			if err := deliver(ctx, fx.spoolOf("busy"), text); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	rep := fx.run(ctx, func(c *site.Config) {
		c.Jobs = 2
		c.Lock = func(ctx context.Context, path string, opt spoollock.Options) (*spoollock.Held, error) {
			h, err := spoollock.Lock(ctx, path, opt)
			if strings.HasSuffix(path, "/busy") {
				close(started) // the appender starts while we hold the lock
			}
			return h, err
		}
	})
	if err := <-done; err != nil {
		t.Fatalf("appender: %v", err)
	}
	first := byName(rep)["busy"]
	if first.Status != site.StatusOK || first.Written < 2000 {
		t.Fatalf("first run: %+v", first)
	}
	t.Logf("first run converted %d of %d messages; the rest arrived after", first.Written, len(fx.want["busy"]))
	rep = fx.run(ctx, nil)
	second := byName(rep)["busy"]
	if second.Status != site.StatusOK || first.Written+second.Written != len(fx.want["busy"]) {
		t.Errorf("second run: %+v; %d + %d written, want %d in all", second, first.Written, second.Written, len(fx.want["busy"]))
	}
	fx.exactlyOnce("busy")
	fx.exactlyOnce("calm")
}

// moduleRoot walks up from the package directory to go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	d, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for ; d != "/"; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
	}
	t.Skip("go.mod not found")
	return ""
}

func TestKill9ThenRerunExactlyOnce(t *testing.T) {
	needRoot(t)
	if testing.Short() {
		t.Skip("builds the binary")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not in PATH")
	}
	fx := newSite(t)
	bin := filepath.Join(fx.dir, "bin", "mb2md")
	build := exec.Command(goBin, "build", "-o", bin, "./cmd/mb2md")
	build.Dir = moduleRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	os.Chmod(filepath.Dir(bin), 0o755)
	n := 20
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("k%02d", i)
		fx.addUser(name, firstUID+200+i)
		fx.appendMail(fx.spoolOf(name), name, 150+37*i, 100*(i%7))
		if i%3 == 0 {
			fx.folder(name, "Sent", 20)
		}
	}
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	t.Logf("seed %d", seed)
	args := []string{"users", "--all", "--passwd", fx.passwd, "--spool", fx.spool, "--min-uid", fmt.Sprint(firstUID),
		"--folders", "mail", "--jobs", "4", "--lock-timeout", "1m", "--tz", "UTC"}
	for round := 0; round < 3; round++ {
		killAfter := rng.IntN(n) // per-user result lines to wait for; 0: at once
		cmd := exec.Command(bin, args...)
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stderr)
		lines := 0
		for lines < killAfter && sc.Scan() {
			if strings.HasPrefix(sc.Text(), "mb2md: user ") {
				lines++
			}
		}
		cmd.Process.Signal(syscall.SIGKILL)
		go io.Copy(io.Discard, stderr)
		err = cmd.Wait()
		t.Logf("round %d: killed after %d user lines (%v)", round, lines, err)
	}
	cmd := exec.Command(bin, append(args, "--json")...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("final run: %v\n%s", err, stderr.String())
	}
	t.Logf("final run after the kills: %v", time.Since(start))
	var doc struct {
		Users []site.UserResult `json:"users"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Users) != n {
		t.Errorf("%d users in the report, want %d", len(doc.Users), n)
	}
	for _, u := range doc.Users {
		if u.Status != site.StatusOK || u.Messages != len(fx.want[u.Name]) {
			t.Errorf("user %s: %s, %d messages, want %d (%s)", u.Name, u.Status, u.Messages, len(fx.want[u.Name]), u.Error)
		}
	}
	for _, name := range fx.names {
		fx.exactlyOnce(name)
	}
	if ents, _ := os.ReadDir(fx.spool); len(ents) != n {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("spool directory holds %v; want only the %d spools (no dotlocks left)", names, n)
	}
}

func runCLI(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := cli.Env{Args: args, Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Cwd: t.TempDir(),
		Getenv: func(string) (string, bool) { return "", false }, Now: time.Now}
	code := cli.Run(context.Background(), env)
	return code, stderr.String()
}

func TestUsersUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"users"}, // nobody named, no --all
		{"users", "--all", "--shard", "4/3"},
		{"users", "--all", "--maildir", "../elsewhere"},
		{"users", "--all", "--maildir", "/var/mail"},
		{"users", "--all", "--jobs", "0"},
		{"users", "--all", "--tz", "Nowhere/Special"},
	} {
		code, stderr := runCLI(t, args...)
		if code != cli.ExitUsage {
			t.Errorf("%v: exit %d, want %d\n%s", args, code, cli.ExitUsage, stderr)
		}
	}
}

func TestUnknownUserIsAnError(t *testing.T) {
	needRoot(t)
	fx := newSite(t)
	fx.populate(2)
	code, stderr := runCLI(t, "users", "u00", "nobody-here", "--passwd", fx.passwd, "--spool", fx.spool, "--folders", "mail", "--sync", "none")
	if code != cli.ExitFailure || !strings.Contains(stderr, "mb2md: user nobody-here (uid -1): error: no such user") {
		t.Errorf("exit %d, want %d, stderr:\n%s", code, cli.ExitFailure, stderr)
	}
	fx.exactlyOnce("u00")
	if _, err := os.Stat(filepath.Join(fx.homes["u01"], "Maildir")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("u01 was not asked for but has a Maildir (%v)", err)
	}
}

func TestSkel(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "Maildir")
	code, stderr := runCLI(t, "skel", dir, "--folders", "Sent,Drafts,Trash,Junk")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, p := range []string{"cur", "new", "tmp", ".Sent/cur", ".Drafts/new", ".Trash/tmp", ".Junk/maildirfolder"} {
		if _, err := os.Lstat(filepath.Join(dir, p)); err != nil {
			t.Errorf("skel: %v", err)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "subscriptions"))
	if err != nil || string(b) != "V\t2\n\nSent\nDrafts\nTrash\nJunk\n" {
		t.Errorf("subscriptions %q (%v)", b, err)
	}
	fi, err := os.Stat(filepath.Join(dir, ".Sent"))
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf(".Sent: %v %v, want mode 0700", fi, err)
	}
}

// inFolders counts the wanted messages that come from ~/mail folders.
func inFolders(fx *fixture) int {
	n := 0
	for _, ms := range fx.want {
		n += len(ms)
	}
	for _, name := range fx.names {
		b, err := os.ReadFile(fx.spoolOf(name))
		if err == nil {
			n -= bytes.Count(b, []byte("\nX-Test-Marker: "))
		}
	}
	return n
}

// The child reads the spool through the descriptor the parent locked, not by its name: a spool
// of mode 0000 (which the user cannot open) is still converted, in both modes.
func TestChildReadsThePassedSpool(t *testing.T) {
	needRoot(t)
	for _, compat := range []bool{false, true} {
		t.Run(fmt.Sprintf("compat=%v", compat), func(t *testing.T) { childReadsPassedSpool(t, compat) })
	}
}

func childReadsPassedSpool(t *testing.T, compat bool) {
	fx := newSite(t)
	fx.populate(5)
	if err := os.Chmod(fx.spoolOf("u01"), 0); err != nil {
		t.Fatal(err)
	}
	rep := fx.run(context.Background(), func(c *site.Config) { c.Conv.Compat = compat })
	for _, u := range rep.Users {
		if u.Status != site.StatusOK || u.Written != len(fx.want[u.Name]) {
			t.Errorf("user %s: %s, %d written, want %d (%s)", u.Name, u.Status, u.Written, len(fx.want[u.Name]), u.Error)
		}
		for _, m := range u.Mailboxes {
			if compat && m.Messages > 0 && m.Format != "mb2md" {
				t.Errorf("user %s: %s converted as %q, want the compat reader", u.Name, m.Source, m.Format)
			}
		}
		fx.exactlyOnce(u.Name)
	}
}
