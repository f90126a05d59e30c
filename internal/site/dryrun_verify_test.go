package site_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mb2md/mb2md/internal/cli"
	"github.com/mb2md/mb2md/internal/spoollock"
)

// treeSums describes every entry under root (the root itself too unless skipRoot): path, type,
// mode, owner, size, mtime and, for files, the SHA-256 of the content.
func treeSums(t *testing.T, root string, skipRoot bool) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if skipRoot && p == root {
			return nil
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		desc := fmt.Sprintf("%v %d:%d size=%d mtime=%d", fi.Mode(), st.Uid, st.Gid, fi.Size(), fi.ModTime().UnixNano())
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			desc += fmt.Sprintf(" sha256=%x", sha256.Sum256(b))
		}
		out[p] = desc
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	return out
}

func diffTrees(t *testing.T, what string, before, after map[string]string) {
	t.Helper()
	var keys []string
	for k := range before {
		keys = append(keys, k)
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	n := 0
	for _, k := range keys {
		if before[k] != after[k] {
			if n++; n <= 10 {
				t.Errorf("%s: %s changed:\n  before: %q\n  after:  %q", what, k, before[k], after[k])
			}
		}
	}
	if n > 10 {
		t.Errorf("%s: and %d more changes", what, n-10)
	}
}

// cliOut runs the command line in-process and returns the exit status, stdout and stderr.
func cliOut(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := cli.Env{Args: args, Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Cwd: t.TempDir(),
		Getenv: func(string) (string, bool) { return "", false }, Now: time.Now}
	code := cli.Run(context.Background(), env)
	return code, stdout.String(), stderr.String()
}

func (fx *fixture) usersArgs(cmd ...string) []string {
	return append(cmd, "--all", "--min-uid", strconv.Itoa(firstUID), "--passwd", fx.passwd, "--spool", fx.spool,
		"--folders", "mail", "--tz", "UTC", "--jobs", "4", "--lock-timeout", "0")
}

type jsonMailbox struct {
	Source          string `json:"source"`
	Folder          string `json:"folder"`
	Messages        int    `json:"messages"`
	Written         int    `json:"written"`
	SkippedExisting int    `json:"skipped_existing"`
	Bytes           int64  `json:"bytes"`
	New             int    `json:"new"`
	Cur             int    `json:"cur"`
	Error           string `json:"error"`
}

type jsonVerify struct {
	Messages     int            `json:"messages"`
	OK           int            `json:"ok"`
	Differences  int            `json:"differences"`
	SourceErrors int            `json:"source_errors"`
	Counts       map[string]int `json:"counts"`
}

type jsonUser struct {
	Name            string      `json:"name"`
	Status          string      `json:"status"`
	Messages        int         `json:"messages"`
	Written         int         `json:"written"`
	SkippedExisting int         `json:"skipped_existing"`
	Bytes           int64       `json:"bytes"`
	Error           string      `json:"error"`
	Verify          *jsonVerify `json:"verify"`
}

type jsonUsersDoc struct {
	DryRun    bool          `json:"dry_run"`
	Mailboxes []jsonMailbox `json:"mailboxes"`
	Users     []jsonUser    `json:"users"`
	Totals    struct {
		Messages        int `json:"messages"`
		Written         int `json:"written"`
		SkippedExisting int `json:"skipped_existing"`
		Differences     int `json:"differences"`
	} `json:"totals"`
}

func parseUsersDoc(t *testing.T, stdout string) (*jsonUsersDoc, map[string]jsonUser) {
	t.Helper()
	var d jsonUsersDoc
	if err := json.Unmarshal([]byte(stdout), &d); err != nil {
		t.Fatalf("JSON report: %v\n%s", err, stdout)
	}
	m := map[string]jsonUser{}
	for _, u := range d.Users {
		m[u.Name] = u
	}
	return &d, m
}

// TestUsersDryRun: a dry run in users mode leaves every home and the spool directory exactly as
// they were, and a real run right after does exactly what it announced, user by user and
// mailbox by mailbox (with a pre-copied user, so "already there" is predicted too).
func TestUsersDryRun(t *testing.T) {
	needRoot(t)
	fx := newSite(t)
	total := fx.populate(12)
	// u01 was pre-copied; mail arrived since
	if code, _, stderr := cliOut(t, "users", "u01", "--passwd", fx.passwd, "--spool", fx.spool, "--folders", "mail", "--tz", "UTC", "--sync", "none"); code != 0 {
		t.Fatalf("pre-copy of u01: exit %d\n%s", code, stderr)
	}
	pre := len(fx.want["u01"])
	fx.appendMail(fx.spoolOf("u01"), "u01", 4, 0)
	total += 4

	homes := filepath.Join(fx.dir, "home")
	homesBefore, spoolBefore := treeSums(t, homes, false), treeSums(t, fx.spool, false)
	code, stdout, stderr := cliOut(t, append(fx.usersArgs("users"), "--dry-run", "--json")...)
	if code != 0 {
		t.Fatalf("dry run: exit %d\n%s", code, stderr)
	}
	diffTrees(t, "homes after the dry run", homesBefore, treeSums(t, homes, false))
	diffTrees(t, "spool directory after the dry run", spoolBefore, treeSums(t, fx.spool, false))
	for _, u := range fx.names {
		if u == "u01" {
			continue
		}
		if _, err := os.Stat(filepath.Join(fx.homes[u], "Maildir")); err == nil {
			t.Errorf("user %s: the dry run created a Maildir", u)
		}
	}
	if !strings.Contains(stderr, "dry run: nothing was written") || !strings.Contains(stderr, "would be written") {
		t.Errorf("the text report does not say it was a dry run:\n%s", stderr)
	}
	dry, dryUsers := parseUsersDoc(t, stdout)
	if !dry.DryRun {
		t.Errorf("JSON report of the dry run has \"dry_run\": false")
	}
	if len(dry.Users) != 12 {
		t.Fatalf("dry run reports %d users, want 12", len(dry.Users))
	}
	if dry.Totals.Messages != total || dry.Totals.Written != total-pre || dry.Totals.SkippedExisting != pre {
		t.Errorf("dry run totals: %d messages, %d would be written, %d already there; want %d, %d, %d",
			dry.Totals.Messages, dry.Totals.Written, dry.Totals.SkippedExisting, total, total-pre, pre)
	}
	if u := dryUsers["u01"]; u.SkippedExisting != pre || u.Written != 4 {
		t.Errorf("dry run for the pre-copied u01: %d would be written, %d already there; want 4, %d", u.Written, u.SkippedExisting, pre)
	}

	code, stdout, stderr = cliOut(t, append(fx.usersArgs("users"), "--sync", "none", "--json")...)
	if code != 0 {
		t.Fatalf("real run: exit %d\n%s", code, stderr)
	}
	real, realUsers := parseUsersDoc(t, stdout)
	if real.DryRun {
		t.Errorf("JSON report of the real run has \"dry_run\": true")
	}
	for name, d := range dryUsers {
		r := realUsers[name]
		d.Verify, r.Verify = nil, nil
		if d != r {
			t.Errorf("user %s: dry run announced %+v, the real run did %+v", name, d, r)
		}
	}
	if len(dry.Mailboxes) != len(real.Mailboxes) {
		t.Fatalf("dry run announced %d mailboxes, the real run did %d", len(dry.Mailboxes), len(real.Mailboxes))
	}
	for i := range dry.Mailboxes {
		if dry.Mailboxes[i] != real.Mailboxes[i] {
			t.Errorf("mailbox %d: dry run announced %+v, the real run did %+v", i, dry.Mailboxes[i], real.Mailboxes[i])
		}
	}
	for _, u := range fx.names {
		fx.exactlyOnce(u)
	}
}

// messageFiles lists the delivered message files of a user's Maildir (root and folders).
func (fx *fixture) messageFiles(user string) []string {
	fx.t.Helper()
	var out []string
	root := filepath.Join(fx.homes[user], "Maildir")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if sub := filepath.Base(filepath.Dir(p)); d.Type().IsRegular() && (sub == "new" || sub == "cur") {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		fx.t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// changeOneByte flips one byte of the body, keeping the size and the mtime.
func changeOneByte(t *testing.T, p string) {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte("\nHello "))
	if i < 0 {
		t.Fatalf("%s: no body line to change", p)
	}
	b[i+1] = 'J'
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
}

// TestUsersVerify: verify in users mode passes after a clean conversion (both --verify and
// 'verify users'), and catches a changed byte in one user's Maildir and a deleted file in
// another's (with --strict), naming the users, with exit status 3; a locked spool gives 75 and
// an unknown user 1.
func TestUsersVerify(t *testing.T) {
	needRoot(t)
	fx := newSite(t)
	fx.populate(8)

	code, stdout, stderr := cliOut(t, append(fx.usersArgs("users"), "--sync", "none", "--verify", "--json")...)
	if code != 0 {
		t.Fatalf("users --verify: exit %d, want 0\n%s", code, stderr)
	}
	_, conv := parseUsersDoc(t, stdout)
	for _, u := range fx.names {
		r := conv[u]
		if r.Status != "ok" || r.Verify == nil || r.Verify.Differences != 0 || r.Verify.Messages != len(fx.want[u]) || r.Verify.OK != len(fx.want[u]) {
			t.Errorf("users --verify, user %s: status %s, verify %+v; want ok with %d messages verified", u, r.Status, r.Verify, len(fx.want[u]))
		}
		fx.exactlyOnce(u)
	}

	homes := filepath.Join(fx.dir, "home")
	homesBefore, spoolBefore := treeSums(t, homes, false), treeSums(t, fx.spool, true)
	code, stdout, stderr = cliOut(t, append(fx.usersArgs("verify", "users"), "--strict", "--json")...)
	if code != 0 {
		t.Fatalf("verify users after a clean conversion: exit %d, want 0\n%s", code, stderr)
	}
	diffTrees(t, "homes after verify users", homesBefore, treeSums(t, homes, false))
	diffTrees(t, "spool directory after verify users", spoolBefore, treeSums(t, fx.spool, true))
	clean, cleanUsers := parseUsersDoc(t, stdout)
	if len(clean.Users) != 8 {
		t.Fatalf("verify users reports %d users, want 8", len(clean.Users))
	}
	for _, u := range fx.names {
		if r := cleanUsers[u]; r.Status != "ok" || r.Verify == nil || r.Verify.OK != len(fx.want[u]) {
			t.Errorf("verify users, user %s: status %s, verify %+v; want ok, %d ok", u, r.Status, r.Verify, len(fx.want[u]))
		}
	}

	// faults: one changed byte for u01, one deleted file for u02
	changed := fx.messageFiles("u01")[0]
	changeOneByte(t, changed)
	deleted := fx.messageFiles("u02")[1]
	if err := os.Remove(deleted); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr = cliOut(t, append(fx.usersArgs("verify", "users"), "--strict", "--json")...)
	if code != cli.ExitDiffers {
		t.Errorf("verify users --strict with faults: exit %d, want %d\n%s", code, cli.ExitDiffers, stderr)
	}
	_, got := parseUsersDoc(t, stdout)
	for _, u := range fx.names {
		r := got[u]
		switch u {
		case "u01":
			if r.Status != "differs" || r.Verify == nil || r.Verify.Counts["changed_bytes"] != 1 || r.Verify.Differences != 1 {
				t.Errorf("u01 (one changed byte): status %s, verify %+v; want differs with one changed_bytes", r.Status, r.Verify)
			}
		case "u02":
			if r.Status != "differs" || r.Verify == nil || r.Verify.Counts["missing"] != 1 || r.Verify.Differences != 1 {
				t.Errorf("u02 (one deleted file, --strict): status %s, verify %+v; want differs with one missing", r.Status, r.Verify)
			}
		default:
			if r.Status != "ok" {
				t.Errorf("user %s has no fault but ends %s: %s", u, r.Status, r.Error)
			}
		}
	}
	for _, want := range []string{
		"mb2md: user u01: difference: changed bytes: ",
		changed,
		"mb2md: user u02: difference: missing: ",
		deleted,
		"mb2md: user u01 (uid 60001): differs: 1 differences",
		"2 differ",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("verify users report does not contain %q:\n%s", want, stderr)
		}
	}

	// without --strict the deletion is the user's doing: only u01 differs
	code, stdout, stderr = cliOut(t, append(fx.usersArgs("verify", "users"), "--json")...)
	if code != cli.ExitDiffers {
		t.Errorf("verify users with faults: exit %d, want %d\n%s", code, cli.ExitDiffers, stderr)
	}
	_, got = parseUsersDoc(t, stdout)
	if r := got["u02"]; r.Status != "ok" || r.Verify == nil || r.Verify.Counts["deleted"] != 1 {
		t.Errorf("u02 without --strict: status %s, verify %+v; want ok with one deleted (a note)", r.Status, r.Verify)
	}
	if r := got["u01"]; r.Status != "differs" {
		t.Errorf("u01 without --strict: status %s, want differs", r.Status)
	}

	// a user failing wins (exit 1); only the named users are verified
	code, _, stderr = cliOut(t, "verify", "users", "u00", "nobody-here", "--passwd", fx.passwd, "--spool", fx.spool, "--folders", "mail", "--tz", "UTC")
	if code != cli.ExitFailure || !strings.Contains(stderr, "user nobody-here (uid -1): error") || !strings.Contains(stderr, "verified 2 users") {
		t.Errorf("verify users with an unknown user: exit %d, want %d\n%s", code, cli.ExitFailure, stderr)
	}

	// a spool that stays locked: that user is "locked", exit 75 when nothing differs
	held, err := spoollock.Lock(context.Background(), fx.spoolOf("u05"), spoollock.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer held.Unlock()
	code, _, stderr = cliOut(t, "verify", "users", "u04", "u05", "--passwd", fx.passwd, "--spool", fx.spool, "--folders", "mail", "--tz", "UTC", "--lock-timeout", "0")
	if code != cli.ExitTemporary || !strings.Contains(stderr, "user u05 (uid 60005): locked") {
		t.Errorf("verify users with a locked spool: exit %d, want %d\n%s", code, cli.ExitTemporary, stderr)
	}
}

// TestUsersDryRunVerifyConflict: --dry-run and --verify together are a usage error.
func TestUsersDryRunVerifyConflict(t *testing.T) {
	code, _, stderr := cliOut(t, "users", "--all", "--spool", "/var/mail", "--dry-run", "--verify")
	if code != cli.ExitUsage || !strings.Contains(stderr, "cannot be combined") {
		t.Errorf("exit %d, want %d\n%s", code, cli.ExitUsage, stderr)
	}
}
