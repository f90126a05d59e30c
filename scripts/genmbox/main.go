// Command genmbox writes a deterministic synthetic mbox file for benchmarks
// and tests of mb2md.
//
// Usage:
//
//	go run ./scripts/genmbox [-n COUNT] [--size-mb MB] [--seed S] [--flags]
//	    [--attach-ratio R] [--escape mboxrd|mboxo] [--crlf] [--single-mib N]
//	    [--from-lines P] [--start UNIX] [--years Y] -o FILE|-
//
// The messages look like ordinary delivered mail: a From_ line with a
// zoneless asctime UTC date (spread over --years years), Return-Path, a few
// Received lines, From/To/Cc, Subject, Date, Message-ID, MIME headers, a
// text/plain body of paragraphs separated by blank lines and, for a fraction
// of the messages, a multipart/mixed structure with a base64 attachment
// (76-column lines of random bytes). Body lines that start with "From " are
// quoted (mboxrd: ">From ", ">>From "; mboxo: only "From " gets a ">").
//
// --flags adds the mbox client metadata that Dovecot and UW-IMAP write: an
// X-IMAPbase header on the first message (UIDVALIDITY, last UID, keyword
// list), and Status, X-Status, X-Keywords (only declared keywords) and a
// strictly increasing X-UID on every message.
//
// --single-mib N writes one message whose body is at least N MiB (a base64
// attachment), streamed in constant memory; -n and --size-mb are ignored.
//
// --crlf writes the very same messages with CRLF line endings.
//
// The same arguments give byte-identical output: the only source of
// randomness is math/rand/v2's PCG seeded from --seed; no clock, no locale.
package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"time"
)

const mib = 1 << 20

// flushAt is the size at which the message buffer is handed to the writer;
// it bounds the generator's memory whatever the message size.
const flushAt = 256 << 10

var (
	words = []string{"the", "of", "and", "to", "a", "in", "is", "that", "for", "it", "as",
		"was", "with", "be", "by", "on", "not", "he", "this", "are", "or", "his", "from", "at",
		"which", "but", "have", "an", "they", "you", "were", "her", "she", "there", "been",
		"one", "all", "we", "their", "has", "would", "when", "if", "so", "no", "what", "up",
		"out", "who", "them", "some", "could", "into", "its", "then", "two", "more", "these",
		"other", "time", "only", "new", "about", "may", "first", "any", "my", "now", "over",
		"such", "like", "our", "see", "very", "meeting", "report", "budget", "project",
		"server", "release", "invoice", "schedule", "review", "update", "quarterly",
		"deadline", "migration", "mailbox", "backup", "network", "storage", "customer",
		"support", "agenda", "minutes", "draft", "proposal", "contract", "shipping", "order",
		"payment", "account", "password", "reminder", "thanks", "regards", "please",
		"attached", "question", "answer", "issue", "ticket", "build", "deploy", "test",
		"result", "weekend", "holiday", "travel", "conference", "slides", "notes", "summary"}
	firstNames = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
		"ivan", "judy", "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent",
		"victor", "walter", "yvonne", "zoe"}
	lastNames = []string{"smith", "jones", "taylor", "brown", "williams", "wilson", "johnson",
		"davies", "robinson", "wright", "thompson", "evans", "walker", "white", "roberts",
		"green", "hall", "wood", "jackson", "clarke"}
	domains = []string{"example.com", "example.org", "example.net", "mail.example.com",
		"lists.example.org", "corp.example"}
	relays      = []string{"mx1", "mx2", "smtp", "relay", "gw", "mail"}
	attachTypes = [][2]string{{"application/pdf", "pdf"}, {"image/jpeg", "jpg"},
		{"image/png", "png"}, {"application/zip", "zip"}, {"application/octet-stream", "bin"},
		{"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"}}
	keywords  = []string{"$Label1", "$Label2", "Junk", "NonJunk", "work", "todo"}
	tzOffsets = []int{0, 0, 60, 120, -300, -420, 330, 540} // minutes east of UTC
)

// config holds the generator's parameters (the command line, parsed).
type config struct {
	Count       int
	SizeMB      float64
	Seed        uint64
	Flags       bool
	AttachRatio float64
	Escape      string // "mboxrd" or "mboxo"
	CRLF        bool
	SingleMiB   int
	FromLines   float64 // probability per paragraph of a body line starting with "From "
	Start       int64   // unix time of the first message
	Years       float64 // span of the From_ dates
	Output      string
}

func defaultConfig() config {
	return config{Count: 50000, SizeMB: 200, Seed: 1, AttachRatio: 0.10, Escape: "mboxrd",
		FromLines: 0.02, Start: 1420070400 /* 2015-01-01 */, Years: 8, Output: "-"}
}

// stats is what generate reports.
type stats struct {
	Messages int
	Bytes    int64 // bytes written (with CRs when CRLF)
}

func parseArgs(args []string, stderr io.Writer) (config, error) {
	c := defaultConfig()
	fs := flag.NewFlagSet("genmbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: genmbox [-n COUNT] [--size-mb MB] [--seed S] [--flags] [--attach-ratio R]\n"+
			"               [--escape mboxrd|mboxo] [--crlf] [--single-mib N] -o FILE|-\n\n"+
			"Writes a deterministic synthetic mbox: the same arguments give the same bytes.\n\n")
		fs.PrintDefaults()
	}
	fs.IntVar(&c.Count, "n", c.Count, "number of messages")
	fs.Float64Var(&c.SizeMB, "size-mb", c.SizeMB, "approximate total size in MiB; drives attachment sizes")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "random seed")
	fs.BoolVar(&c.Flags, "flags", false, "add X-IMAPbase, X-UID, Status, X-Status and X-Keywords headers")
	fs.Float64Var(&c.AttachRatio, "attach-ratio", c.AttachRatio, "fraction of messages with a base64 attachment")
	fs.StringVar(&c.Escape, "escape", c.Escape, "From_ quoting of bodies: mboxrd or mboxo")
	fs.BoolVar(&c.CRLF, "crlf", false, "write CRLF line endings")
	fs.IntVar(&c.SingleMiB, "single-mib", 0, "write one message with a body of at least N MiB (streamed)")
	fs.Float64Var(&c.FromLines, "from-lines", c.FromLines, "probability per paragraph of a body line starting with \"From \"")
	fs.Int64Var(&c.Start, "start", c.Start, "unix time of the first message")
	fs.Float64Var(&c.Years, "years", c.Years, "years spanned by the message dates")
	fs.StringVar(&c.Output, "o", c.Output, "output file, - for stdout")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("unexpected argument %q: options only, see -h", fs.Arg(0))
	case c.Count < 0:
		return c, fmt.Errorf("-n %d: the message count must not be negative", c.Count)
	case c.SizeMB < 0 || math.IsNaN(c.SizeMB):
		return c, fmt.Errorf("--size-mb %v: must not be negative", c.SizeMB)
	case c.AttachRatio < 0 || c.AttachRatio > 1 || math.IsNaN(c.AttachRatio):
		return c, fmt.Errorf("--attach-ratio %v: must be between 0 and 1", c.AttachRatio)
	case c.FromLines < 0 || c.FromLines > 1 || math.IsNaN(c.FromLines):
		return c, fmt.Errorf("--from-lines %v: must be between 0 and 1", c.FromLines)
	case c.Escape != "mboxrd" && c.Escape != "mboxo":
		return c, fmt.Errorf("--escape %q: use mboxrd or mboxo", c.Escape)
	case c.SingleMiB < 0:
		return c, fmt.Errorf("--single-mib %d: must not be negative", c.SingleMiB)
	case c.Years <= 0 || math.IsNaN(c.Years):
		return c, fmt.Errorf("--years %v: must be positive", c.Years)
	}
	return c, nil
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	c, err := parseArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "genmbox: error: %v\n", err)
		return 2
	}
	var w io.Writer = stdout
	var f *os.File
	if c.Output != "-" {
		f, err = os.Create(c.Output)
		if err != nil {
			fmt.Fprintf(stderr, "genmbox: error: %v\n", err)
			return 1
		}
		w = f
	}
	st, err := generate(w, c)
	if f != nil {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "genmbox: error: writing %s: %v\n", c.Output, err)
		return 1
	}
	fmt.Fprintf(stderr, "genmbox: %d messages, %d bytes (%.1f MiB), seed=%d\n",
		st.Messages, st.Bytes, float64(st.Bytes)/mib, c.Seed)
	return 0
}

// gen holds the state of one generation run.
type gen struct {
	c         config
	rng       *rand.Rand
	out       *bufio.Writer
	buf       []byte // the part of the current output not yet handed to out, with LF line ends
	crlfBuf   []byte // scratch for the CRLF conversion
	para      []byte // scratch: a body line that starts with "From "
	lineStart []int  // scratch: offsets in buf of the current paragraph's lines
	zones     []*time.Location
	flushed   int64  // LF-counted bytes handed to out
	written   int64  // bytes really handed to out (with CRs when CRLF)
	pool      uint64 // random bits for wordIndex
	poolN     int    // 16-bit draws left in pool
	err       error
}

// generate writes the mbox described by c to w and returns what it wrote.
// It never holds more than a fixed amount of output in memory.
func generate(w io.Writer, c config) (stats, error) {
	g := &gen{
		c:   c,
		rng: rand.New(rand.NewPCG(c.Seed, 0x6d62326d64)), // "mb2md"
		out: bufio.NewWriterSize(w, 1<<20),
		buf: make([]byte, 0, flushAt+8<<10),
	}
	for _, m := range tzOffsets {
		g.zones = append(g.zones, time.FixedZone("", m*60))
	}
	n := 0
	if c.SingleMiB > 0 {
		g.single()
		n = 1
	} else {
		n = g.many()
	}
	g.flush()
	if g.err == nil {
		g.err = g.out.Flush()
	}
	return stats{Messages: n, Bytes: g.written}, g.err
}

// pos is the LF-counted size of the output so far.
func (g *gen) pos() int64 { return g.flushed + int64(len(g.buf)) }

// maybeFlush hands the buffer to the writer once it is large enough.
func (g *gen) maybeFlush() {
	if len(g.buf) >= flushAt {
		g.flush()
	}
}

func (g *gen) flush() {
	if len(g.buf) == 0 {
		return
	}
	g.flushed += int64(len(g.buf))
	p := g.buf
	if g.c.CRLF {
		g.crlfBuf = g.crlfBuf[:0]
		for len(p) > 0 {
			i := bytes.IndexByte(p, '\n')
			if i < 0 {
				g.crlfBuf = append(g.crlfBuf, p...)
				break
			}
			g.crlfBuf = append(g.crlfBuf, p[:i]...)
			g.crlfBuf = append(g.crlfBuf, '\r', '\n')
			p = p[i+1:]
		}
		p = g.crlfBuf
	}
	if g.err == nil {
		var n int
		n, g.err = g.out.Write(p)
		g.written += int64(n)
	}
	g.buf = g.buf[:0]
}

// uids computes the X-UID sequence up front (so that the first message's
// X-IMAPbase can carry the last UID) from a stream of its own.
func (g *gen) uids(n int) (list func() uint32, last uint32) {
	seq := func() *rand.Rand { return rand.New(rand.NewPCG(g.c.Seed, 0x756964)) }
	r := seq()
	var u uint32
	for range n {
		u += nextUIDStep(r)
	}
	last = u + uint32(r.IntN(3)) // the last messages may have been expunged
	r = seq()
	u = 0
	return func() uint32 { u += nextUIDStep(r); return u }, last
}

func nextUIDStep(r *rand.Rand) uint32 {
	if r.IntN(20) == 0 { // an expunged message leaves a gap
		return 2 + uint32(r.IntN(4))
	}
	return 1
}

// many writes c.Count ordinary messages and returns the count.
func (g *gen) many() int {
	c := g.c
	n := c.Count
	nextUID, lastUID := g.uids(n)
	mean := c.Years * 365.2425 * 86400 / float64(max(1, n))
	step := int64(max(2, 2*mean))
	ts := c.Start
	target := int64(c.SizeMB * mib)
	textAvg := 2200.0 // running mean of a message's size without its attachment
	var textTotal int64
	for i := range n {
		ts += 1 + g.rng.Int64N(step)
		start := g.pos()
		attach := g.rng.Float64() < c.AttachRatio
		var rawLen int64
		if attach {
			left := float64(n - i)
			budget := float64(target-start) - left*textAvg
			expected := max(1, left*c.AttachRatio)
			meanRaw := max(256, budget/expected*57/77)
			rawLen = int64(min(8*mib, g.rng.ExpFloat64()*meanRaw)) + 64
		}
		var uid uint32
		if c.Flags {
			uid = nextUID()
		}
		b64 := g.message(i, ts, uid, lastUID, attach, rawLen, 0)
		if g.err != nil {
			return i
		}
		textTotal += g.pos() - start - b64
		textAvg = float64(textTotal) / float64(i+1)
	}
	return n
}

// single writes one message whose body is at least c.SingleMiB MiB.
func (g *gen) single() {
	nextUID, lastUID := g.uids(1)
	var uid uint32
	if g.c.Flags {
		uid = nextUID()
	}
	g.message(0, g.c.Start, uid, lastUID, true, 0, int64(g.c.SingleMiB)*mib)
}

// message writes message i (counted from 0). With attach it gets a base64 attachment
// of rawLen random bytes, or, when minBody > 0, one large enough that the
// body has at least minBody bytes. It returns the size of the base64 block.
func (g *gen) message(i int, ts int64, uid, lastUID uint32, attach bool, rawLen, minBody int64) int64 {
	r := g.rng
	nameF, addrF, domF := g.person()
	nameT, addrT, _ := g.person()
	tz := r.IntN(len(tzOffsets))

	b := g.buf
	b = append(b, "From "...)
	b = append(b, addrF...)
	b = append(b, ' ')
	b = time.Unix(ts, 0).UTC().AppendFormat(b, "Mon Jan _2 15:04:05 2006")
	b = append(b, '\n')
	if g.c.Flags && i == 0 {
		b = append(b, "X-IMAPbase: "...)
		b = strconv.AppendUint(b, 1500000000+g.c.Seed%100000000, 10)
		b = append(b, ' ')
		b = appendPadded(b, uint64(lastUID), 10)
		for _, k := range keywords {
			b = append(b, ' ')
			b = append(b, k...)
		}
		b = append(b, '\n')
	}
	b = append(b, "Return-Path: <"...)
	b = append(b, addrF...)
	b = append(b, ">\n"...)
	hops := 1 + r.IntN(4)
	for h := range hops {
		relay := relays[r.IntN(len(relays))] + strconv.Itoa(1+r.IntN(9)) + "." + domains[r.IntN(len(domains))]
		b = append(b, "Received: from "...)
		b = append(b, relay...)
		b = append(b, " ("...)
		b = append(b, relay...)
		b = append(b, " [192.0.2."...)
		b = strconv.AppendInt(b, int64(1+r.IntN(254)), 10)
		b = append(b, "])\n\tby "...)
		b = append(b, relays[r.IntN(len(relays))]...)
		b = append(b, ".example.net with ESMTPS id "...)
		b = appendHex(b, uint64(r.Uint32()), 8, true)
		b = append(b, "\n\tfor <"...)
		b = append(b, addrT...)
		b = append(b, ">; "...)
		b = time.Unix(ts-int64(h)*3, 0).UTC().AppendFormat(b, "Mon, 2 Jan 2006 15:04:05 -0700")
		b = append(b, '\n')
	}
	b = append(b, "From: "...)
	b = append(b, nameF...)
	b = append(b, " <"...)
	b = append(b, addrF...)
	b = append(b, ">\nTo: "...)
	b = append(b, nameT...)
	b = append(b, " <"...)
	b = append(b, addrT...)
	b = append(b, ">\n"...)
	if r.Float64() < 0.3 {
		nameC, addrC, _ := g.person()
		b = append(b, "Cc: "...)
		b = append(b, nameC...)
		b = append(b, " <"...)
		b = append(b, addrC...)
		b = append(b, ">\n"...)
	}
	b = append(b, "Subject: "...)
	if r.Float64() < 0.2 {
		b = append(b, "Re: "...)
	}
	for k := range 2 + r.IntN(8) {
		w := words[r.IntN(len(words))]
		if k == 0 {
			b = append(b, w[0]-'a'+'A')
			b = append(b, w[1:]...)
			continue
		}
		b = append(b, ' ')
		b = append(b, w...)
	}
	b = append(b, "\nDate: "...)
	b = time.Unix(ts-5, 0).In(g.zones[tz]).AppendFormat(b, "Mon, 2 Jan 2006 15:04:05 -0700")
	b = append(b, "\nMessage-ID: <"...)
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(i), 10)
	b = append(b, '.')
	b = appendHex(b, uint64(r.Uint32()), 8, false)
	b = append(b, '@')
	b = append(b, domF...)
	b = append(b, ">\nMIME-Version: 1.0\n"...)
	if g.c.Flags {
		b = g.flagHeaders(b, uid)
	}
	var boundary []byte
	var ctype [2]string
	if attach {
		boundary = appendHex(append(boundary, "=_b"...), r.Uint64(), 16, false)
		ctype = attachTypes[r.IntN(len(attachTypes))]
		b = append(b, "Content-Type: multipart/mixed; boundary=\""...)
		b = append(b, boundary...)
		b = append(b, "\"\n"...)
	} else {
		b = append(b, "Content-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: 7bit\n"...)
	}
	b = append(b, '\n')
	g.buf = b
	bodyStart := g.pos()

	if attach {
		g.buf = append(g.buf, "This is a multi-part message in MIME format.\n\n--"...)
		g.buf = append(g.buf, boundary...)
		g.buf = append(g.buf, "\nContent-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: 7bit\n\n"...)
	}
	g.text()
	var b64 int64
	if attach {
		b = append(g.buf, "\n--"...)
		b = append(b, boundary...)
		b = append(b, "\nContent-Type: "...)
		b = append(b, ctype[0]...)
		b = append(b, "; name=\"file"...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, '.')
		b = append(b, ctype[1]...)
		b = append(b, "\"\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=\"file"...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, '.')
		b = append(b, ctype[1]...)
		b = append(b, "\"\n\n"...)
		g.buf = b
		if minBody > 0 {
			// whole 57-byte groups (77 output bytes each) until the body,
			// closing boundary included, reaches minBody
			closing := int64(len(boundary)) + 6 // "\n--" boundary "--\n"
			need := minBody - (g.pos() - bodyStart) - closing
			rawLen = max(1, (need+76)/77) * 57
		}
		p := g.pos()
		g.base64(rawLen)
		b64 = g.pos() - p
		g.buf = append(g.buf, "\n--"...)
		g.buf = append(g.buf, boundary...)
		g.buf = append(g.buf, "--\n"...)
	}
	// the separator: a blank line before the next From_ line
	g.buf = append(g.buf, '\n')
	g.maybeFlush()
	return b64
}

// flagHeaders appends Status, X-Status, X-Keywords and X-UID.
func (g *gen) flagHeaders(b []byte, uid uint32) []byte {
	r := g.rng
	b = append(b, "Status: "...)
	switch x := r.Float64(); {
	case x < 0.70:
		b = append(b, "RO"...)
	case x < 0.95:
		b = append(b, 'O')
	default:
		b = append(b, 'R')
	}
	b = append(b, "\nX-Status:"...)
	var xs [4]byte
	nx := 0
	for _, f := range []struct {
		c byte
		p float64
	}{{'A', 0.15}, {'F', 0.05}, {'T', 0.02}, {'D', 0.01}} {
		if r.Float64() < f.p {
			xs[nx] = f.c
			nx++
		}
	}
	if nx > 0 {
		b = append(b, ' ')
		b = append(b, xs[:nx]...)
	}
	b = append(b, "\nX-Keywords:"...)
	if r.Float64() < 0.15 {
		// one or two distinct declared keywords, in declaration order
		k1 := r.IntN(len(keywords))
		k2 := k1
		if r.IntN(2) == 0 {
			k2 = r.IntN(len(keywords))
		}
		b = append(b, ' ')
		b = append(b, keywords[min(k1, k2)]...)
		if k2 != k1 {
			b = append(b, ' ')
			b = append(b, keywords[max(k1, k2)]...)
		}
	}
	b = append(b, "\nX-UID: "...)
	b = strconv.AppendUint(b, uint64(uid), 10)
	return append(b, '\n')
}

func (g *gen) person() (name, addr, domain string) {
	f := firstNames[g.rng.IntN(len(firstNames))]
	l := lastNames[g.rng.IntN(len(lastNames))]
	domain = domains[g.rng.IntN(len(domains))]
	name = string(f[0]-'a'+'A') + f[1:] + " " + string(l[0]-'a'+'A') + l[1:]
	return name, f + "." + l + "@" + domain, domain
}

// text appends a text body of about lognormal(6.9, 0.6) bytes (median
// about 1 KB): paragraphs wrapped at 72 columns, separated by blank lines,
// now and then with a line that starts with "From " or ">From ".
func (g *gen) text() {
	r := g.rng
	want := int64(min(60000, math.Exp(6.9+0.6*r.NormFloat64())))
	start := g.pos()
	first := true
	for g.pos()-start < want {
		if !first {
			g.buf = append(g.buf, '\n') // blank line between paragraphs
		}
		first = false
		g.paragraph()
		g.maybeFlush()
	}
	if r.IntN(4) == 0 {
		g.buf = append(g.buf, '\n') // some bodies end with a blank line
	}
}

// wordIndex draws an index into words, four to a random uint64 (16 bits
// each, scaled by multiplication; the bias is negligible for a benchmark).
func (g *gen) wordIndex() int {
	if g.poolN == 0 {
		g.pool, g.poolN = g.rng.Uint64(), 4
	}
	i := int((g.pool & 0xffff) * uint64(len(words)) >> 16)
	g.pool >>= 16
	g.poolN--
	return i
}

var quotedLine = []byte(">From an already quoted line")

// paragraph appends one paragraph, quoting lines as c.Escape says. Words
// are written straight into the output buffer; only the first word of a
// paragraph is capitalised, so only a paragraph's first line can start
// with "From ".
func (g *gen) paragraph() {
	r := g.rng
	nw := 8 + r.IntN(53)
	b := slices.Grow(g.buf, nw*12+64)
	starts := append(g.lineStart[:0], len(b))
	lineStart := len(b)
	for k := range nw {
		wi := g.wordIndex()
		wl := len(words[wi])
		pad := &wordPad[wi]
		switch {
		case k == 0:
			if wi == fromWord {
				b = append(b, '>') // "From " at the start of a line, both flavours
			}
			pad = &wordPadCap[wi]
		case len(b)-lineStart+1+wl > 72:
			b = append(b, '\n')
			lineStart = len(b)
			starts = append(starts, lineStart)
		default:
			b = append(b, ' ')
		}
		n := len(b)
		*(*[16]byte)(b[n : n+16]) = *pad
		b = b[:n+wl]
	}
	b = append(b, '.', '\n')
	g.buf, g.lineStart = b, starts

	if r.Float64() < g.c.FromLines {
		// a body line that starts with "From ", at a random line position
		at := r.IntN(len(starts) + 1)
		l := append(g.para[:0], '>') // always quoted, mboxo and mboxrd alike
		l = append(l, "From "...)
		l = append(l, firstNames[r.IntN(len(firstNames))]...)
		l = append(l, ' ')
		l = append(l, words[r.IntN(len(words))]...)
		l = append(l, " we heard nothing\n"...)
		g.para = l
		if at == len(starts) {
			g.buf = append(g.buf, l...)
		} else {
			g.buf = slices.Insert(g.buf, starts[at], l...)
		}
	}
	if r.Float64() < g.c.FromLines/2 {
		g.line(quotedLine)
	}
}

// fromWord is the index of "from" in words.
var fromWord = slices.Index(words, "from")

// wordPad and wordPadCap hold each word (plain and capitalised) in a
// 16-byte array, so that paragraph can copy a word with one fixed move.
var wordPad, wordPadCap = func() (p, c [][16]byte) {
	p = make([][16]byte, len(words))
	c = make([][16]byte, len(words))
	for i, w := range words {
		if len(w) > 15 {
			panic("genmbox: word longer than 15 bytes: " + w)
		}
		copy(p[i][:], w)
		copy(c[i][:], w)
		c[i][0] = w[0] - 'a' + 'A'
	}
	return p, c
}()

// line appends one body line with its From_ quoting and a newline.
func (g *gen) line(l []byte) {
	if len(l) > 0 && (l[0] == 'F' || l[0] == '>') {
		rest := l
		if g.c.Escape == "mboxrd" {
			for len(rest) > 0 && rest[0] == '>' {
				rest = rest[1:]
			}
		}
		if len(rest) >= 5 && string(rest[:5]) == "From " {
			g.buf = append(g.buf, '>')
		}
	}
	g.buf = append(g.buf, l...)
	g.buf = append(g.buf, '\n')
}

// base64 appends rawLen random bytes in base64, 76 columns a line, flushing
// as it goes so that memory stays bounded. Full lines are drawn directly
// from the base64 alphabet (every such line decodes to 57 bytes), which is
// three times faster than encoding random bytes; the last, partial line is
// encoded from random bytes so that its padding is right.
func (g *gen) base64(rawLen int64) {
	for full := rawLen / 57; full > 0; {
		k := min(full, 64)
		n := len(g.buf)
		g.buf = slices.Grow(g.buf, int(k)*77)[:n+int(k)*77]
		line := g.buf[n:]
		for range k {
			l := (*[77]byte)(line)
			// 76 characters: 7 draws of 10 (60 bits each), then 6 from an 8th
			for q := 0; q < 70; q += 10 {
				v := g.rng.Uint64()
				d := (*[10]byte)(l[q : q+10])
				copy(d[0:2], b64Pairs[v&4095][:])
				copy(d[2:4], b64Pairs[(v>>12)&4095][:])
				copy(d[4:6], b64Pairs[(v>>24)&4095][:])
				copy(d[6:8], b64Pairs[(v>>36)&4095][:])
				copy(d[8:10], b64Pairs[(v>>48)&4095][:])
			}
			v := g.rng.Uint64()
			copy(l[70:72], b64Pairs[v&4095][:])
			copy(l[72:74], b64Pairs[(v>>12)&4095][:])
			copy(l[74:76], b64Pairs[(v>>24)&4095][:])
			l[76] = '\n'
			line = line[77:]
		}
		full -= k
		g.maybeFlush()
	}
	if rest := int(rawLen % 57); rest > 0 {
		var raw [64]byte
		for j := 0; j < rest; j += 8 {
			binary.LittleEndian.PutUint64(raw[j:], g.rng.Uint64())
		}
		enc := base64.StdEncoding
		n := len(g.buf)
		m := enc.EncodedLen(rest)
		g.buf = slices.Grow(g.buf, m+1)[:n+m+1]
		enc.Encode(g.buf[n:n+m], raw[:rest])
		g.buf[n+m] = '\n'
		g.maybeFlush()
	}
}

const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// b64Pairs maps 12 random bits to two base64 characters.
var b64Pairs = func() (t [4096][2]byte) {
	for i := range t {
		t[i] = [2]byte{b64Alphabet[i&63], b64Alphabet[i>>6]}
	}
	return t
}()

const hexDigits = "0123456789abcdef"
const hexUpper = "0123456789ABCDEF"

// appendHex appends v as exactly width hex digits.
func appendHex(b []byte, v uint64, width int, upper bool) []byte {
	d := hexDigits
	if upper {
		d = hexUpper
	}
	for i := width - 1; i >= 0; i-- {
		b = append(b, d[(v>>(4*uint(i)))&0xf])
	}
	return b
}

// appendPadded appends v in decimal, zero-padded to width digits.
func appendPadded(b []byte, v uint64, width int) []byte {
	s := strconv.FormatUint(v, 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}
