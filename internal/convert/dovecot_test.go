package convert

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mb2md/mb2md/internal/dovetest"
	"github.com/mb2md/mb2md/internal/mailflag"
	"github.com/mb2md/mb2md/internal/mbox"
	"github.com/mb2md/mb2md/internal/source"
	"github.com/mb2md/mb2md/internal/testshared"
)

func corpusFiles(t *testing.T) []string {
	t.Helper()
	shared := testshared.Dir()
	if shared == "" {
		t.Skip("../shared/corpus/mbox not found next to the repository; skipping the corpus test")
	}
	var files []string
	root := filepath.Join(shared, "corpus", "mbox")
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && !strings.HasSuffix(p, ".md") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	st, _ := in.Stat()
	_ = os.Chtimes(dst, st.ModTime(), st.ModTime())
}

type nopObserver struct{}

func (nopObserver) MailboxDone(*Result) {}

// TestDovecotFidelity is the core promise: for every corpus mbox, what Dovecot shows from the
// mbox equals what it shows from our Maildir — bytes, flags, \Recent and INTERNALDATE. The one
// allowed difference: flags we read from X-Mozilla-Status / X-Evolution, which Dovecot ignores.
func TestDovecotFidelity(t *testing.T) {
	if err := dovetest.Available(); err != nil {
		t.Skipf("dovecot is not installed (%v); CI installs dovecot-imapd", err)
	}
	// zone-less From_ dates are local time for Dovecot and for us: check two zones, one
	// with daylight saving time
	for _, tz := range []string{"UTC", "America/New_York"} {
		t.Run(strings.ReplaceAll(tz, "/", "_"), func(t *testing.T) { dovecotFidelity(t, tz) })
	}
}

func dovecotFidelity(t *testing.T, tz string) {
	loc, err := time.LoadLocation(tz)
	if err != nil {
		t.Skipf("zone %s: %v", tz, err)
	}
	files := corpusFiles(t)
	work := t.TempDir()
	srcRoot := filepath.Join(work, "mbox")
	dest := filepath.Join(work, "Maildir")
	for _, d := range []string{srcRoot, dest} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	inbox := filepath.Join(work, "inbox")
	if err := os.WriteFile(inbox, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	plan := &source.Plan{Dest: dest, Source: srcRoot}
	names := map[string]string{}
	for i, f := range files {
		name := fmt.Sprintf("c%03d", i)
		names[name] = f
		// our input and Dovecot's input are separate copies: Dovecot rewrites what it serves
		ours := filepath.Join(work, name)
		copyFile(t, f, ours)
		copyFile(t, f, filepath.Join(srcRoot, name))
		plan.Mailboxes = append(plan.Mailboxes, source.Mailbox{Path: ours, Rel: name, Folder: []string{name}})
	}
	results, err := Run(context.Background(), plan, Options{Format: mbox.Auto, Loc: loc, Now: time.Now()}, nopObserver{})
	if err != nil {
		t.Fatal(err)
	}
	byFolder := map[string]*Result{}
	for _, r := range results {
		byFolder[r.Folder] = r
	}

	srv := dovetest.Start(t, dovetest.Config{MailLocation: "mbox:" + srcRoot + ":INBOX=" + inbox, AllowProblems: true, TZ: tz})
	want := srv.View(t)
	got := dovetest.Start(t, dovetest.Config{MailLocation: "maildir:" + dest, TZ: tz}).View(t)

	checked, messages := 0, 0
	for _, wf := range want.Folders {
		if wf.Name == "INBOX" {
			continue
		}
		r := byFolder[wf.Name]
		if r == nil {
			t.Errorf("%s (%s): Dovecot shows it, we have no result", wf.Name, names[wf.Name])
			continue
		}
		gf := got.Folder(wf.Name)
		if wf.Error != "" || len(wf.Messages) == 0 && r.NotMbox {
			// Dovecot cannot open it: we must have reported it, never silently dropped it
			if r.Error == "" && len(r.Warnings) == 0 {
				t.Errorf("%s: Dovecot cannot open it (%s) but we reported nothing", names[wf.Name], wf.Error)
			}
			continue
		}
		if r.Error != "" {
			t.Errorf("%s: conversion failed: %s", names[wf.Name], r.Error)
			continue
		}
		if gf == nil {
			t.Errorf("%s: folder %s missing from our Maildir", names[wf.Name], wf.Name)
			continue
		}
		checked++
		if len(gf.Messages) != len(wf.Messages) {
			t.Errorf("%s: Dovecot shows %d messages from the mbox, %d from our Maildir", names[wf.Name], len(wf.Messages), len(gf.Messages))
			continue
		}
		// Maildir UIDs follow file-name order, not mbox order: match by position in mbox order
		// using the body bytes and date.
		gm := append([]dovetest.Msg(nil), gf.Messages...)
		for i, w := range wf.Messages {
			j := findMsg(gm, w)
			if j < 0 {
				t.Errorf("%s: message %d (%d bytes, %s) not found identically in our Maildir", names[wf.Name], i+1, w.Size, w.InternalDate.Format(time.RFC3339))
				if k := findBody(gm, w); k >= 0 {
					g := gm[k]
					t.Logf("  same bytes found with date %s flags %v recent %v; Dovecot: %v %v", g.InternalDate.Format(time.RFC3339), g.Flags, g.Recent, w.Flags, w.Recent)
				}
				continue
			}
			g := gm[j]
			gm = append(gm[:j], gm[j+1:]...)
			messages++
			if g.UID != w.UID {
				t.Errorf("%s: message %d: UID %d, Dovecot shows %d", names[wf.Name], i+1, g.UID, w.UID)
			}
			if !flagsCompatible(w, g) {
				t.Errorf("%s: message %d: flags %v recent %v, Dovecot shows %v recent %v", names[wf.Name], i+1, g.Flags, g.Recent, w.Flags, w.Recent)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no folder was compared")
	}
	t.Logf("compared %d corpus mailboxes, %d messages: identical", checked, messages)
}

func findBody(ms []dovetest.Msg, w dovetest.Msg) int {
	for i, m := range ms {
		if bytes.Equal(m.Body, w.Body) {
			return i
		}
	}
	return -1
}

func findMsg(ms []dovetest.Msg, w dovetest.Msg) int {
	for i, m := range ms {
		if m.Size == w.Size && m.InternalDate.Equal(w.InternalDate) && bytes.Equal(m.Body, w.Body) {
			return i
		}
	}
	return -1
}

// flagsCompatible: identical flags and keywords, except for flags that X-Mozilla-Status or
// X-Evolution in the message add (Dovecot ignores those headers; we read them, as mb2md does).
func flagsCompatible(want, got dovetest.Msg) bool {
	if strings.Join(want.Flags, " ") == strings.Join(got.Flags, " ") &&
		strings.Join(want.Keywords, " ") == strings.Join(got.Keywords, " ") {
		return true
	}
	hdr := headerFields(got.Body)
	client := mailflag.Parse(hdr)
	if !client.FromClientHeaders {
		return false
	}
	// the union of Dovecot's flags and the client-header flags must be what we show
	union := map[string]bool{}
	for _, f := range want.Flags {
		union[f] = true
	}
	for _, f := range imapFlags(client) {
		union[f] = true
	}
	var u []string
	for f := range union {
		u = append(u, f)
	}
	sort.Strings(u)
	return strings.Join(u, " ") == strings.Join(got.Flags, " ")
}

func imapFlags(f mailflag.Flags) []string {
	var out []string
	for _, p := range []struct {
		on   bool
		name string
	}{{f.Seen, `\Seen`}, {f.Answered, `\Answered`}, {f.Flagged, `\Flagged`}, {f.Draft, `\Draft`}, {f.Deleted, `\Deleted`}} {
		if p.on {
			out = append(out, p.name)
		}
	}
	return out
}

// headerFields parses the (CRLF) header block of an IMAP BODY[] for the client flag headers.
func headerFields(body []byte) []mailflag.Header {
	var hs []mailflag.Header
	for _, line := range strings.Split(string(body), "\r\n") {
		if line == "" {
			break
		}
		if i := strings.IndexByte(line, ':'); i > 0 {
			name := line[:i]
			if strings.EqualFold(name, "X-Mozilla-Status") || strings.EqualFold(name, "X-Evolution") {
				hs = append(hs, mailflag.Header{Name: name, Value: strings.TrimLeft(line[i+1:], " \t")})
			}
		}
	}
	return hs
}
