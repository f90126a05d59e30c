package dovetest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// Bounds that keep a broken or hostile server from exhausting memory.
const (
	maxLineToken = 1 << 20   // atom, quoted string, free text
	maxLiteral   = 512 << 20 // one literal (a message body)
	maxDepth     = 32        // nesting of parenthesised lists
)

type valueKind int

const (
	kAtom valueKind = iota
	kString
	kList
	kNil
)

// value is one item of an IMAP response: atom, string (quoted or literal), list or NIL.
type value struct {
	kind valueKind
	b    []byte
	list []value
}

func (v value) String() string {
	switch v.kind {
	case kNil:
		return "NIL"
	case kList:
		parts := make([]string, len(v.list))
		for i, x := range v.list {
			parts[i] = x.String()
		}
		return "(" + strings.Join(parts, " ") + ")"
	case kString:
		if len(v.b) > 60 {
			return fmt.Sprintf("%q...(%d bytes)", v.b[:60], len(v.b))
		}
		return strconv.Quote(string(v.b))
	}
	return string(v.b)
}

// response is one server response line (with any literals it carried).
type response struct {
	tag    string  // "*", "+" or the command tag
	num    uint32  // for "* <n> EXISTS|RECENT|FETCH|EXPUNGE"
	hasNum bool    //
	kind   string  // upper case: OK NO BAD BYE PREAUTH LIST LSUB FETCH EXISTS ...
	code   string  // response code of a status response, without brackets
	text   string  // free text of a status response
	fields []value // data of a data response
}

func (r *response) String() string {
	var b strings.Builder
	b.WriteString(r.tag)
	if r.hasNum {
		fmt.Fprintf(&b, " %d", r.num)
	}
	if r.kind != "" {
		b.WriteString(" " + r.kind)
	}
	if r.code != "" {
		b.WriteString(" [" + r.code + "]")
	}
	if r.text != "" {
		b.WriteString(" " + r.text)
	}
	for _, f := range r.fields {
		b.WriteString(" " + f.String())
	}
	return b.String()
}

// statusText is the response code (in brackets) and text of a status response.
func (r *response) statusText() string {
	if r.code == "" {
		return r.text
	}
	return strings.TrimSpace("[" + r.code + "] " + r.text)
}

func isStatus(kind string) bool {
	switch kind {
	case "OK", "NO", "BAD", "BYE", "PREAUTH":
		return true
	}
	return false
}

// reader parses IMAP responses from a connection; every response must arrive within
// timeout of the previous read progress.
type reader struct {
	conn    net.Conn
	br      *bufio.Reader
	timeout time.Duration
}

func (r *reader) deadline() {
	if r.conn != nil && r.timeout > 0 {
		_ = r.conn.SetReadDeadline(time.Now().Add(r.timeout))
	}
}

func (r *reader) peek() (byte, error) {
	b, err := r.br.Peek(1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

// token reads bytes up to (not including) a space, CR, LF or one of stops.
func (r *reader) token(stops string) ([]byte, error) {
	var out []byte
	for {
		c, err := r.peek()
		if err != nil {
			return out, err
		}
		if c == ' ' || c == '\r' || c == '\n' || strings.IndexByte(stops, c) >= 0 {
			return out, nil
		}
		_, _ = r.br.ReadByte()
		out = append(out, c)
		if len(out) > maxLineToken {
			return out, errors.New("token too long")
		}
	}
}

// rest reads the remainder of the line, without the line end.
func (r *reader) rest() (string, error) {
	var out []byte
	for {
		frag, err := r.br.ReadSlice('\n')
		out = append(out, frag...)
		if len(out) > maxLineToken {
			return "", errors.New("response line too long")
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return "", err
		}
		break
	}
	out = bytes.TrimSuffix(out, []byte("\n"))
	out = bytes.TrimSuffix(out, []byte("\r"))
	return string(out), nil
}

func (r *reader) skipSpace() error {
	c, err := r.peek()
	if err != nil {
		return err
	}
	if c == ' ' {
		_, _ = r.br.ReadByte()
	}
	return nil
}

// eol consumes CRLF (or a bare LF) and fails on anything else.
func (r *reader) eol() error {
	c, err := r.br.ReadByte()
	if err != nil {
		return err
	}
	if c == '\r' {
		c, err = r.br.ReadByte()
		if err != nil {
			return err
		}
	}
	if c != '\n' {
		return fmt.Errorf("expected end of line, got %q", c)
	}
	return nil
}

// readResponse reads one complete response.
func (r *reader) readResponse() (*response, error) {
	r.deadline()
	tag, err := r.token("")
	if err != nil {
		return nil, err
	}
	if len(tag) == 0 {
		line, _ := r.rest()
		return nil, fmt.Errorf("response without tag: %q", line)
	}
	resp := &response{tag: string(tag)}
	if resp.tag == "+" {
		resp.text, err = r.rest()
		return resp, err
	}
	if err := r.skipSpace(); err != nil {
		return nil, err
	}
	word, err := r.token("")
	if err != nil {
		return nil, err
	}
	if n, perr := strconv.ParseUint(string(word), 10, 32); perr == nil && resp.tag == "*" {
		resp.num, resp.hasNum = uint32(n), true
		if err := r.skipSpace(); err != nil {
			return nil, err
		}
		if word, err = r.token(""); err != nil {
			return nil, err
		}
	}
	resp.kind = strings.ToUpper(string(word))
	if isStatus(resp.kind) {
		if err := r.statusText(resp); err != nil {
			return nil, err
		}
		return resp, nil
	}
	if resp.tag != "*" {
		line, _ := r.rest()
		return nil, fmt.Errorf("tagged response with unknown status %q: %s", resp.kind, line)
	}
	for {
		c, err := r.peek()
		if err != nil {
			return nil, err
		}
		if c == '\r' || c == '\n' {
			return resp, r.eol()
		}
		if c == ' ' {
			_, _ = r.br.ReadByte()
			continue
		}
		v, err := r.value(0)
		if err != nil {
			return nil, fmt.Errorf("parse %s response: %w", resp.kind, err)
		}
		resp.fields = append(resp.fields, v)
		r.deadline()
	}
}

func (r *reader) statusText(resp *response) error {
	if err := r.skipSpace(); err != nil {
		return err
	}
	line, err := r.rest()
	if err != nil {
		return err
	}
	if strings.HasPrefix(line, "[") {
		if end := strings.IndexByte(line, ']'); end > 0 {
			resp.code = line[1:end]
			line = strings.TrimPrefix(line[end+1:], " ")
		}
	}
	resp.text = line
	return nil
}

// value parses one item: list, quoted string, literal, NIL or atom. An atom may
// contain a bracketed section with spaces ("BODY[HEADER.FIELDS (A B)]").
func (r *reader) value(depth int) (value, error) {
	if depth > maxDepth {
		return value{}, errors.New("lists nested too deep")
	}
	c, err := r.peek()
	if err != nil {
		return value{}, err
	}
	switch c {
	case '(':
		_, _ = r.br.ReadByte()
		v := value{kind: kList}
		for {
			c, err := r.peek()
			if err != nil {
				return v, err
			}
			switch c {
			case ')':
				_, _ = r.br.ReadByte()
				return v, nil
			case ' ':
				_, _ = r.br.ReadByte()
				continue
			case '\r', '\n':
				return v, errors.New("unterminated list")
			}
			x, err := r.value(depth + 1)
			if err != nil {
				return v, err
			}
			v.list = append(v.list, x)
		}
	case '"':
		_, _ = r.br.ReadByte()
		var out []byte
		for {
			c, err := r.br.ReadByte()
			if err != nil {
				return value{}, err
			}
			switch c {
			case '"':
				return value{kind: kString, b: out}, nil
			case '\\':
				if c, err = r.br.ReadByte(); err != nil {
					return value{}, err
				}
			case '\r', '\n':
				return value{}, errors.New("unterminated quoted string")
			}
			out = append(out, c)
			if len(out) > maxLineToken {
				return value{}, errors.New("quoted string too long")
			}
		}
	case '{', '~':
		if c == '~' {
			_, _ = r.br.ReadByte()
			if c, err = r.peek(); err != nil || c != '{' {
				return value{}, errors.New("bad literal8")
			}
		}
		_, _ = r.br.ReadByte()
		digits, err := r.token("}")
		if err != nil {
			return value{}, err
		}
		if c, err := r.br.ReadByte(); err != nil || c != '}' {
			return value{}, fmt.Errorf("bad literal size %q", digits)
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(string(digits), "+"), 10, 64)
		if err != nil || n < 0 || n > maxLiteral {
			return value{}, fmt.Errorf("bad literal size %q", digits)
		}
		if err := r.eol(); err != nil {
			return value{}, fmt.Errorf("literal {%d}: %w", n, err)
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(r.br, buf); err != nil {
			return value{}, fmt.Errorf("literal {%d}: %w", n, err)
		}
		return value{kind: kString, b: buf}, nil
	}
	var out []byte
	for {
		c, err := r.peek()
		if err != nil {
			return value{}, err
		}
		if c == ' ' || c == '(' || c == ')' || c == '\r' || c == '\n' || c == '"' || c == '{' {
			break
		}
		_, _ = r.br.ReadByte()
		out = append(out, c)
		if c == '[' {
			depth := 1
			for depth > 0 {
				c, err := r.br.ReadByte()
				if err != nil {
					return value{}, err
				}
				if c == '\r' || c == '\n' {
					return value{}, errors.New("unterminated '[' in atom")
				}
				out = append(out, c)
				switch c {
				case '[':
					depth++
				case ']':
					depth--
				}
			}
		}
		if len(out) > maxLineToken {
			return value{}, errors.New("atom too long")
		}
	}
	if len(out) == 0 {
		c, _ := r.peek()
		return value{}, fmt.Errorf("unexpected %q", c)
	}
	if strings.EqualFold(string(out), "NIL") {
		return value{kind: kNil}, nil
	}
	return value{kind: kAtom, b: out}, nil
}

// client is a minimal IMAP4rev1 client for reading mailboxes.
type client struct {
	conn    net.Conn
	r       *reader
	w       *bufio.Writer
	timeout time.Duration
	seq     int
}

func dialIMAP(addr string, timeout time.Duration) (*client, error) {
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	c := newClient(conn, timeout)
	greet, err := c.r.readResponse()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("read greeting: %w", err)
	}
	if greet.tag != "*" || greet.kind != "OK" {
		conn.Close()
		return nil, fmt.Errorf("unexpected greeting: %s", greet)
	}
	return c, nil
}

func newClient(conn net.Conn, timeout time.Duration) *client {
	return &client{
		conn:    conn,
		r:       &reader{conn: conn, br: bufio.NewReaderSize(conn, 64<<10), timeout: timeout},
		w:       bufio.NewWriter(conn),
		timeout: timeout,
	}
}

func (c *client) Close() error { return c.conn.Close() }

// arg is one command argument: an atom (sent as is) or a string (quoted, or a
// synchronising literal when it cannot be quoted).
type arg struct {
	atom string
	str  *string
}

func atom(s string) arg { return arg{atom: s} }
func astr(s string) arg { return arg{str: &s} }
func canQuote(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\r' || c == '\n' || c == 0 || c >= 0x80 {
			return false
		}
	}
	return len(s) < 1000
}

func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// cmd sends a command and collects the untagged responses up to its tagged
// completion. A completion other than OK is returned as an error, together with
// the responses read so far.
func (c *client) cmd(name string, args ...arg) ([]*response, *response, error) {
	c.seq++
	tag := fmt.Sprintf("t%d", c.seq)
	if c.timeout > 0 {
		_ = c.conn.SetWriteDeadline(time.Now().Add(c.timeout))
	}
	c.w.WriteString(tag + " " + name)
	var untagged []*response
	for _, a := range args {
		c.w.WriteByte(' ')
		if a.str == nil {
			c.w.WriteString(a.atom)
			continue
		}
		s := *a.str
		if canQuote(s) {
			c.w.WriteString(quote(s))
			continue
		}
		fmt.Fprintf(c.w, "{%d}\r\n", len(s))
		if err := c.w.Flush(); err != nil {
			return nil, nil, fmt.Errorf("%s: write: %w", name, err)
		}
		for {
			resp, err := c.r.readResponse()
			if err != nil {
				return untagged, nil, fmt.Errorf("%s: wait for literal continuation: %w", name, err)
			}
			if resp.tag == "+" {
				break
			}
			if resp.tag == tag {
				return untagged, resp, fmt.Errorf("%s: literal refused: %s", name, resp)
			}
			untagged = append(untagged, resp)
		}
		c.w.WriteString(s)
	}
	c.w.WriteString("\r\n")
	if err := c.w.Flush(); err != nil {
		return nil, nil, fmt.Errorf("%s: write: %w", name, err)
	}
	for {
		resp, err := c.r.readResponse()
		if err != nil {
			return untagged, nil, fmt.Errorf("%s: read response: %w", name, err)
		}
		switch {
		case resp.tag == tag:
			if resp.kind != "OK" {
				return untagged, resp, fmt.Errorf("%s failed: %s", name, resp)
			}
			return untagged, resp, nil
		case resp.tag == "*" && resp.kind == "BYE":
			untagged = append(untagged, resp)
			if name != "LOGOUT" {
				return untagged, nil, &byeError{cmd: name, text: resp.text}
			}
		case resp.tag == "*":
			untagged = append(untagged, resp)
		default:
			return untagged, nil, fmt.Errorf("%s: unexpected response %s", name, resp)
		}
	}
}

// byeError is an unexpected BYE: the server closed the session.
type byeError struct{ cmd, text string }

func (e *byeError) Error() string { return e.cmd + ": server closed the session: " + e.text }

// listEntry is one LIST or LSUB answer.
type listEntry struct {
	attrs []string
	delim string
	name  string // raw (modified UTF-7) name
}

func parseList(resps []*response, kind string) ([]listEntry, error) {
	var out []listEntry
	for _, r := range resps {
		if r.kind != kind {
			continue
		}
		if len(r.fields) != 3 || r.fields[0].kind != kList {
			return nil, fmt.Errorf("malformed %s response: %s", kind, r)
		}
		var e listEntry
		for _, a := range r.fields[0].list {
			e.attrs = append(e.attrs, string(a.b))
		}
		if r.fields[1].kind != kNil {
			e.delim = string(r.fields[1].b)
		}
		if r.fields[2].kind == kList || r.fields[2].kind == kNil {
			return nil, fmt.Errorf("malformed %s response: %s", kind, r)
		}
		e.name = string(r.fields[2].b)
		if strings.EqualFold(e.name, "INBOX") {
			e.name = "INBOX"
		}
		out = append(out, e)
	}
	return out, nil
}

func hasAttr(attrs []string, want string) bool {
	for _, a := range attrs {
		if strings.EqualFold(a, want) {
			return true
		}
	}
	return false
}

// fetchItem is the merged data of the FETCH responses for one message.
type fetchItem struct {
	seq          uint32
	uid          uint32
	flags        []string
	hasFlags     bool
	internalDate string
	size         int64
	hasSize      bool
	body         []byte
	hasBody      bool
}

func parseFetch(r *response, it *fetchItem) error {
	if len(r.fields) != 1 || r.fields[0].kind != kList || len(r.fields[0].list)%2 != 0 {
		return fmt.Errorf("malformed FETCH response: %s", r)
	}
	l := r.fields[0].list
	for i := 0; i < len(l); i += 2 {
		k, v := strings.ToUpper(string(l[i].b)), l[i+1]
		switch k {
		case "UID":
			n, err := strconv.ParseUint(string(v.b), 10, 32)
			if err != nil || v.kind != kAtom {
				return fmt.Errorf("bad UID in FETCH response: %s", r)
			}
			it.uid = uint32(n)
		case "FLAGS":
			if v.kind != kList {
				return fmt.Errorf("bad FLAGS in FETCH response: %s", r)
			}
			it.flags, it.hasFlags = nil, true
			for _, f := range v.list {
				it.flags = append(it.flags, string(f.b))
			}
		case "INTERNALDATE":
			if v.kind != kString {
				return fmt.Errorf("bad INTERNALDATE in FETCH response: %s", r)
			}
			it.internalDate = string(v.b)
		case "RFC822.SIZE":
			n, err := strconv.ParseInt(string(v.b), 10, 64)
			if err != nil || v.kind != kAtom {
				return fmt.Errorf("bad RFC822.SIZE in FETCH response: %s", r)
			}
			it.size, it.hasSize = n, true
		case "BODY[]":
			if v.kind == kNil {
				it.body = nil
			} else {
				it.body = v.b
			}
			it.hasBody = true
		}
	}
	return nil
}

// ParseInternalDate parses an IMAP date-time ("17-Jul-1996 02:44:25 -0700", the
// day may be space padded) and returns it in UTC.
func ParseInternalDate(s string) (time.Time, error) {
	t, err := time.Parse("_2-Jan-2006 15:04:05 -0700", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad INTERNALDATE %q: %w", s, err)
	}
	return t.UTC(), nil
}
