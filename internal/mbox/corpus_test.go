package mbox

import (
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sharedDir walks up from the package directory to a sibling "shared" of an
// ancestor (the repository's neighbour /work/shared).
func sharedDir(t testing.TB, sub string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Skip(err)
	}
	for {
		p := filepath.Join(dir, "shared", sub)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skipf("shared/%s not found above the package directory; skipping", sub)
		}
		dir = parent
	}
}

func corpusFiles(t testing.TB) []string {
	root := sharedDir(t, "corpus/mbox")
	var files []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && !strings.HasSuffix(p, ".md") {
			files = append(files, p)
		}
		return nil
	})
	if len(files) == 0 {
		t.Skip("corpus is empty")
	}
	return files
}

func TestCorpus(t *testing.T) {
	files := corpusFiles(t)
	mboxes := 0
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name, _ := filepath.Rel(filepath.Dir(filepath.Dir(path)), path)
		for _, opt := range []Options{
			{IsSeparator: asctimeSep, Strip: dovecotStrip, Capture: []string{"Received", "Date", "Status"}},
			{}, {Format: MboxO}, {Format: MboxRD}, {Format: MboxCL},
		} {
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			g := splitAll(t, f, opt, 8192)
			f.Close()
			var fe *FormatError
			if g.err != nil {
				if !errors.As(g.err, &fe) {
					t.Errorf("%s %v: %v", name, opt.Format, g.err)
				}
				continue
			}
			if opt.IsSeparator != nil {
				mboxes++
			}
			var total int64
			prev := int64(-1)
			lineAt, line := int64(0), int64(1)
			for _, m := range g.msgs {
				if m.Offset <= prev || m.Offset >= int64(len(data)) || !strings.HasPrefix(string(data[m.Offset:min(int(m.Offset)+5, len(data))]), "From ") {
					t.Errorf("%s %v: message %d at bad offset %d", name, opt.Format, m.Seq, m.Offset)
				}
				if m.Offset > lineAt {
					line += int64(strings.Count(string(data[lineAt:m.Offset]), "\n"))
					lineAt = m.Offset
				}
				if line != m.Line {
					t.Errorf("%s %v: message %d: line %d wrong", name, opt.Format, m.Seq, m.Line)
				}
				prev = m.Offset
				total += m.Size
			}
			// content is the input minus From_ lines, separators, CRs and
			// stripped headers: never more, and not much less
			if total > int64(len(data)) || (len(g.msgs) > 0 && opt.Strip == nil && total < int64(len(data))*6/10-int64(len(g.msgs))*200) {
				t.Errorf("%s %v: %d content bytes from %d input bytes in %d messages", name, opt.Format, total, len(data), len(g.msgs))
			}
		}
	}
	t.Logf("%d files, %d read as mbox", len(files), mboxes)
}

// Random read sizes over the corpus give the same split as one big read.
func TestCorpusChunking(t *testing.T) {
	files := corpusFiles(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(data) > 1<<20 {
			continue
		}
		opt := Options{IsSeparator: asctimeSep, Strip: dovecotStrip}
		ref := splitAll(t, strings.NewReader(string(data)), opt, 1<<16)
		n := 1 + rng.IntN(50)
		g := splitAll(t, onlyReader{&slowReader{s: string(data), n: n}}, opt, 1+rng.IntN(100))
		if !sameStrings(g.data, ref.data) {
			t.Errorf("%s: split differs with read size %d", path, n)
		}
	}
}
