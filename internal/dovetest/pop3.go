package dovetest

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// POP3UIDLs logs in over POP3 and returns the UIDL of every INBOX message in
// message order. Config.POP3 must be set.
func (s *Server) POP3UIDLs(t testing.TB) []string {
	t.Helper()
	if s.pop3Addr == "" {
		t.Fatal("dovetest: POP3UIDLs needs Config.POP3")
	}
	uidls, err := s.readUIDLs()
	s.syncLog()
	if err != nil {
		t.Fatalf("dovetest: pop3: %v\nlog %s:\n%s", err, s.logPath, indent(s.readLog()))
	}
	if errs := s.newLogErrors(); len(errs) > 0 && !s.cfg.AllowProblems {
		t.Errorf("dovetest: dovecot logged errors (log %s):\n%s", s.logPath, indent(strings.Join(errs, "\n")))
	}
	return uidls
}

func (s *Server) readUIDLs() ([]string, error) {
	conn, err := net.DialTimeout("tcp", s.pop3Addr, s.cfg.Timeout)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	line := func() (string, error) {
		_ = conn.SetReadDeadline(time.Now().Add(s.cfg.Timeout))
		l, err := br.ReadString('\n')
		if err != nil {
			return "", err
		}
		if len(l) > maxLineToken {
			return "", fmt.Errorf("line too long")
		}
		return strings.TrimRight(l, "\r\n"), nil
	}
	cmd := func(c string) (string, error) {
		if c != "" {
			_ = conn.SetWriteDeadline(time.Now().Add(s.cfg.Timeout))
			if _, err := conn.Write([]byte(c + "\r\n")); err != nil {
				return "", err
			}
		}
		l, err := line()
		if err != nil {
			return "", err
		}
		if !strings.HasPrefix(l, "+OK") {
			verb, _, _ := strings.Cut(c, " ")
			if verb == "" {
				verb = "greeting"
			}
			return "", fmt.Errorf("%s: %s", verb, l)
		}
		return l, nil
	}
	if _, err := cmd(""); err != nil {
		return nil, err
	}
	if _, err := cmd("USER " + s.user); err != nil {
		return nil, err
	}
	if _, err := cmd("PASS " + s.pass); err != nil {
		return nil, err
	}
	s.loggedIn()
	if _, err := cmd("UIDL"); err != nil {
		return nil, err
	}
	var out []string
	for {
		l, err := line()
		if err != nil {
			return nil, err
		}
		if l == "." {
			break
		}
		_, uidl, ok := strings.Cut(l, " ")
		if !ok {
			return nil, fmt.Errorf("bad UIDL line %q", l)
		}
		out = append(out, uidl)
	}
	_, _ = cmd("QUIT")
	return out, nil
}
