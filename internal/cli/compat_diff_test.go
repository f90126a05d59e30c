package cli

// Differential test of --compat against Debian's /usr/bin/mb2md 3.20: both run on the same
// input under the same conditions (absolute paths, a fresh HOME, TZ, LC_ALL=C, umask 022,
// the clock pinned with faketime to the Now injected into ours), and a canonical listing of
// both Maildirs is compared: folders, and per message the subdir, flags, mtime, size and
// SHA-256 (never file names). They must be identical except where one of mb2md's data-loss
// bugs strikes; there the test asserts our corrected result.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

const mb2mdPath = "/usr/bin/mb2md"

// compatNow is the clock of both tools: the date the golden data of the spec was made.
var compatNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// compatFileMTime is given to every input file: the date policy's last fallback.
var compatFileMTime = time.Date(2003, 3, 3, 3, 3, 3, 0, time.UTC)

type compatCase struct {
	name, mode, tz, about string
	args                  []string
	files                 map[string]string // "input.mbox", "input/…", "home/…" → content
	dirs                  []string          // empty directories to create
}

// compatFix is what differs from mb2md's result for a case, because one of its bugs strikes.
type compatFix struct {
	b2     int                             // messages with an unparseable From_ date (mb2md: mtime 0)
	fix    func(*testing.T, *canonListing) // turns mb2md's listing into our corrected one
	report string                          // a regexp our report (stderr) must match
}

func msgEntry(folder, content string, mtime int64, flags string) canonMsg {
	sum := sha256.Sum256([]byte(content))
	return canonMsg{folder: folder, subdir: "cur", flags: flags, mtime: mtime, size: int64(len(content)), sha: hex.EncodeToString(sum[:])}
}

// replaceMsgs checks that mb2md's listing has want messages (the bug struck) and replaces
// them with ours.
func replaceMsgs(want int, ours ...canonMsg) func(*testing.T, *canonListing) {
	return func(t *testing.T, l *canonListing) {
		t.Helper()
		if len(l.msgs) != want {
			t.Errorf("mb2md gave %d messages, expected %d (its bug did not strike as documented)", len(l.msgs), want)
		}
		l.msgs = append([]canonMsg(nil), ours...)
	}
}

const (
	apr1 = 1017655200 // Mon Apr  1 10:00:00 2002 UTC
	apr2 = 1017741600
	apr3 = 1017828000
	apr4 = 1017914400
)

var compatFixes = map[string]compatFix{
	"03-fromquote": {b2: 1}, // the bogus message started by "From the meeting at 10:30"
	// B3: with -c mb2md merges messages whose body does not end with an empty line
	"07b-cl-c-bug": {
		fix: replaceMsgs(2,
			msgEntry(".", "From: cl@example.com\nSubject: cl one\nContent-Length: 4\n\none\n", apr1, ""),
			msgEntry(".", "From: cl@example.com\nSubject: cl two\nContent-Length: 4\n\ntwo\n", apr2, ""),
			msgEntry(".", "From: cl@example.com\nSubject: cl three\nContent-Length: 6\n\nthree\n", apr3, ""),
			msgEntry(".", "From: cl@example.com\nSubject: cl four\nContent-Length: 5\n\nfour\n", apr4, "")),
		report: `input.mbox:8: a new message starts here; mb2md 3.20 would have appended it .*bug B3`,
	},
	// B3: lengths counted on CRLF bytes merge everything in mb2md
	"07d-cl-crlf": {
		fix: replaceMsgs(1,
			msgEntry(".", "Subject: crlf cl 1\nContent-Length: 18\n\nline a\nline b\n\n", apr1, ""),
			msgEntry(".", "Subject: crlf cl 2\nContent-Length: 18\n\nline a\nline b\n\n", apr2, "")),
		report: `Content-Length counts CRLF line ends.*bug B3`,
	},
	"12-bogusdate": {b2: 7, report: `bug B2`},
	"13-olddates":  {b2: 1, report: `"Wed Dec 31 23:59:59 1969" cannot be parsed.*bug B2`}, // the -1 quirk in UTC
	// B4: the last message ends inside its headers
	"14-headers-edge": {
		fix: func(t *testing.T, l *canonListing) {
			t.Helper()
			if len(l.msgs) != 3 {
				t.Errorf("mb2md gave %d messages, expected 3 (bug B4 did not strike)", len(l.msgs))
			}
			redated := 0
			for i := range l.msgs {
				if l.msgs[i].mtime == apr4 { // message 3 dated with message 4's date
					l.msgs[i].mtime = apr3
					redated++
				}
			}
			if redated != 1 {
				t.Errorf("mb2md redated %d messages with the lost message's date, expected 1", redated)
			}
			l.msgs = append(l.msgs, msgEntry(".", "From: e4@example.com\nSubject: edge four, file ends inside the headers\n", apr4, ""))
		},
		report: `input.mbox:24: the file ends inside this message's headers.*bug B4`,
	},
	// B5: two sources of one folder overwrite each other in mb2md
	"16-collision": {
		fix: replaceMsgs(2,
			msgEntry(".a_b", "From: t@example.com\nSubject: from a.b\n\nfrom a.b body\n", apr1, ""),
			msgEntry(".a_b", "From: t@example.com\nSubject: from a_b\n\nfrom a_b body\n", apr1, ""),
			msgEntry(".Trash", "From: t@example.com\nSubject: from Trash\n\nfrom Trash body\n", apr1, ""),
			msgEntry(".Trash", "From: t@example.com\nSubject: from Trash.mbx\n\nfrom Trash.mbx body\n", apr1, "")),
		report: `bug B5`,
	},
	// B10: mb2md converts a CR-only file to nothing, silently; we report it
	"21-cr-only": {report: `CR-only line ends.*bug B10`},
}

func TestCompatDifferentialCases(t *testing.T) {
	requireMB2MD(t)
	seen := map[string]bool{}
	for _, c := range compatCases {
		seen[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			home := filepath.Join(t.TempDir(), "home")
			for rel, data := range c.files {
				p := filepath.Join(home, strings.TrimPrefix(rel, "home/"))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for _, d := range c.dirs {
				if err := os.MkdirAll(filepath.Join(home, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			setMTimes(t, filepath.Join(home, "input.mbox"), filepath.Join(home, "input"))
			var args []string
			env := map[string]string{}
			switch c.mode {
			case "file":
				args = []string{"-s", filepath.Join(home, "input.mbox")}
			case "tree":
				args = []string{"-s", filepath.Join(home, "input"), "-R"}
			case "flat":
				args = []string{"-s", filepath.Join(home, "input")}
			case "spool":
				args = []string{"-m"}
				env["MAIL"] = filepath.Join(home, "input.mbox")
			default:
				t.Fatalf("unknown mode %q", c.mode)
			}
			args = append(args, c.args...)
			fx := compatFixes[c.name]
			res := runBoth(t, home, c.tz, env, args)
			if fx.fix != nil {
				fx.fix(t, &res.ref)
			}
			b2 := compareListings(t, res.ref, res.ours)
			if b2 != fx.b2 {
				t.Errorf("%d messages with mb2md's mtime 0 got another date, expected %d", b2, fx.b2)
			}
			if fx.b2 > 0 {
				// these inputs have no Received:/Date: headers: the policy falls back to the file's mtime
				for _, m := range res.ours.msgs {
					if m.mtime != 0 && m.mtime != compatFileMTime.Unix() && !res.ref.hasMTime(m.mtime) {
						t.Errorf("message %s has mtime %d, expected mb2md's or the file's mtime %d", m.sha[:12], m.mtime, compatFileMTime.Unix())
					}
				}
			}
			if fx.report != "" && !regexp.MustCompile(fx.report).MatchString(res.oursLog) {
				t.Errorf("our report does not match %q:\n%s", fx.report, res.oursLog)
			}
			if t.Failed() {
				t.Logf("mb2md output:\n%s", res.refLog)
				t.Logf("our output:\n%s", res.oursLog)
			}
		})
	}
	for _, want := range []string{"01-plain", "13b-olddates-tokyo", "13c-olddates-newyork", "22-strip-ext-dirs"} {
		if !seen[want] {
			t.Errorf("case %s missing", want)
		}
	}
	if len(compatCases) != 30 {
		t.Errorf("%d cases, want the 30 of the spec", len(compatCases))
	}
}

// TestCompatDifferentialCorpus runs both tools on every file of the shared corpus
// (single-file mode) and on the whole tree (-s DIR -R).
func TestCompatDifferentialCorpus(t *testing.T) {
	requireMB2MD(t)
	corpus := findCorpus(t)
	var files []string
	err := filepath.WalkDir(corpus, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skipf("no files in %s", corpus)
	}
	var agree, fixed int
	for _, f := range files {
		rel, _ := filepath.Rel(corpus, f)
		t.Run(rel, func(t *testing.T) {
			home := filepath.Join(t.TempDir(), "home")
			if err := os.Mkdir(home, 0o755); err != nil {
				t.Fatal(err)
			}
			res := runBoth(t, home, "UTC", nil, []string{"-s", f})
			if b2 := compareCorpus(t, res); b2 > 0 {
				fixed++
			} else {
				agree++
			}
		})
	}
	t.Run("tree", func(t *testing.T) {
		home := filepath.Join(t.TempDir(), "home")
		if err := os.Mkdir(home, 0o755); err != nil {
			t.Fatal(err)
		}
		res := runBoth(t, home, "UTC", nil, []string{"-s", corpus, "-R"})
		compareCorpus(t, res)
		t.Logf("tree: %d folders, %d messages", len(res.ours.folders), len(res.ours.msgs))
	})
	t.Logf("corpus: %d files identical to mb2md, %d differing only where bug B2 strikes", agree, fixed)
}

// compareCorpus compares a corpus run: identical, except messages whose From_ date mb2md
// could not parse (B2); each of them must be reported.
func compareCorpus(t *testing.T, res bothResult) int {
	t.Helper()
	b2 := compareListings(t, res.ref, res.ours)
	if n := strings.Count(res.oursLog, "(1970-01-01, bug B2)"); n < b2 {
		t.Errorf("%d messages redated from mtime 0, but only %d B2 warnings", b2, n)
	}
	if t.Failed() {
		t.Logf("our output:\n%s", res.oursLog)
	}
	return b2
}

func requireMB2MD(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(mb2mdPath); err != nil {
		t.Skipf("Debian's mb2md is not installed (%s): apt-get install mb2md", mb2mdPath)
	}
	if err := exec.Command("perl", "-MDate::Parse", "-e", "1").Run(); err != nil {
		t.Skipf("perl with Date::Parse is missing (%v): apt-get install libtimedate-perl", err)
	}
	if _, err := exec.LookPath("faketime"); err != nil {
		t.Skip("faketime is missing (mb2md's two-digit years depend on the clock): apt-get install faketime")
	}
}

// findCorpus walks up from the package directory to a sibling "shared" directory of the
// repository that holds corpus/mbox.
func findCorpus(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "corpus", "mbox")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("no shared/corpus/mbox next to the repository; the corpus differential test needs it")
		}
		dir = parent
	}
}

func setMTimes(t *testing.T, roots ...string) {
	t.Helper()
	for _, root := range roots {
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				if err := os.Chtimes(p, compatFileMTime, compatFileMTime); err != nil {
					t.Fatal(err)
				}
			}
			return nil
		})
	}
}

type bothResult struct {
	ref, ours       canonListing
	refLog, oursLog string
}

// runBoth runs mb2md and ours with the same arguments plus "-d <own dest>", cwd and HOME
// home, the given TZ and extra environment.
func runBoth(t *testing.T, home, tz string, extraEnv map[string]string, args []string) bothResult {
	t.Helper()
	loc, err := time.LoadLocation(tz)
	if err != nil {
		t.Fatal(err)
	}
	work := filepath.Dir(home)
	refDest, oursDest := filepath.Join(work, "ref"), filepath.Join(work, "ours")
	var res bothResult

	// Debian's mb2md
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	refArgs := append([]string{compatNow.In(loc).Format("2006-01-02 15:04:05"), "/bin/sh", "-c",
		`umask 022; exec "$0" "$@"`, mb2mdPath}, args...)
	refArgs = append(refArgs, "-d", refDest)
	cmd := exec.CommandContext(ctx, "faketime", refArgs...)
	cmd.Dir = home
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + home, "USER=" + os.Getenv("USER"), "TZ=" + tz, "LC_ALL=C"}
	for k, v := range extraEnv {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	res.refLog = string(out)
	if ctx.Err() != nil {
		t.Fatalf("mb2md timed out: %s", out)
	}
	if err != nil {
		t.Logf("mb2md: %v", err)
	}

	// ours, in-process
	var stdout, stderr bytes.Buffer
	env := Env{
		Args:   append(append([]string{"--compat", "--tz", tz, "--sync", "none"}, args...), "-d", oursDest),
		Stdin:  strings.NewReader(""),
		Stdout: &stdout, Stderr: &stderr,
		Getenv: func(k string) (string, bool) {
			if k == "HOME" {
				return home, true
			}
			v, ok := extraEnv[k]
			return v, ok
		},
		Cwd: home,
		Now: func() time.Time { return compatNow },
	}
	code := Run(context.Background(), env)
	res.oursLog = fmt.Sprintf("exit %d\n%s%s", code, stdout.String(), stderr.String())

	if res.ref, err = readCanon(refDest); err != nil {
		t.Fatalf("listing mb2md's result: %v\n%s", err, res.refLog)
	}
	if res.ours, err = readCanon(oursDest); err != nil {
		t.Fatalf("listing our result: %v\n%s", err, res.oursLog)
	}
	return res
}

type canonMsg struct {
	folder, subdir, flags string
	mtime, size           int64
	sha                   string
}

func (m canonMsg) String() string {
	flags := m.flags
	if flags == "" {
		flags = "(none)"
	}
	return fmt.Sprintf("M\t%s\t%s\t%s\t%d\t%d\t%s", m.folder, m.subdir, flags, m.mtime, m.size, m.sha)
}

// key is the message without its mtime.
func (m canonMsg) key() string {
	m.mtime = 0
	return m.String()
}

type canonListing struct {
	folders []string
	msgs    []canonMsg
}

func (l canonListing) hasMTime(t int64) bool {
	for _, m := range l.msgs {
		if m.mtime == t {
			return true
		}
	}
	return false
}

// lines is the canonical listing: F<TAB>folder and M<TAB>folder<TAB>subdir<TAB>flags<TAB>
// mtime<TAB>size<TAB>sha256 lines, sorted.
func (l canonListing) lines() []string {
	var out []string
	for _, f := range l.folders {
		out = append(out, "F\t"+f)
	}
	for _, m := range l.msgs {
		out = append(out, m.String())
	}
	sort.Strings(out)
	return out
}

// readCanon lists a Maildir tree: every directory with cur/, new/ or tmp/ is a folder ("." is
// the root); the files in those are its messages, with the flags after ":2," sorted.
func readCanon(root string) (canonListing, error) {
	var l canonListing
	var walk func(dir, rel string) error
	walk = func(dir, rel string) error {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		isMaildir := false
		for _, e := range ents {
			if e.IsDir() && (e.Name() == "cur" || e.Name() == "new" || e.Name() == "tmp") {
				isMaildir = true
			}
		}
		if isMaildir {
			l.folders = append(l.folders, rel)
		}
		for _, e := range ents {
			if !e.IsDir() {
				continue
			}
			name := e.Name()
			p := filepath.Join(dir, name)
			if isMaildir && (name == "cur" || name == "new" || name == "tmp") {
				files, err := os.ReadDir(p)
				if err != nil {
					return err
				}
				for _, f := range files {
					m, err := canonFile(filepath.Join(p, f.Name()))
					if err != nil {
						return err
					}
					m.folder, m.subdir = rel, name
					l.msgs = append(l.msgs, m)
				}
				continue
			}
			sub := name
			if rel != "." {
				sub = rel + "/" + name
			}
			if err := walk(p, sub); err != nil {
				return err
			}
		}
		return nil
	}
	return l, walk(root, ".")
}

func canonFile(p string) (canonMsg, error) {
	var m canonMsg
	st, err := os.Lstat(p)
	if err != nil {
		return m, err
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return m, err
	}
	sum := sha256.Sum256(data)
	name := filepath.Base(p)
	if i := strings.LastIndex(name, ":2,"); i >= 0 {
		fl := []byte(name[i+3:])
		sort.Slice(fl, func(a, b int) bool { return fl[a] < fl[b] })
		m.flags = string(fl)
	} else {
		m.flags = "-"
	}
	m.mtime, m.size, m.sha = st.ModTime().Unix(), st.Size(), hex.EncodeToString(sum[:])
	return m, nil
}

// compareListings requires the listings to be equal, except that a message mb2md dated 0
// (bug B2: Date::Parse failed) may have another date in ours. It returns how many did.
func compareListings(t *testing.T, ref, ours canonListing) (b2 int) {
	t.Helper()
	if a, b := strings.Join(sortedCopy(ref.folders), "\n"), strings.Join(sortedCopy(ours.folders), "\n"); a != b {
		t.Errorf("folders differ:\nmb2md:\n%s\nours:\n%s", a, b)
	}
	pool := map[string][]int64{}
	for _, m := range ours.msgs {
		pool[m.key()] = append(pool[m.key()], m.mtime)
	}
	take := func(k string, ok func(int64) bool) bool {
		for i, mt := range pool[k] {
			if ok(mt) {
				pool[k] = append(pool[k][:i], pool[k][i+1:]...)
				return true
			}
		}
		return false
	}
	var missing []string
	var zero []canonMsg
	for _, m := range ref.msgs {
		if !take(m.key(), func(mt int64) bool { return mt == m.mtime }) {
			if m.mtime == 0 {
				zero = append(zero, m)
				continue
			}
			missing = append(missing, m.String())
		}
	}
	for _, m := range zero { // after the exact matches, so an mtime 0 of ours pairs first
		if take(m.key(), func(mt int64) bool { return mt != 0 }) {
			b2++
			continue
		}
		missing = append(missing, m.String())
	}
	var extra []string
	for k, mts := range pool {
		for _, mt := range mts {
			extra = append(extra, strings.Replace(k, "\t0\t", fmt.Sprintf("\t%d\t", mt), 1))
		}
	}
	sort.Strings(extra)
	if len(missing) > 0 || len(extra) > 0 {
		t.Errorf("listings differ\nonly mb2md (expected):\n%s\nonly ours:\n%s\nmb2md (expected) in full:\n%s\nours in full:\n%s",
			strings.Join(missing, "\n"), strings.Join(extra, "\n"),
			strings.Join(ref.lines(), "\n"), strings.Join(ours.lines(), "\n"))
	}
	return b2
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	sort.Strings(c)
	return c
}
