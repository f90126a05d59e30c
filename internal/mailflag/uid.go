package mailflag

import (
	"errors"
	"math"
	"strings"
)

// This file reimplements how Dovecot's mbox sync (lib-storage/index/mbox, v2.3) reads the
// UID headers of an mbox: X-IMAPbase / X-IMAP (UIDVALIDITY, last UID, declared keywords) and
// X-UID, and which UIDs it keeps or renumbers. Numbers are parsed the way Dovecot parses
// them, including its 32-bit wrap-around on absurdly long digit strings.

// MaxKeywordLength is Dovecot's default mail_max_keyword_length.
const MaxKeywordLength = 50

// isLWSPLF reports Dovecot's IS_LWSP_LF: space, tab or LF.
func isLWSPLF(c byte) bool { return c == ' ' || c == '\t' || c == '\n' }

// ParseIMAPBase parses the value of an X-IMAPbase or X-IMAP header ("<uidvalidity>
// <last-uid> [keyword ...]") exactly as Dovecot does: the UIDVALIDITY digits must be
// followed by a single space byte or the end of the value and must not be 0; the last UID
// is the digits after any run of spaces, tabs or newlines and must be followed by
// whitespace or the end (it may be missing, giving 0); the rest is a whitespace separated
// keyword list. Keywords Dovecot would refuse to create (see ValidKeyword) are left out,
// as are case-insensitive duplicates. ok is false when Dovecot would drop the header as
// broken.
func ParseIMAPBase(value string) (uidvalidity, lastUID uint32, keywords []string, ok bool) {
	i := 0
	for ; i < len(value); i++ {
		c := value[i]
		if c < '0' || c > '9' {
			if c != ' ' {
				return 0, 0, nil, false
			}
			break
		}
		uidvalidity = uidvalidity*10 + uint32(c-'0')
	}
	if uidvalidity == 0 {
		return 0, 0, nil, false
	}
	for i < len(value) && isLWSPLF(value[i]) {
		i++
	}
	for ; i < len(value); i++ {
		c := value[i]
		if c < '0' || c > '9' {
			if !isLWSPLF(c) {
				return 0, 0, nil, false
			}
			break
		}
		lastUID = lastUID*10 + uint32(c-'0')
	}
	seen := map[string]bool{}
	for i < len(value) {
		if isLWSPLF(value[i]) {
			i++
			continue
		}
		start := i
		for i < len(value) && !isLWSPLF(value[i]) {
			i++
		}
		kw := value[start:i]
		if !ValidKeyword(kw) || seen[strings.ToLower(kw)] {
			continue
		}
		seen[strings.ToLower(kw)] = true
		keywords = append(keywords, kw)
	}
	return uidvalidity, lastUID, keywords, true
}

// ValidKeyword reports whether Dovecot would create kw as a new IMAP keyword: not empty,
// at most MaxKeywordLength bytes, only 7-bit IMAP atom characters (no control characters,
// space, DEL or any of ( ) { " ] % * \).
func ValidKeyword(kw string) bool {
	if kw == "" || len(kw) > MaxKeywordLength {
		return false
	}
	for i := 0; i < len(kw); i++ {
		switch c := kw[i]; {
		case c <= 32 || c >= 0x7f:
			return false
		case c == '(' || c == ')' || c == '{' || c == '"' || c == ']' || c == '%' || c == '*' || c == '\\':
			return false
		}
	}
	return true
}

// ParseXUID parses an X-UID header value as Dovecot does: leading digits followed only by
// spaces, tabs or newlines. ok is false for anything else and for 0 (never a valid UID).
func ParseXUID(value string) (uint32, bool) {
	v, ok := parseXUID(value)
	return v, ok && v != 0
}

// parseXUID is Dovecot's syntax check of an X-UID value; 0 passes it (and is then rejected
// by the ordering rule).
func parseXUID(value string) (uint32, bool) {
	var v uint32
	i := 0
	for ; i < len(value) && value[i] >= '0' && value[i] <= '9'; i++ {
		v = v*10 + uint32(value[i]-'0')
	}
	for ; i < len(value); i++ {
		if !isLWSPLF(value[i]) {
			return 0, false
		}
	}
	return v, true
}

// MessageUID is what a UIDAssigner decided for one message.
type MessageUID struct {
	// UID is the message's final UID; 0 for a pseudo message.
	UID uint32
	// Pseudo is true for the UW-IMAP/Pine "FOLDER INTERNAL DATA" message: the first
	// message carrying a valid X-IMAP header. Dovecot hides it; it gets no UID and should
	// not be converted.
	Pseudo bool
	// Kept is true when the message's own X-UID was used.
	Kept bool
	// Renumbered is true when the message had an X-UID header that was not used (broken,
	// not increasing, too large, or not allowed because X-IMAPbase is missing).
	Renumbered bool
	// Existing is true when the UID came from an earlier run (see UIDAssigner.Resume).
	Existing bool
}

// ErrOutOfUIDs is returned when a folder's UIDs reach 4294967295. Dovecot then renumbers
// the whole folder with a new UIDVALIDITY; do the same by starting over with a new
// UIDAssigner whose Renumber field is set.
var ErrOutOfUIDs = errors.New("out of IMAP UIDs (the next UID would be 4294967295): convert this folder again with new UIDs and a new UIDVALIDITY")

// UIDAssigner assigns the UIDs Dovecot's mbox sync would give the messages of one mbox
// folder on its first sync (as a dsync conversion does), one message at a time.
//
// Feed the headers of each message in file order: call Header for every header field of
// the message (or at least for X-IMAPbase, X-IMAP and X-UID, in their original order —
// order matters in the first message), then End. Rules (Dovecot 2.3 mbox-sync-parse.c and
// mbox-sync.c):
//
//   - X-IMAPbase / X-IMAP count only in the first message and only once; the first valid
//     one gives the UIDVALIDITY and sets the next UID to last-UID+1. A valid X-IMAP makes
//     the first message a hidden pseudo message.
//   - X-UID is ignored in the first message unless a valid X-IMAPbase/X-IMAP came before it
//     in that message; only the first usable X-UID of a message counts.
//   - An X-UID is kept when it is greater than the previous message's UID and not greater
//     than the next UID (so at most last-UID+1; using next UID itself advances it).
//   - Every other message gets the next UID, which then grows by one. So with last UID 10,
//     X-UIDs 5,3,5,99 become 5,11,12,13.
//
// Without a valid X-IMAPbase the folder gets UIDs 1..n in mbox order and UIDValidity
// returns 0: pick a fresh UIDVALIDITY (Dovecot uses the current time).
type UIDAssigner struct {
	// Renumber ignores X-IMAPbase/X-IMAP (their pseudo message is still hidden) so that
	// every message gets a new UID from 1; set after ErrOutOfUIDs.
	Renumber bool

	uidValidity uint32
	nextUID     uint32
	prevUID     uint32
	keywords    []string
	seq         int

	// resume state
	resumed     bool
	resumeNext  uint32
	resumeValid uint32
	maxAssigned uint32

	// current message
	inMsg    bool
	seenBase bool
	pseudo   bool
	uid      uint32
	hadXUID  bool
}

// NewUIDAssigner returns an assigner for a new folder.
func NewUIDAssigner() *UIDAssigner {
	return &UIDAssigner{nextUID: 1}
}

// Resume prepares an incremental run into a folder that already has a dovecot-uidlist with
// the given UIDVALIDITY and next UID (use the list's effective next UID: the larger of its
// N header and its highest UID + 1). Call it before the first message. Messages the caller
// finds already converted keep their listed UIDs (pass them to End); every new message gets
// a UID at or above nextUID, higher than any UID given before in this run. A new message
// keeps the UID a fresh conversion would give it when the source's UIDVALIDITY equals
// uidValidity and that UID is still free above the list; otherwise it gets the next free
// one. UIDValidity then always returns uidValidity.
func (a *UIDAssigner) Resume(uidValidity, nextUID uint32) {
	a.resumed = true
	a.resumeValid = uidValidity
	if nextUID == 0 {
		nextUID = 1
	}
	a.resumeNext = nextUID
}

// Header feeds one header field of the current message. Names are matched without regard
// to case; fields other than X-IMAPbase, X-IMAP and X-UID are ignored. value is the field
// value without the name, colon and leading whitespace.
func (a *UIDAssigner) Header(name, value string) {
	if !a.inMsg {
		a.inMsg = true
		a.seq++
	}
	switch len(name) { // the length first: most fields are none of the three
	case len("X-IMAPbase"):
		if strings.EqualFold(name, "X-IMAPbase") {
			a.imapBase(value)
		}
	case len("X-IMAP"):
		if strings.EqualFold(name, "X-IMAP") && a.imapBase(value) {
			a.pseudo = true
		}
	case len("X-UID"):
		if strings.EqualFold(name, "X-UID") {
			a.hadXUID = true
			a.xuid(value)
		}
	}
}

func (a *UIDAssigner) imapBase(value string) bool {
	if a.seq != 1 || a.seenBase || a.Renumber {
		return false
	}
	v, last, kws, ok := ParseIMAPBase(value)
	if !ok {
		return false
	}
	if a.uidValidity == 0 {
		a.uidValidity = v
		a.nextUID = last + 1
		a.keywords = kws
	}
	a.seenBase = true
	return true
}

func (a *UIDAssigner) xuid(value string) {
	if a.uid != 0 {
		return // duplicate header: Dovecot removes it
	}
	v, ok := parseXUID(value)
	if !ok {
		return
	}
	if a.seq == 1 && !a.seenBase {
		return
	}
	if v == a.nextUID {
		a.nextUID++
	} else if v > a.nextUID {
		return
	}
	if v <= a.prevUID {
		return
	}
	a.uid = v
}

// End finishes the current message and returns its UID. existing is the UID the message
// already has in the folder's dovecot-uidlist from an earlier run (0: a new message); it
// is used only after Resume.
func (a *UIDAssigner) End(existing uint32) (MessageUID, error) {
	if !a.inMsg {
		a.seq++
	}
	defer a.resetMsg()
	var r MessageUID
	if a.pseudo {
		// Dovecot remembers a pseudo message's X-UID (if any) as the previous UID
		a.prevUID = a.uid
		r.Pseudo = true
		return r, nil
	}
	uid := a.uid
	if uid != 0 {
		r.Kept = true
	} else {
		if a.nextUID == math.MaxUint32 {
			return MessageUID{}, ErrOutOfUIDs
		}
		uid = a.nextUID
		a.nextUID++
		r.Renumbered = a.hadXUID
	}
	a.prevUID = uid
	if !a.resumed {
		r.UID = uid
		return r, nil
	}
	// incremental run
	if existing != 0 {
		r = MessageUID{UID: existing, Existing: true}
		if existing > a.maxAssigned {
			a.maxAssigned = existing
		}
		return r, nil
	}
	next := a.resumeNext
	if a.maxAssigned >= next {
		next = a.maxAssigned + 1
	}
	if a.sourceValid() && uid >= next {
		r.UID = uid
	} else {
		if next == math.MaxUint32 || next == 0 {
			return MessageUID{}, ErrOutOfUIDs
		}
		r = MessageUID{UID: next, Renumbered: a.hadXUID}
	}
	a.maxAssigned = r.UID
	return r, nil
}

func (a *UIDAssigner) sourceValid() bool {
	return a.uidValidity != 0 && a.uidValidity == a.resumeValid
}

func (a *UIDAssigner) resetMsg() {
	a.inMsg, a.seenBase, a.pseudo, a.hadXUID = false, false, false, false
	a.uid = 0
}

// Next is Header for each of headers followed by End(existing).
func (a *UIDAssigner) Next(headers []Header, existing uint32) (MessageUID, error) {
	for _, h := range headers {
		a.Header(h.Name, h.Value)
	}
	return a.End(existing)
}

// UIDValidity returns the folder's UIDVALIDITY: the one given to Resume, else the one from
// the first message's X-IMAPbase/X-IMAP, else 0 (pick a fresh one).
func (a *UIDAssigner) UIDValidity() uint32 {
	if a.resumed {
		return a.resumeValid
	}
	return a.uidValidity
}

// SourceUIDValidity returns the UIDVALIDITY found in the mbox (0 if none), also after
// Resume; compare it with UIDValidity to detect a source whose UIDVALIDITY changed.
func (a *UIDAssigner) SourceUIDValidity() uint32 { return a.uidValidity }

// NextUID returns the folder's next UID after the messages fed so far: Dovecot's value
// (at least last-UID+1 from X-IMAPbase, above every UID given), and after Resume also at
// least the resumed next UID.
func (a *UIDAssigner) NextUID() uint32 {
	n := a.nextUID
	if !a.resumed {
		return n
	}
	if !a.sourceValid() {
		n = 1
	}
	if a.resumeNext > n {
		n = a.resumeNext
	}
	if a.maxAssigned >= n {
		n = a.maxAssigned + 1
	}
	return n
}

// Keywords returns the keywords declared in the first message's X-IMAPbase/X-IMAP, in
// their order, without the ones Dovecot refuses (see ParseIMAPBase).
func (a *UIDAssigner) Keywords() []string { return a.keywords }
