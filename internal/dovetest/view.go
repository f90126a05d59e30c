package dovetest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// View is what an IMAP client sees.
type View struct {
	Folders []Folder // sorted by Name (byte order)
	// Subscriptions are all LSUB names, decoded and sorted, including subscribed
	// folders that do not exist.
	Subscriptions []string
	// Problems found while reading: folders that could not be opened, RFC822.SIZE
	// not equal to len(BODY[]), Dovecot log errors. View fails the test on them
	// unless Config.AllowProblems is set.
	Problems []string
}

// Folder is one mailbox.
type Folder struct {
	Name        string // UTF-8, "/" separates hierarchy levels
	RawName     string // as sent by the server (modified UTF-7)
	Subscribed  bool
	NoSelect    bool
	Error       string // EXAMINE or FETCH failed or the session ended (Messages is then empty)
	UIDValidity uint32
	UIDNext     uint32
	Messages    []Msg // in UID order
}

// Msg is one message.
type Msg struct {
	UID          uint32
	Flags        []string // system flags (\Seen ...), sorted, without \Recent
	Keywords     []string // flags without a backslash, sorted
	Recent       bool
	InternalDate time.Time // UTC
	Size         int64     // RFC822.SIZE
	Body         []byte    // BODY.PEEK[] (CRLF line ends)
}

// fetchChunk is the number of messages per FETCH command.
const fetchChunk = 500

// View logs in over IMAP and reads every folder and message. EXAMINE is used, so
// flags are not changed; \Recent is reported for messages that are recent on the
// first open. Problems fail the test unless Config.AllowProblems is set.
func (s *Server) View(t testing.TB) *View {
	t.Helper()
	v, err := s.ReadView()
	if err != nil {
		t.Fatalf("dovetest: %v\nlog %s:\n%s", err, s.logPath, indent(s.readLog()))
	}
	if len(v.Problems) > 0 && !s.cfg.AllowProblems {
		t.Errorf("dovetest: %d problem(s) serving %s (log %s):\n%s", len(v.Problems), s.location, s.logPath,
			indent(strings.Join(v.Problems, "\n")))
	}
	return v
}

// ReadView is View without a testing.TB: it returns an error when the session
// fails and reports problems only in View.Problems.
func (s *Server) ReadView() (*View, error) {
	c, err := dialIMAP(s.imapAddr, s.cfg.Timeout)
	if err != nil {
		return nil, fmt.Errorf("connect to dovecot imap %s: %w", s.imapAddr, err)
	}
	v, err := readView(c, s.user, s.pass, s.loggedIn)
	c.Close()
	s.syncLog()
	if err != nil {
		return nil, err
	}
	for _, e := range s.newLogErrors() {
		v.Problems = append(v.Problems, "dovecot log: "+e)
	}
	return v, nil
}

func readView(c *client, user, pass string, loggedIn func()) (*View, error) {
	if _, _, err := c.cmd("LOGIN", astr(user), astr(pass)); err != nil {
		return nil, err
	}
	loggedIn()
	resps, _, err := c.cmd("LIST", astr(""), astr("*"))
	if err != nil {
		return nil, err
	}
	list, err := parseList(resps, "LIST")
	if err != nil {
		return nil, err
	}
	resps, _, err = c.cmd("LSUB", astr(""), astr("*"))
	if err != nil {
		return nil, err
	}
	lsub, err := parseList(resps, "LSUB")
	if err != nil {
		return nil, err
	}
	v := &View{}
	subscribed := map[string]bool{}
	for _, e := range lsub {
		subscribed[e.name] = true
		name, err := decodeName(e)
		if err != nil {
			v.Problems = append(v.Problems, err.Error())
		}
		v.Subscriptions = append(v.Subscriptions, name)
	}
	sort.Strings(v.Subscriptions)
	closed := "" // set when the server ended the session
	for _, e := range list {
		name, err := decodeName(e)
		if err != nil {
			v.Problems = append(v.Problems, err.Error())
		}
		f := Folder{Name: name, RawName: e.name, Subscribed: subscribed[e.name]}
		f.NoSelect = hasAttr(e.attrs, `\Noselect`) || hasAttr(e.attrs, `\NonExistent`)
		switch {
		case f.NoSelect:
		case closed != "":
			f.Error = "not read: " + closed
		default:
			probs, err := readFolder(c, &f)
			var bye *byeError
			if errors.As(err, &bye) {
				// Dovecot ends the session on some broken messages (e.g. a too
				// large W=); report it and leave the rest of the folders unread
				f.Error, f.Messages = err.Error(), nil
				closed = err.Error()
				probs = append(probs, fmt.Sprintf("folder %q: %v", f.Name, err))
				err = nil
			}
			if err != nil {
				return nil, err
			}
			v.Problems = append(v.Problems, probs...)
		}
		v.Folders = append(v.Folders, f)
	}
	sort.SliceStable(v.Folders, func(i, j int) bool { return v.Folders[i].Name < v.Folders[j].Name })
	if closed == "" {
		_, _, _ = c.cmd("LOGOUT")
	}
	return v, nil
}

func decodeName(e listEntry) (string, error) {
	name, err := DecodeMUTF7(e.name)
	if e.delim != "" && e.delim != "/" {
		name = strings.ReplaceAll(name, e.delim, "/")
	}
	return name, err
}

// readFolder runs EXAMINE and fetches every message of f. A folder that cannot be
// opened is reported as a problem; a broken session is an error.
func readFolder(c *client, f *Folder) ([]string, error) {
	resps, tagged, err := c.cmd("EXAMINE", astr(f.RawName))
	if err != nil {
		if tagged != nil && tagged.kind == "NO" {
			f.Error = tagged.statusText()
			return []string{fmt.Sprintf("folder %q: EXAMINE failed: %s", f.Name, f.Error)}, nil
		}
		var bye *byeError
		if errors.As(err, &bye) {
			return nil, err
		}
		return nil, fmt.Errorf("folder %q: %w", f.Name, err)
	}
	var exists uint32
	for _, r := range resps {
		switch {
		case r.kind == "EXISTS" && r.hasNum:
			exists = r.num
		case r.kind == "OK" && r.code != "":
			key, val, _ := strings.Cut(r.code, " ")
			n, perr := strconv.ParseUint(val, 10, 32)
			switch strings.ToUpper(key) {
			case "UIDVALIDITY":
				if perr == nil {
					f.UIDValidity = uint32(n)
				}
			case "UIDNEXT":
				if perr == nil {
					f.UIDNext = uint32(n)
				}
			}
		}
	}
	var probs []string
	for lo := uint32(1); lo <= exists; lo += fetchChunk {
		hi := min(exists, lo+fetchChunk-1)
		resps, tagged, err := c.cmd("FETCH", atom(fmt.Sprintf("%d:%d", lo, hi)),
			atom("(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])"))
		if err != nil {
			var bye *byeError
			if errors.As(err, &bye) {
				return probs, err
			}
			if tagged != nil && tagged.kind == "NO" {
				// e.g. Dovecot's "Internal error occurred" on a wrong S= size
				f.Error = "FETCH failed: " + tagged.statusText()
				f.Messages = nil
				return append(probs, fmt.Sprintf("folder %q: FETCH %d:%d failed: %s", f.Name, lo, hi, tagged.statusText())), nil
			}
			return nil, fmt.Errorf("folder %q: %w", f.Name, err)
		}
		items := map[uint32]*fetchItem{}
		for _, r := range resps {
			if r.kind != "FETCH" || !r.hasNum {
				continue
			}
			it := items[r.num]
			if it == nil {
				it = &fetchItem{seq: r.num}
				items[r.num] = it
			}
			if err := parseFetch(r, it); err != nil {
				return nil, fmt.Errorf("folder %q: %w", f.Name, err)
			}
		}
		for seq := lo; seq <= hi; seq++ {
			it := items[seq]
			if it == nil || it.uid == 0 || !it.hasFlags || it.internalDate == "" || !it.hasSize || !it.hasBody {
				return nil, fmt.Errorf("folder %q: FETCH %d:%d returned incomplete data for message %d", f.Name, lo, hi, seq)
			}
			m := Msg{UID: it.uid, Size: it.size, Body: it.body}
			if m.InternalDate, err = ParseInternalDate(it.internalDate); err != nil {
				return nil, fmt.Errorf("folder %q uid %d: %w", f.Name, it.uid, err)
			}
			for _, fl := range it.flags {
				switch {
				case strings.EqualFold(fl, `\Recent`):
					m.Recent = true
				case strings.HasPrefix(fl, `\`):
					m.Flags = append(m.Flags, fl)
				default:
					m.Keywords = append(m.Keywords, fl)
				}
			}
			sort.Strings(m.Flags)
			sort.Strings(m.Keywords)
			if int64(len(m.Body)) != m.Size {
				probs = append(probs, fmt.Sprintf("folder %q uid %d: RFC822.SIZE %d but BODY[] has %d bytes", f.Name, m.UID, m.Size, len(m.Body)))
			}
			f.Messages = append(f.Messages, m)
		}
	}
	sort.SliceStable(f.Messages, func(i, j int) bool { return f.Messages[i].UID < f.Messages[j].UID })
	return probs, nil
}

// String is a canonical, line-oriented listing (bodies as sha256), handy in test
// failure messages and golden files.
func (v *View) String() string {
	var b strings.Builder
	for _, f := range v.Folders {
		fmt.Fprintf(&b, "FOLDER %q messages=%d subscribed=%t", f.Name, len(f.Messages), f.Subscribed)
		if f.NoSelect {
			b.WriteString(" noselect")
		}
		if f.Error != "" {
			fmt.Fprintf(&b, " error=%q", f.Error)
		}
		fmt.Fprintf(&b, " uidvalidity=%d uidnext=%d\n", f.UIDValidity, f.UIDNext)
		for _, m := range f.Messages {
			fmt.Fprintf(&b, "  MSG uid=%d %s %s size=%d sha256=%x\n", m.UID, m.flagString(),
				m.InternalDate.UTC().Format(time.RFC3339), m.Size, sha256.Sum256(m.Body))
		}
	}
	for _, s := range v.Subscriptions {
		fmt.Fprintf(&b, "SUBSCRIBED %q\n", s)
	}
	for _, p := range v.Problems {
		fmt.Fprintf(&b, "PROBLEM %s\n", p)
	}
	return b.String()
}

func (m *Msg) flagString() string {
	all := append(append([]string{}, m.Flags...), m.Keywords...)
	if m.Recent {
		all = append(all, `\Recent`)
	}
	if len(all) == 0 {
		return "-"
	}
	return strings.Join(all, ",")
}

// Folder returns the folder with the given (decoded) name, or nil.
func (v *View) Folder(name string) *Folder {
	for i := range v.Folders {
		if v.Folders[i].Name == name {
			return &v.Folders[i]
		}
	}
	return nil
}
