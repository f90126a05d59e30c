package source

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/mb2md/mb2md/internal/maildir"
)

// Subscription lists of the mbox side: UW-IMAP's ~/.mailboxlist and Dovecot's mbox
// .subscriptions. Both give mailbox names as hierarchy levels ("a/b" → ["a", "b"]).

// maxSubsLine bounds a line of a subscription list.
const maxSubsLine = 64 << 10

func readLines(r io.Reader, path string, fn func(line string)) error {
	br := bufio.NewReaderSize(r, 4096)
	n := 0
	for {
		var buf []byte
		for {
			chunk, err := br.ReadSlice('\n')
			buf = append(buf, chunk...)
			if len(buf) > maxSubsLine {
				return fmt.Errorf("%s:%d: line longer than %d bytes; this is not a subscription list, leave it out", path, n+1, maxSubsLine)
			}
			if err == bufio.ErrBufferFull {
				continue
			}
			if err != nil && err != io.EOF {
				return fmt.Errorf("read %s: %w", path, err)
			}
			if len(buf) == 0 {
				return nil
			}
			break
		}
		n++
		line := strings.TrimSuffix(strings.TrimSuffix(string(buf), "\n"), "\r")
		fn(line)
	}
}

func splitLevels(name string, sep string) []string {
	var levels []string
	for _, lv := range strings.Split(name, sep) {
		if lv != "" {
			levels = append(levels, lv)
		}
	}
	return levels
}

// ParseMailboxList reads a UW-IMAP .mailboxlist: one mailbox per line, "/" between levels.
// UW names are relative to the home directory, so a folder ~/mail/Sent is listed as
// "mail/Sent": the first of prefixes that a name starts with (e.g. "mail/", "~/mail/",
// "/home/u/mail/") is removed. Empty lines and repeated names are skipped; "INBOX" in any
// case becomes "INBOX".
func ParseMailboxList(r io.Reader, path string, prefixes []string) ([][]string, error) {
	var names nameList
	err := readLines(r, path, func(line string) {
		name := strings.TrimSpace(line)
		for _, p := range prefixes {
			if p != "" && strings.HasPrefix(name, p) {
				name = name[len(p):]
				break
			}
		}
		levels := splitLevels(name, "/")
		if len(levels) == 1 && strings.EqualFold(levels[0], "INBOX") {
			levels[0] = "INBOX"
		}
		names.add(levels)
	})
	return names.names, err
}

// nameList collects folder names, each once; empty names are skipped.
type nameList struct {
	names [][]string
	seen  map[string]bool
}

func (l *nameList) add(levels []string) {
	if len(levels) == 0 {
		return
	}
	key := strings.Join(levels, "\x00")
	if l.seen[key] {
		return
	}
	if l.seen == nil {
		l.seen = map[string]bool{}
	}
	l.seen[key] = true
	l.names = append(l.names, levels)
}

// readOptional opens the subscription file at path and parses it; a missing file gives no
// names and no error.
func readOptional(path string, parse func(io.Reader) ([][]string, error)) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("open subscription list %s: %w; check its permissions or leave it out", path, err)
	}
	defer f.Close()
	return parse(f)
}

// ReadMailboxList reads the UW-IMAP subscription file at path (see ParseMailboxList). A
// missing file gives no names and no error.
func ReadMailboxList(path string, prefixes []string) ([][]string, error) {
	return readOptional(path, func(r io.Reader) ([][]string, error) { return ParseMailboxList(r, path, prefixes) })
}

const dovecotSubsV2 = "V\t2\n\n"

// ParseDovecotSubscriptions reads a Dovecot mbox .subscriptions file: version 1 (one
// name per line, "/" between levels, as mbox folders are directories) or version 2
// ("V\t2\n\n", then levels separated by TAB, each tab-escaped: \001 followed by '1', 't',
// 'r' or 'n' stands for \001, TAB, CR or LF). Names are returned as stored: modified UTF-7
// unless Dovecot ran with :UTF-8. Empty lines and repeated names are skipped.
func ParseDovecotSubscriptions(r io.Reader, path string) ([][]string, error) {
	br := bufio.NewReaderSize(r, 4096)
	v2 := false
	if hdr, _ := br.Peek(len(dovecotSubsV2)); string(hdr) == dovecotSubsV2 {
		v2 = true
		if _, err := br.Discard(len(dovecotSubsV2)); err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
	}
	var names nameList
	err := readLines(br, path, func(line string) {
		var levels []string
		if v2 {
			for _, lv := range strings.Split(line, "\t") {
				if lv = maildir.TabUnescape(lv); lv != "" {
					levels = append(levels, lv)
				}
			}
		} else {
			levels = splitLevels(line, "/")
		}
		names.add(levels)
	})
	return names.names, err
}

// ReadDovecotSubscriptions reads the .subscriptions file at path (see
// ParseDovecotSubscriptions). A missing file gives no names and no error.
func ReadDovecotSubscriptions(path string) ([][]string, error) {
	return readOptional(path, func(r io.Reader) ([][]string, error) { return ParseDovecotSubscriptions(r, path) })
}
