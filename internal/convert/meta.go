package convert

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/mb2md/mb2md/internal/maildir"
	"github.com/mb2md/mb2md/internal/mailflag"
	"github.com/mb2md/mb2md/internal/mbox"
)

// metaWriter is implemented by sinks that write Dovecot's metadata files (dovecot-uidlist,
// dovecot-keywords, subscriptions). A dry-run sink does not.
type metaWriter interface {
	WritesMeta() bool
}

func (writerSink) WritesMeta() bool  { return true }
func (MaildirSink) WritesMeta() bool { return true }

// blindSink is implemented by sinks that must not consider what the destination already
// holds (a fresh dry run, as verify uses to compute what a first conversion writes).
type blindSink interface {
	Blind() bool
}

// readDelivered loads the folder's list of delivered keys, unless the sink ignores what
// is at the destination (a fresh dry run, as verify uses).
func readDelivered(sink Sink, dir string) (*maildir.Delivered, error) {
	if isBlind(sink) {
		return nil, nil
	}
	return maildir.ReadDelivered(dir)
}

func isBlind(sink Sink) bool {
	b, ok := sink.(blindSink)
	return ok && b.Blind()
}

// folderMeta carries what Dovecot keeps beside the messages of one folder: UIDs (from
// X-IMAPbase/X-IMAP/X-UID, or 1..n), UIDVALIDITY and keyword letters. It is fed in mbox
// order by the reader goroutine; record is called by the writers.
type folderMeta struct {
	dir      string
	list     *maildir.UIDList // the folder's existing dovecot-uidlist, or nil
	assigner *mailflag.UIDAssigner
	keywords []string // dovecot-keywords: index = letter
	kwDirty  bool
	known    map[string]byte // keyword → letter, for every keyword seen with a letter
	dropped  map[string]bool

	mu sync.Mutex
	// files of this run, in mbox order: the reader reserves a place for each message it hands
	// to the writers (reserve), a writer fills it under mu once the file is delivered
	// (recordNew). UID 0: a place not (or not yet) filled.
	files  []maildir.NewFile
	nfiles int                 // places reserved (the reader goroutine only)
	named  []maildir.UIDRecord // files of earlier runs missing from the list
}

// openMeta reads the folder's existing dovecot-uidlist and dovecot-keywords (a folder that
// does not exist yet has neither). A fresh dry run (fresh) ignores the uidlist: its UIDs are
// those of a first conversion.
func openMeta(dir string, fresh bool) (*folderMeta, error) {
	m := &folderMeta{dir: dir, assigner: mailflag.NewUIDAssigner(), dropped: map[string]bool{}}
	var l *maildir.UIDList
	err := fs.ErrNotExist
	if !fresh {
		l, err = maildir.ReadUIDList(dir)
	}
	switch {
	case err == nil:
		m.list = l
		m.assigner.Resume(l.UIDValidity, l.EffectiveNextUID())
	case errors.Is(err, fs.ErrNotExist):
	default:
		return nil, fmt.Errorf("%w; move the damaged dovecot-uidlist aside (Dovecot would renumber the folder) and run again", err)
	}
	if m.keywords, err = maildir.ReadKeywords(dir); err != nil {
		return nil, err
	}
	return m, nil
}

// assign gives the message its UID. existing is the path of the file an earlier run wrote
// for this message ("" for a new message).
func (m *folderMeta) assign(fields []mbox.Field, existing string) (mailflag.MessageUID, error) {
	var old uint32
	if existing != "" && m.list != nil {
		old, _ = m.list.Lookup(filepath.Base(existing))
	}
	for _, f := range fields {
		m.assigner.Header(f.Name, f.Value)
	}
	u, err := m.assigner.End(old)
	if err == nil && existing != "" && old == 0 && !u.Pseudo {
		// delivered by an earlier run but not listed (the list was lost): list it now
		m.record(u.UID, filepath.Base(existing))
	}
	return u, err
}

// letters returns the keyword letters for a message's keywords, assigning new letters in
// order of first use. Keywords beyond 26 in the folder are reported once each by the caller.
func (m *folderMeta) letters(kws []string) (map[string]byte, []string) {
	if len(kws) == 0 {
		return nil, nil
	}
	// the usual case, a message whose keywords all have their letter already: no work
	// (a keyword keeps its letter for good, so the cache never goes stale)
	known := true
	for _, k := range kws {
		if _, ok := m.known[k]; !ok {
			known = false
			break
		}
	}
	if known {
		return m.known, nil
	}
	list, letters, dropped := maildir.AssignKeywords(m.keywords, kws)
	if m.known == nil {
		m.known = map[string]byte{}
	}
	for k, l := range letters {
		m.known[k] = l
	}
	if len(list) != len(m.keywords) || strings.Join(list, "\x00") != strings.Join(m.keywords, "\x00") {
		m.keywords, m.kwDirty = list, true
	}
	var fresh []string
	for _, d := range dropped {
		if !m.dropped[strings.ToLower(d)] {
			m.dropped[strings.ToLower(d)] = true
			fresh = append(fresh, d)
		}
	}
	return letters, fresh
}

// reserve gives a message about to be delivered its place in files, in mbox order (called
// by the reader), so that the list is in UID order without sorting. Only the reader changes
// files, and takes mu only to grow it.
func (m *folderMeta) reserve() int {
	if m.nfiles == len(m.files) {
		grown := make([]maildir.NewFile, max(1024, 2*len(m.files)))
		m.mu.Lock()
		copy(grown, m.files)
		m.files = grown
		m.mu.Unlock()
	}
	m.nfiles++
	return m.nfiles - 1
}

// recordNew notes a file delivered by this run in the place reserved for it (called by the
// writers).
func (m *folderMeta) recordNew(slot int, f maildir.NewFile) {
	m.mu.Lock()
	m.files[slot] = f
	m.mu.Unlock()
}

// record notes an existing file the list lacks.
func (m *folderMeta) record(uid uint32, name string) {
	m.mu.Lock()
	m.named = append(m.named, maildir.UIDRecord{UID: uid, Name: maildir.BaseName(name)})
	m.mu.Unlock()
}

// finish writes dovecot-keywords (when new keywords were used) and dovecot-uidlist, under
// Dovecot's lock. gen gives a fresh UIDVALIDITY for a folder whose mbox had none.
func (m *folderMeta) finish(gen *maildir.UIDValidityGen) error {
	if m.kwDirty {
		if err := maildir.WriteKeywords(m.dir, m.keywords); err != nil {
			return err
		}
	}
	slices.SortFunc(m.named, func(a, b maildir.UIDRecord) int { return cmp.Compare(a.UID, b.UID) })
	// places reserved for messages that were not delivered after all are empty (UID 0); the
	// rest is in mbox order, which is UID order (sorted all the same if it ever is not)
	m.files = slices.DeleteFunc(m.files[:m.nfiles], func(f maildir.NewFile) bool { return f.UID == 0 })
	byUID := func(a, b maildir.NewFile) int { return cmp.Compare(a.UID, b.UID) }
	if !slices.IsSortedFunc(m.files, byUID) {
		slices.SortFunc(m.files, byUID)
	}
	return maildir.UpdateUIDList(m.dir, maildir.DefaultLockOptions, func(l *maildir.UIDList) (*maildir.UIDList, error) {
		if l == nil {
			v := m.assigner.UIDValidity()
			if v == 0 {
				v = gen.Next()
			}
			l = maildir.NewUIDList(v)
		} else if len(m.named) == 0 && len(m.files) == 0 {
			return nil, nil // nothing new: leave the list as it is
		}
		// a message file listed before (its file was removed without Dovecot updating
		// the list) keeps its old UID
		for _, r := range m.named {
			if _, listed := l.Lookup(r.Name); listed {
				continue
			}
			if err := l.Add(r.UID, r.Name); err != nil {
				return nil, fmt.Errorf("%s: %w", m.dir, err)
			}
		}
		if err := l.AddNew(m.files); err != nil {
			return nil, fmt.Errorf("%s: %w", m.dir, err)
		}
		if n := m.assigner.NextUID(); n > l.NextUID {
			l.NextUID = n
		}
		return l, nil
	})
}
