package dovetest

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"sort"
	"strings"
	"time"
)

// DiffOptions select what Diff leaves out.
type DiffOptions struct {
	IgnoreUIDs          bool     // UID, UIDVALIDITY, UIDNEXT
	IgnoreSubscriptions bool     // Folder.Subscribed and View.Subscriptions
	IgnoreRecent        bool     // \Recent
	IgnoreFlags         []string // flags and keywords to leave out (system flags case-insensitively)
	Labels              [2]string
	// MaxPerFolder caps the differences reported per folder (default 20; the
	// rest is counted in one summary line).
	MaxPerFolder int
}

// Diff compares two views and returns human-readable differences; none means the
// views are identical under opt. Folders are matched by name. Messages are
// matched by position; when the counts differ, equal bodies are aligned first
// (longest common subsequence) so a missing or extra message is reported as such.
func Diff(a, b *View, opt DiffOptions) []string {
	la, lb := opt.Labels[0], opt.Labels[1]
	if la == "" {
		la = "a"
	}
	if lb == "" {
		lb = "b"
	}
	if opt.MaxPerFolder <= 0 {
		opt.MaxPerFolder = 20
	}
	d := &differ{opt: opt, la: la, lb: lb}
	d.ignore = map[string]bool{}
	for _, f := range opt.IgnoreFlags {
		if strings.HasPrefix(f, `\`) {
			f = strings.ToLower(f)
		}
		d.ignore[f] = true
	}
	fa, fb := map[string]*Folder{}, map[string]*Folder{}
	var names []string
	for i := range a.Folders {
		f := &a.Folders[i]
		fa[f.Name] = f
		names = append(names, f.Name)
	}
	for i := range b.Folders {
		f := &b.Folders[i]
		fb[f.Name] = f
		if fa[f.Name] == nil {
			names = append(names, f.Name)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		x, y := fa[n], fb[n]
		switch {
		case y == nil:
			d.out = append(d.out, fmt.Sprintf("folder %q (%d messages) only in %s", n, len(x.Messages), la))
		case x == nil:
			d.out = append(d.out, fmt.Sprintf("folder %q (%d messages) only in %s", n, len(y.Messages), lb))
		default:
			d.folder(x, y)
		}
	}
	if !opt.IgnoreSubscriptions {
		d.subs(a.Subscriptions, b.Subscriptions)
	}
	return d.out
}

type differ struct {
	opt    DiffOptions
	la, lb string
	ignore map[string]bool
	out    []string
}

func (d *differ) folder(x, y *Folder) {
	var out []string
	add := func(format string, args ...any) {
		out = append(out, fmt.Sprintf("folder %q: ", x.Name)+fmt.Sprintf(format, args...))
	}
	if x.NoSelect != y.NoSelect {
		add("noselect %s %t, %s %t", d.la, x.NoSelect, d.lb, y.NoSelect)
	}
	if x.Error != y.Error {
		add("error %s %q, %s %q", d.la, x.Error, d.lb, y.Error)
	}
	if !d.opt.IgnoreSubscriptions && x.Subscribed != y.Subscribed {
		add("subscribed %s %t, %s %t", d.la, x.Subscribed, d.lb, y.Subscribed)
	}
	if !d.opt.IgnoreUIDs {
		if x.UIDValidity != y.UIDValidity {
			add("UIDVALIDITY %s %d, %s %d", d.la, x.UIDValidity, d.lb, y.UIDValidity)
		}
		if x.UIDNext != y.UIDNext {
			add("UIDNEXT %s %d, %s %d", d.la, x.UIDNext, d.lb, y.UIDNext)
		}
	}
	if len(x.Messages) != len(y.Messages) {
		add("%d messages in %s, %d in %s", len(x.Messages), d.la, len(y.Messages), d.lb)
	}
	for _, p := range align(x.Messages, y.Messages) {
		switch {
		case p.j < 0:
			add("message %d (%s) only in %s", p.i+1, describe(&x.Messages[p.i]), d.la)
		case p.i < 0:
			add("message %d (%s) only in %s", p.j+1, describe(&y.Messages[p.j]), d.lb)
		default:
			for _, diff := range d.message(&x.Messages[p.i], &y.Messages[p.j]) {
				if p.i == p.j {
					add("message %d (uid %s): %s", p.i+1, d.uidPair(&x.Messages[p.i], &y.Messages[p.j]), diff)
				} else {
					add("message %s %d / %s %d (uid %s): %s", d.la, p.i+1, d.lb, p.j+1, d.uidPair(&x.Messages[p.i], &y.Messages[p.j]), diff)
				}
			}
		}
	}
	if len(out) > d.opt.MaxPerFolder {
		n := len(out) - d.opt.MaxPerFolder
		out = append(out[:d.opt.MaxPerFolder], fmt.Sprintf("folder %q: ... and %d more difference(s)", x.Name, n))
	}
	d.out = append(d.out, out...)
}

func (d *differ) uidPair(x, y *Msg) string {
	if x.UID == y.UID {
		return fmt.Sprint(x.UID)
	}
	return fmt.Sprintf("%d/%d", x.UID, y.UID)
}

func (d *differ) message(x, y *Msg) []string {
	var out []string
	if !d.opt.IgnoreUIDs && x.UID != y.UID {
		out = append(out, fmt.Sprintf("UID %s %d, %s %d", d.la, x.UID, d.lb, y.UID))
	}
	if fx, fy := d.flags(x.Flags), d.flags(y.Flags); !equalStrings(fx, fy) {
		out = append(out, fmt.Sprintf("flags %s %v, %s %v", d.la, fx, d.lb, fy))
	}
	if kx, ky := d.flags(x.Keywords), d.flags(y.Keywords); !equalStrings(kx, ky) {
		out = append(out, fmt.Sprintf("keywords %s %q, %s %q", d.la, kx, d.lb, ky))
	}
	if !d.opt.IgnoreRecent && !d.ignore[`\recent`] && x.Recent != y.Recent {
		out = append(out, fmt.Sprintf(`\Recent %s %t, %s %t`, d.la, x.Recent, d.lb, y.Recent))
	}
	if !x.InternalDate.Equal(y.InternalDate) {
		out = append(out, fmt.Sprintf("INTERNALDATE %s %s, %s %s (%+v)", d.la, fmtDate(x.InternalDate), d.lb,
			fmtDate(y.InternalDate), y.InternalDate.Sub(x.InternalDate)))
	}
	if x.Size != y.Size {
		out = append(out, fmt.Sprintf("RFC822.SIZE %s %d, %s %d", d.la, x.Size, d.lb, y.Size))
	}
	if !bytes.Equal(x.Body, y.Body) {
		out = append(out, d.body(x.Body, y.Body))
	}
	return out
}

func (d *differ) flags(fl []string) []string {
	out := []string{}
	for _, f := range fl {
		k := f
		if strings.HasPrefix(k, `\`) {
			k = strings.ToLower(k)
		}
		if !d.ignore[k] {
			out = append(out, f)
		}
	}
	return out
}

func (d *differ) body(x, y []byte) string {
	i := 0
	for i < len(x) && i < len(y) && x[i] == y[i] {
		i++
	}
	const ctx = 24
	lo := max(0, i-ctx)
	snip := func(b []byte) string {
		hi := min(len(b), i+ctx)
		s := fmt.Sprintf("%q", b[lo:hi])
		if lo > 0 {
			s = "..." + s
		}
		if hi < len(b) {
			s += "..."
		}
		return s
	}
	return fmt.Sprintf("BODY[] differs at byte %d (%s %d bytes, %s %d bytes): %s %s, %s %s",
		i, d.la, len(x), d.lb, len(y), d.la, snip(x), d.lb, snip(y))
}

func (d *differ) subs(x, y []string) {
	in := func(l []string) map[string]bool {
		m := map[string]bool{}
		for _, s := range l {
			m[s] = true
		}
		return m
	}
	mx, my := in(x), in(y)
	for _, s := range x {
		if !my[s] {
			d.out = append(d.out, fmt.Sprintf("subscription %q only in %s", s, d.la))
		}
	}
	for _, s := range y {
		if !mx[s] {
			d.out = append(d.out, fmt.Sprintf("subscription %q only in %s", s, d.lb))
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func fmtDate(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// describe identifies a message for a human: UID, date, size and Subject.
func describe(m *Msg) string {
	s := fmt.Sprintf("uid %d, %s, %d bytes", m.UID, fmtDate(m.InternalDate), m.Size)
	if subj := subject(m.Body); subj != "" {
		s += fmt.Sprintf(", Subject %q", subj)
	}
	return s
}

func subject(body []byte) string {
	for len(body) > 0 {
		line := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			return ""
		}
		if len(line) > 8 && strings.EqualFold(string(line[:8]), "subject:") {
			s := strings.TrimSpace(string(line[8:]))
			if len(s) > 60 {
				s = s[:60] + "..."
			}
			return s
		}
	}
	return ""
}

// pair is an aligned pair of message indexes; -1 marks a message only on one side.
type pair struct{ i, j int }

// maxAlign bounds the LCS table (cells); larger folders are paired by position.
const maxAlign = 4 << 20

func align(x, y []Msg) []pair {
	n, m := len(x), len(y)
	if n == m || n*m > maxAlign {
		var ps []pair
		for k := 0; k < max(n, m); k++ {
			p := pair{k, k}
			if k >= n {
				p.i = -1
			}
			if k >= m {
				p.j = -1
			}
			ps = append(ps, p)
		}
		return ps
	}
	hx, hy := hashes(x), hashes(y)
	// lcs[i][j] = LCS length of hx[i:] and hy[j:]
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if hx[i] == hy[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var ps []pair
	// gap pairs the unmatched runs x[i0:i] and y[j0:j] by position.
	gap := func(i0, i, j0, j int) {
		for k := 0; k < max(i-i0, j-j0); k++ {
			p := pair{i0 + k, j0 + k}
			if i0+k >= i {
				p.i = -1
			}
			if j0+k >= j {
				p.j = -1
			}
			ps = append(ps, p)
		}
	}
	i, j, i0, j0 := 0, 0, 0, 0
	for i < n && j < m {
		switch {
		case hx[i] == hy[j]:
			gap(i0, i, j0, j)
			ps = append(ps, pair{i, j})
			i++
			j++
			i0, j0 = i, j
		case lcs[i+1][j] >= lcs[i][j+1]:
			i++
		default:
			j++
		}
	}
	gap(i0, n, j0, m)
	return ps
}

func hashes(ms []Msg) [][32]byte {
	h := make([][32]byte, len(ms))
	for i := range ms {
		h[i] = sha256.Sum256(ms[i].Body)
	}
	return h
}
