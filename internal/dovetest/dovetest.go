// Package dovetest runs a private Dovecot 2.3 for tests and returns, through IMAP
// and POP3, a canonical view of what a mail client sees.
//
// End-to-end tests use it to compare Dovecot's view of a source mbox with its view
// of the Maildir the converter wrote:
//
//	src := dovetest.Start(t, dovetest.Config{MailLocation: "mbox:" + root + ":INBOX=" + inbox})
//	dst := dovetest.Start(t, dovetest.Config{MailLocation: "maildir:" + maildir})
//	if d := dovetest.Diff(src.View(t), dst.View(t), dovetest.DiffOptions{IgnoreUIDs: true}); len(d) > 0 { ... }
//
// Dovecot changes what it serves (it writes X-UID headers into mbox files, creates
// dovecot-uidlist, moves new/ to cur/ ...), so always serve a copy. When the test
// runs as root, Start hands the served tree to "nobody" (Dovecot refuses to
// access mail as root) and lets nobody enter the temp dirs above it.
//
// Notes on what a view shows: every message Dovecot sees for the first time is
// \Recent (for Maildir not only the files in new/), and repeated views of one
// server report the same \Recent flags because View uses EXAMINE. Start a server
// once per store and call View as often as needed; a start plus a view takes about
// 0.1 s. A session that Dovecot ends (e.g. on a too large W=) or a folder it cannot
// open is a problem in View.Problems and fails the test unless Config.AllowProblems.
package dovetest

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Config describes the mail store to serve.
type Config struct {
	// MailLocation is Dovecot's mail_location, e.g. "maildir:/x/Maildir" or
	// "mbox:/x/mail:INBOX=/x/mail/inbox". Colons inside paths must be doubled ("::").
	// Unless it already has INDEX=, Start adds ":INDEX=<private dir>" (mbox needs a
	// persistent index; it also keeps Dovecot's index files out of the served tree).
	MailLocation string
	UTF8         bool   // add ":UTF-8" (folder names on disk are UTF-8, not modified UTF-7)
	LayoutFS     bool   // add ":LAYOUT=fs" (Maildir sub/dir instead of Maildir++ .sub.dir)
	TZ           string // TZ of the Dovecot processes; default "UTC" (zoneless mbox From_ dates)
	POP3         bool   // also serve POP3 (see Server.POP3UIDLs)
	// Timeout bounds every network read and write and the server start; default 30s.
	Timeout time.Duration
	// AllowProblems records Dovecot log errors, folders that cannot be opened and
	// RFC822.SIZE/BODY[] mismatches in View.Problems instead of failing the test.
	AllowProblems bool
	// ExtraConfig is appended verbatim to the generated dovecot.conf.
	ExtraConfig string
}

// Server is a running private Dovecot.
type Server struct {
	cfg      Config
	dir      string // config, log, run and state dirs
	logPath  string
	outPath  string // master's own stdout/stderr
	imapAddr string
	pop3Addr string
	user     string
	pass     string
	location string // effective mail_location

	cmd      *exec.Cmd
	done     chan struct{} // closed when the master has exited
	waitErr  error
	stopOnce sync.Once

	mu         sync.Mutex
	logChecked int64 // log bytes already scanned for errors
	sessions   int   // logged-in IMAP/POP3 sessions started by us
}

// Dovecot binary locations; tests skip when they are missing.
var (
	dovecotPaths = []string{"/usr/sbin/dovecot", "/usr/local/sbin/dovecot"}
	libexecDirs  = []string{"/usr/lib/dovecot", "/usr/libexec/dovecot", "/usr/local/libexec/dovecot"}
)

func findDovecot() (string, string, error) {
	bin, err := exec.LookPath("dovecot")
	if err != nil {
		for _, p := range dovecotPaths {
			if st, e := os.Stat(p); e == nil && st.Mode()&0o111 != 0 {
				bin, err = p, nil
				break
			}
		}
	}
	if err != nil {
		return "", "", errors.New("dovecot not installed (apt-get install -y dovecot-core dovecot-imapd dovecot-pop3d)")
	}
	for _, d := range libexecDirs {
		if _, e := os.Stat(filepath.Join(d, "imap")); e == nil {
			return bin, d, nil
		}
	}
	return "", "", errors.New("dovecot imap server not installed (apt-get install -y dovecot-imapd)")
}

// Available reports whether Dovecot with IMAP is installed (and why not).
func Available() error {
	_, _, err := findDovecot()
	return err
}

// Start writes a config into a temp dir, starts "dovecot -F" on 127.0.0.1 and
// returns once it accepts connections. The test is skipped when Dovecot is not
// installed. The server is stopped by t.Cleanup; the log is then checked for errors.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	bin, libexec, err := findDovecot()
	if err != nil {
		t.Skipf("dovetest: %v", err)
	}
	if cfg.POP3 {
		if _, err := os.Stat(filepath.Join(libexec, "pop3")); err != nil {
			t.Skip("dovetest: dovecot pop3 server not installed (apt-get install -y dovecot-pop3d)")
		}
	}
	if cfg.TZ == "" {
		cfg.TZ = "UTC"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	s := &Server{cfg: cfg, dir: t.TempDir(), user: "dovetest"}
	s.logPath = filepath.Join(s.dir, "dovecot.log")
	s.outPath = filepath.Join(s.dir, "master.out")
	var rnd [12]byte
	_, _ = rand.Read(rnd[:])
	s.pass = hex.EncodeToString(rnd[:])
	home := filepath.Join(s.dir, "home")
	index := filepath.Join(s.dir, "index")
	for _, d := range []string{home, index} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatalf("dovetest: %v", err)
		}
	}
	loc, paths, err := buildLocation(cfg, index)
	if err != nil {
		t.Fatalf("dovetest: %v", err)
	}
	s.location = loc

	root := os.Geteuid() == 0
	uid, gid := os.Getuid(), os.Getgid()
	extraUsers := ""
	if root {
		uid, gid, err = nobodyIDs()
		if err != nil {
			t.Fatalf("dovetest: %v", err)
		}
		// The mail processes run as nobody: they must own the served tree and reach it.
		owned := append([]string{home, index}, paths...)
		for _, p := range owned {
			if err := chownTree(p, uid, gid); err != nil {
				t.Fatalf("dovetest: hand the served tree to nobody: %v", err)
			}
		}
		if err := os.Chmod(s.dir, 0o755); err != nil {
			t.Fatalf("dovetest: %v", err)
		}
		for _, p := range append(owned, s.dir) {
			if err := makeReachable(p); err != nil {
				t.Fatalf("dovetest: %v", err)
			}
		}
	} else {
		u, err := user.Current()
		if err != nil {
			t.Fatalf("dovetest: look up current user: %v", err)
		}
		g, err := user.LookupGroupId(strconv.Itoa(gid))
		if err != nil {
			t.Fatalf("dovetest: look up current group: %v", err)
		}
		extraUsers = fmt.Sprintf("default_internal_user = %s\ndefault_login_user = %s\ndefault_internal_group = %s\n",
			u.Username, u.Username, g.Name)
	}
	users := fmt.Sprintf("%s:{PLAIN}%s:%d:%d::%s::\n", s.user, s.pass, uid, gid, home)
	usersPath := filepath.Join(s.dir, "users")
	if err := os.WriteFile(usersPath, []byte(users), 0o644); err != nil {
		t.Fatalf("dovetest: %v", err)
	}

	var lastErr error
	for attempt := 0; attempt < 4; attempt++ {
		ports, err := freePorts(1 + btoi(cfg.POP3))
		if err != nil {
			t.Fatalf("dovetest: find a free port: %v", err)
		}
		s.imapAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
		pop3Port := 0
		if cfg.POP3 {
			pop3Port = ports[1]
			s.pop3Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(pop3Port))
		}
		conf := s.config(usersPath, ports[0], pop3Port, extraUsers)
		confPath := filepath.Join(s.dir, "dovecot.conf")
		if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
			t.Fatalf("dovetest: %v", err)
		}
		lastErr = s.launch(bin, confPath)
		if lastErr == nil {
			break
		}
		s.stop()
		if !strings.Contains(s.readLog(), "Address already in use") {
			break
		}
		_ = os.Remove(s.logPath)
		s.stopOnce = sync.Once{}
	}
	if lastErr != nil {
		t.Fatalf("dovetest: dovecot did not start: %v\nlog %s:\n%s", lastErr, s.logPath, indent(s.readLog()))
	}
	t.Cleanup(func() {
		s.stop()
		if errs := s.newLogErrors(); len(errs) > 0 && !s.cfg.AllowProblems {
			t.Errorf("dovetest: dovecot logged errors (log %s):\n%s", s.logPath, indent(strings.Join(errs, "\n")))
		}
	})
	return s
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// buildLocation returns the effective mail_location and the filesystem paths in it.
func buildLocation(cfg Config, index string) (string, []string, error) {
	loc := cfg.MailLocation
	driver, rest, ok := strings.Cut(loc, ":")
	if !ok || driver == "" || rest == "" {
		return "", nil, fmt.Errorf("mail location %q: want DRIVER:PATH[:KEY=VALUE...], e.g. maildir:/tmp/x/Maildir", loc)
	}
	parts := splitLocation(rest)
	var paths []string
	hasIndex := false
	hasKey := map[string]bool{}
	for i, p := range parts {
		key, val, isKV := strings.Cut(p, "=")
		if i == 0 {
			// the root; in Dovecot it may itself look like KEY=VALUE only if written so
			if isKV && isLocationKey(key) {
				return "", nil, fmt.Errorf("mail location %q: missing root path", loc)
			}
			paths = append(paths, p)
			continue
		}
		if !isKV {
			hasKey[strings.ToUpper(p)] = true
			continue
		}
		key = strings.ToUpper(key)
		hasKey[key] = true
		switch key {
		case "INDEX":
			hasIndex = true
			fallthrough
		case "INBOX", "INDEXPVT", "CONTROL", "ALT", "VOLATILEDIR":
			if val != "" && val != "MEMORY" {
				paths = append(paths, val)
			}
		}
	}
	for _, p := range paths {
		if !filepath.IsAbs(p) {
			return "", nil, fmt.Errorf("mail location %q: path %q is not absolute", loc, p)
		}
		if _, err := os.Lstat(p); err != nil {
			return "", nil, fmt.Errorf("mail location %q: %w", loc, err)
		}
	}
	if !hasIndex {
		loc += ":INDEX=" + escapeLocation(index)
	}
	if cfg.LayoutFS && !hasKey["LAYOUT"] {
		loc += ":LAYOUT=fs"
	}
	if cfg.UTF8 && !hasKey["UTF-8"] {
		loc += ":UTF-8"
	}
	return loc, paths, nil
}

func isLocationKey(k string) bool {
	switch strings.ToUpper(k) {
	case "INBOX", "INDEX", "INDEXPVT", "CONTROL", "ALT", "VOLATILEDIR", "LAYOUT", "DIRNAME", "MAILBOXDIR", "SUBSCRIPTIONS":
		return true
	}
	return false
}

// splitLocation splits on ":" where "::" stands for a literal colon.
func splitLocation(s string) []string {
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			if i+1 < len(s) && s[i+1] == ':' {
				cur.WriteByte(':')
				i++
				continue
			}
			parts = append(parts, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteByte(s[i])
	}
	return append(parts, cur.String())
}

func escapeLocation(p string) string { return strings.ReplaceAll(p, ":", "::") }

func nobodyIDs() (int, int, error) {
	u, err := user.Lookup("nobody")
	if err != nil {
		return 0, 0, fmt.Errorf("running as root needs a user nobody for the mail processes: %w", err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("user nobody has a non-numeric uid/gid %q/%q", u.Uid, u.Gid)
	}
	if g, err := user.LookupGroup("nogroup"); err == nil {
		if n, err := strconv.Atoi(g.Gid); err == nil {
			gid = n
		}
	}
	return uid, gid, nil
}

// chownTree hands p (recursively, when it is a directory) to uid:gid. Modification
// times are not changed.
func chownTree(p string, uid, gid int) error {
	return filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, uid, gid)
	})
}

// makeReachable lets other users traverse the directories above p. Only
// directories below the temp dir are changed (t.TempDir makes them 0700); anywhere
// else a blocked directory is an error the caller has to fix.
func makeReachable(p string) error {
	tmp, err := filepath.Abs(os.TempDir())
	if err != nil {
		return err
	}
	dir := filepath.Dir(filepath.Clean(p))
	for {
		st, err := os.Stat(dir)
		if err != nil {
			return err
		}
		if st.Mode().Perm()&0o001 == 0 {
			if dir == tmp || !strings.HasPrefix(dir, tmp+string(filepath.Separator)) {
				return fmt.Errorf("%s: user nobody cannot enter this directory; serve a copy below %s or chmod o+x it", dir, tmp)
			}
			if err := os.Chmod(dir, st.Mode().Perm()|0o011); err != nil {
				return err
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil
		}
		dir = parent
	}
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func (s *Server) config(usersPath string, imapPort, pop3Port int, extraUsers string) string {
	var b strings.Builder
	protocols := "imap"
	if pop3Port != 0 {
		protocols += " pop3"
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	fmt.Fprintf(&b, `# generated by dovetest
base_dir = %[1]s/run
state_dir = %[1]s/state
instance_name = dovetest-%[2]s
log_path = %[3]s
protocols = %[4]s
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
first_valid_uid = 1
first_valid_gid = 1
mail_location = %[5]s
mail_fsync = never
# no dotlocks: they would need write access to the mbox's directory
mbox_read_locks = fcntl
mbox_write_locks = fcntl
namespace inbox {
  inbox = yes
  prefix =
  separator = /
}
passdb {
  driver = passwd-file
  args = %[6]s
}
userdb {
  driver = passwd-file
  args = %[6]s
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %[7]d
  }
  inet_listener imaps {
    port = 0
  }
  chroot =
}
service anvil {
  chroot =
}
`, s.dir, hex.EncodeToString(rnd[:]), s.logPath, protocols, s.location, usersPath, imapPort)
	if pop3Port != 0 {
		fmt.Fprintf(&b, `service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = %d
  }
  inet_listener pop3s {
    port = 0
  }
  chroot =
}
`, pop3Port)
	}
	b.WriteString(extraUsers)
	if s.cfg.ExtraConfig != "" {
		b.WriteString(s.cfg.ExtraConfig + "\n")
	}
	return b.String()
}

// launch starts the master and waits until the IMAP (and POP3) port accepts.
func (s *Server) launch(bin, confPath string) error {
	out, err := os.OpenFile(s.outPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	cmd := exec.Command(bin, "-F", "-c", confPath)
	cmd.Env = []string{"TZ=" + s.cfg.TZ, "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s: %w", bin, err)
	}
	s.cmd = cmd
	s.done = make(chan struct{})
	go func() {
		s.waitErr = cmd.Wait()
		close(s.done)
	}()
	deadline := time.Now().Add(s.cfg.Timeout)
	addrs := []string{s.imapAddr}
	if s.pop3Addr != "" {
		addrs = append(addrs, s.pop3Addr)
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for _, addr := range addrs {
		for {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("port %s not open after %v", addr, s.cfg.Timeout)
			}
			select {
			case <-s.done:
				return fmt.Errorf("dovecot exited: %v", s.waitErr)
			case <-tick.C:
			}
		}
	}
	return nil
}

// Close stops the server; it is also done by t.Cleanup. Calling it twice is fine.
func (s *Server) Close() { s.stop() }

func (s *Server) stop() {
	s.stopOnce.Do(func() {
		if s.cmd == nil || s.cmd.Process == nil {
			return
		}
		// A graceful SIGTERM takes Dovecot 1 to 6 seconds (it waits for anvil and
		// log). Everything worth logging has been logged once the sessions ended
		// (see syncLog), so kill the process group the master leads.
		if err := killGroup(s.cmd.Process.Pid); err != nil {
			_ = s.cmd.Process.Kill()
		}
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
}

// LogPath is the Dovecot log file.
func (s *Server) LogPath() string { return s.logPath }

// Dir is the private directory with dovecot.conf, the log and Dovecot's state.
func (s *Server) Dir() string { return s.dir }

// MailLocation is the effective mail_location (with the added INDEX= etc.).
func (s *Server) MailLocation() string { return s.location }

// IMAPAddr is the host:port of the IMAP listener.
func (s *Server) IMAPAddr() string { return s.imapAddr }

// Login returns the user name and password of the only user.
func (s *Server) Login() (user, password string) { return s.user, s.pass }

func (s *Server) readLog() string {
	var b bytes.Buffer
	for _, p := range []string{s.logPath, s.outPath} {
		if data, err := os.ReadFile(p); err == nil {
			b.Write(data)
		}
	}
	return b.String()
}

// LogErrors returns the Error, Fatal and Panic lines of the Dovecot log so far.
func (s *Server) LogErrors() []string {
	return scanLogErrors(s.readLog())
}

// newLogErrors returns error lines of the log not returned before.
func (s *Server) newLogErrors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	data, err := os.ReadFile(s.logPath)
	if err != nil {
		return nil
	}
	if int64(len(data)) < s.logChecked {
		s.logChecked = 0
	}
	errs := scanLogErrors(string(data[s.logChecked:]))
	s.logChecked = int64(len(data))
	if out, err := os.ReadFile(s.outPath); err == nil {
		errs = append(errs, scanLogErrors(string(out))...)
		_ = os.Truncate(s.outPath, 0)
	}
	return errs
}

// loggedIn counts a session that logged in (it will log "Disconnected" when it ends).
func (s *Server) loggedIn() {
	s.mu.Lock()
	s.sessions++
	s.mu.Unlock()
}

// syncLog waits until every session we logged in has logged its "Disconnected"
// line: the lines a mail process logs before it are then in the log file too.
func (s *Server) syncLog() {
	s.mu.Lock()
	want := s.sessions
	s.mu.Unlock()
	marker := "(" + s.user + ")"
	deadline := time.Now().Add(s.cfg.Timeout)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		data, _ := os.ReadFile(s.logPath)
		n := 0
		for _, l := range strings.Split(string(data), "\n") {
			if strings.Contains(l, marker) && strings.Contains(l, ": Disconnected") {
				n++
			}
		}
		if n >= want || time.Now().After(deadline) {
			return
		}
		select {
		case <-tick.C:
		case <-s.done:
			return
		}
	}
}

func scanLogErrors(log string) []string {
	var errs []string
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if !(strings.Contains(l, "Error:") || strings.Contains(l, "Fatal:") || strings.Contains(l, "Panic:")) {
			continue
		}
		// the master reports children it killed while shutting down
		if strings.Contains(l, "Fatal: master: service(") && strings.Contains(l, "killed with signal") {
			continue
		}
		errs = append(errs, l)
	}
	return errs
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return "  (empty)"
	}
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
