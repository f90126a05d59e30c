package site

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"
)

// progressMarker starts the lines a child prints on its stderr to report progress; the
// parent takes them out of the output and passes the numbers to Config.OnProgress.
const progressMarker = "\x1b[mb2md-progress "

// progressInterval is how often a child reports.
const progressInterval = 250 * time.Millisecond

// childProgress counts messages and bytes in the child and prints a marker line at most
// every progressInterval (the last counts are printed by flush).
type childProgress struct {
	w        io.Writer
	mu       sync.Mutex
	messages int
	bytes    int64
	last     time.Time
}

func (p *childProgress) add(messages int, bytes int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.messages += messages
	p.bytes += bytes
	if now := time.Now(); now.Sub(p.last) >= progressInterval {
		p.last = now
		fmt.Fprintf(p.w, "%s%d %d\n", progressMarker, p.messages, p.bytes)
	}
}

func (p *childProgress) flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "%s%d %d\n", progressMarker, p.messages, p.bytes)
}

// progressFilter passes a child's output on, except the progress lines, which it turns
// into calls of fn. The numbers come from a process the user controls: they only feed the
// progress display.
type progressFilter struct {
	next io.Writer
	fn   func(messages int, bytes int64)
	buf  []byte
}

func (f *progressFilter) Write(p []byte) (int, error) {
	f.buf = append(f.buf, p...)
	for {
		i := bytes.IndexByte(f.buf, '\n')
		if i < 0 {
			break
		}
		line := f.buf[:i+1]
		if rest, ok := bytes.CutPrefix(line, []byte(progressMarker)); ok {
			if fields := bytes.Fields(rest); len(fields) == 2 {
				m, err1 := strconv.Atoi(string(fields[0]))
				b, err2 := strconv.ParseInt(string(fields[1]), 10, 64)
				if err1 == nil && err2 == nil && m >= 0 && b >= 0 {
					f.fn(m, b)
				}
			}
		} else if _, err := f.next.Write(line); err != nil {
			return len(p), err
		}
		f.buf = f.buf[i+1:]
	}
	if len(f.buf) > 64<<10 { // a long line without newline: pass it on as it is
		if _, err := f.next.Write(f.buf); err != nil {
			return len(p), err
		}
		f.buf = f.buf[:0]
	}
	return len(p), nil
}

// Flush passes on a last line without newline.
func (f *progressFilter) Flush() error {
	if len(f.buf) == 0 {
		return nil
	}
	_, err := f.next.Write(f.buf)
	f.buf = nil
	return err
}
