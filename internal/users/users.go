// Package users reads a site's user list and answers per-user questions for the all-users mode:
// which users to convert, which shard of them this host takes, where their spool is, whether their
// home and spool may be touched, and how an empty Maildir for a new account looks.
package users

import (
	"bufio"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// User is one account from a passwd file.
type User struct {
	Name  string
	UID   int
	GID   int
	Home  string
	Shell string
}

// maxLine bounds a passwd line; longer lines are reported, not read whole.
const maxLine = 64 * 1024

// ParsePasswd reads passwd(5) lines "name:passwd:uid:gid:gecos:home:shell". Blank lines, lines
// starting with '#', and NIS compat lines starting with '+' or '-' are skipped. A malformed line
// (wrong field count, empty name, bad uid or gid, relative home) is an error naming its line
// number. The same name twice is an error as well: which one would be meant is not clear.
func ParsePasswd(r io.Reader) ([]User, error) {
	br := bufio.NewReaderSize(r, 4096)
	var out []User
	seen := map[string]int{}
	for lineNo := 1; ; lineNo++ {
		line, err := readLine(br)
		if err == io.EOF && line == "" {
			return out, nil
		}
		if err != nil && err != io.EOF {
			if errors.Is(err, errLineTooLong) {
				return nil, fmt.Errorf("passwd line %d: %w", lineNo, err)
			}
			return nil, fmt.Errorf("passwd line %d: %w", lineNo, err)
		}
		u, ok, perr := parseLine(line)
		if perr != nil {
			return nil, fmt.Errorf("passwd line %d: %w", lineNo, perr)
		}
		if ok {
			if prev, dup := seen[u.Name]; dup {
				return nil, fmt.Errorf("passwd line %d: user %q already defined on line %d; remove one of them", lineNo, u.Name, prev)
			}
			seen[u.Name] = lineNo
			out = append(out, u)
		}
		if err == io.EOF {
			return out, nil
		}
	}
}

var errLineTooLong = fmt.Errorf("line longer than %d bytes; not a passwd file?", maxLine)

// readLine returns one line without its newline, refusing lines over maxLine.
func readLine(br *bufio.Reader) (string, error) {
	var sb strings.Builder
	for {
		frag, err := br.ReadSlice('\n')
		if sb.Len()+len(frag) > maxLine {
			return "", errLineTooLong
		}
		sb.Write(frag)
		if err == bufio.ErrBufferFull {
			continue
		}
		s := strings.TrimSuffix(sb.String(), "\n")
		s = strings.TrimSuffix(s, "\r")
		return s, err
	}
}

func parseLine(line string) (User, bool, error) {
	t := strings.TrimSpace(line)
	if t == "" || t[0] == '#' || t[0] == '+' || t[0] == '-' {
		return User{}, false, nil
	}
	f := strings.Split(line, ":")
	if len(f) != 7 {
		return User{}, false, fmt.Errorf("%d fields, want 7 (name:passwd:uid:gid:gecos:home:shell)", len(f))
	}
	if f[0] == "" || strings.ContainsAny(f[0], "/ \t") || f[0] == "." || f[0] == ".." {
		return User{}, false, fmt.Errorf("bad user name %q", f[0])
	}
	uid, err := parseID(f[2])
	if err != nil {
		return User{}, false, fmt.Errorf("user %s: uid %q: %w", f[0], f[2], err)
	}
	gid, err := parseID(f[3])
	if err != nil {
		return User{}, false, fmt.Errorf("user %s: gid %q: %w", f[0], f[3], err)
	}
	if !filepath.IsAbs(f[5]) {
		return User{}, false, fmt.Errorf("user %s: home %q is not an absolute path", f[0], f[5])
	}
	return User{Name: f[0], UID: uid, GID: gid, Home: filepath.Clean(f[5]), Shell: f[6]}, true, nil
}

func parseID(s string) (int, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 1<<32-1 { // (uid_t)-1 means "no change" to the kernel
		return 0, errors.New("not a number from 0 to 4294967294")
	}
	return int(n), nil
}

// Problem is a user that was asked for but cannot be taken.
type Problem struct {
	Name string
	Err  error
}

func (p Problem) Error() string { return p.Name + ": " + p.Err.Error() }

// Select picks the users to convert. With names, each must exist in all (an unknown name is a
// Problem; the others are still returned), in the order given, each once. With everyone (--all)
// and no names, every user with uid >= minUID is taken, in passwd order. The uid is the only
// test: the shell is not looked at, so accounts with nologin or false shells that still receive
// mail (mailing-list or role accounts) are converted too. Explicit names are taken whatever
// their uid, since the admin asked for them. Names and everyone together take the union.
func Select(all []User, names []string, minUID int, everyone bool) ([]User, []Problem) {
	byName := make(map[string]int, len(all))
	for i, u := range all {
		byName[u.Name] = i
	}
	var out []User
	var probs []Problem
	taken := map[string]bool{}
	for _, n := range names {
		i, ok := byName[n]
		if !ok {
			probs = append(probs, Problem{Name: n, Err: errors.New("no such user in the passwd file; check the name or --passwd")})
			continue
		}
		if !taken[n] {
			taken[n] = true
			out = append(out, all[i])
		}
	}
	if everyone {
		for _, u := range all {
			if u.UID >= minUID && !taken[u.Name] {
				taken[u.Name] = true
				out = append(out, u)
			}
		}
	}
	return out, probs
}

// ParseShard reads "K/N" (1 <= K <= N).
func ParseShard(s string) (k, n int, err error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "/")
	if ok {
		k, err = strconv.Atoi(a)
		if err == nil {
			n, err = strconv.Atoi(b)
		}
	}
	if !ok || err != nil || n < 1 || k < 1 || k > n {
		return 0, 0, fmt.Errorf("bad shard %q: want K/N with 1 <= K <= N, e.g. 3/8", s)
	}
	return k, n, nil
}

// ShardOf is the 1-based shard of N that holds a user name: FNV-1a 64 of the name, mod N. It
// depends on the name alone, so the split is the same on every host whatever the order of the
// passwd file, and a user stays in the same shard when others are added or removed.
func ShardOf(name string, n int) int {
	h := fnv.New64a()
	h.Write([]byte(name))
	return int(h.Sum64()%uint64(n)) + 1
}

// Shard returns the users of shard k of n (1-based), in their given order.
func Shard(users []User, k, n int) []User {
	if n <= 1 {
		return users
	}
	var out []User
	for _, u := range users {
		if ShardOf(u.Name, n) == k {
			out = append(out, u)
		}
	}
	return out
}

// SpoolPath is the user's spool file in spoolDir.
func SpoolPath(u User, spoolDir string) string {
	return filepath.Join(spoolDir, u.Name)
}

// OwnershipError says that a home or spool is not owned by its user, or is a symbolic link.
type OwnershipError struct {
	Path     string
	Owner    int // uid found (-1 when not looked at, e.g. for a symlink)
	Want     int
	Symlink  bool
	NotOwned bool
}

func (e *OwnershipError) Error() string {
	if e.Symlink {
		return fmt.Sprintf("%s is a symbolic link (owned by uid %d), expected a real file or directory owned by uid %d; refusing to follow it: replace the link by the real thing or convert this user by hand", e.Path, e.Owner, e.Want)
	}
	return fmt.Sprintf("%s is owned by uid %d, expected uid %d; refusing to touch it as that user: fix the owner (chown %d %s) or leave the user out", e.Path, e.Owner, e.Want, e.Want, e.Path)
}

// CheckOwnership refuses (with an *OwnershipError) when path is a symbolic link or is not owned
// by uid. It uses lstat, so a link is judged itself, never its target. Other lstat errors are
// returned wrapped (errors.Is(err, fs.ErrNotExist) for a missing path).
func CheckOwnership(path string, uid int) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("check owner of %s: %w", path, err)
	}
	owner := ownerOf(fi)
	if fi.Mode()&os.ModeSymlink != 0 {
		return &OwnershipError{Path: path, Owner: owner, Want: uid, Symlink: true}
	}
	if owner != uid {
		return &OwnershipError{Path: path, Owner: owner, Want: uid, NotOwned: true}
	}
	return nil
}

// SortByName sorts users by name (for stable reports).
func SortByName(us []User) {
	sort.SliceStable(us, func(i, j int) bool { return us[i].Name < us[j].Name })
}
