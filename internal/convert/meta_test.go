package convert

import (
	"path/filepath"
	"testing"

	"github.com/mb2md/mb2md/internal/maildir"
)

// The files of a run are listed in dovecot-uidlist in UID order: in the places the reader
// reserved (mbox order), without the places of messages that were not delivered after all,
// and sorted should mbox order ever not be UID order.
func TestMetaFilesInUIDOrder(t *testing.T) {
	file := func(uid uint32) maildir.NewFile {
		return maildir.NewFile{UID: uid, Key: maildir.Key{Hash: [16]byte{byte(uid)}}, MTime: 1700000000, Size: 10, VSize: 11}
	}
	for _, c := range []struct {
		name string
		uids []uint32 // per reserved place; 0: not delivered
		want []uint32
	}{
		{"in order with a gap", []uint32{1, 0, 3, 4}, []uint32{1, 3, 4}},
		{"out of order", []uint32{5, 2, 0, 9}, []uint32{2, 5, 9}},
		{"none delivered", []uint32{0, 0}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "Maildir")
			if err := maildir.Ensure(dir, false); err != nil {
				t.Fatal(err)
			}
			m, err := openMeta(dir, false)
			if err != nil {
				t.Fatal(err)
			}
			slots := make([]int, len(c.uids))
			for i := range c.uids {
				slots[i] = m.reserve()
			}
			// the writers finish in any order
			for i := len(c.uids) - 1; i >= 0; i-- {
				if c.uids[i] != 0 {
					m.recordNew(slots[i], file(c.uids[i]))
				}
			}
			if err := m.finish(maildir.NewUIDValidityGen(dir)); err != nil {
				t.Fatal(err)
			}
			l, err := maildir.ReadUIDList(dir)
			if err != nil {
				t.Fatal(err)
			}
			var got []uint32
			for _, r := range l.Records {
				got = append(got, r.UID)
				if want := file(r.UID).Name(); r.Name != want {
					t.Errorf("UID %d listed as %q, want %q", r.UID, r.Name, want)
				}
			}
			if len(got) != len(c.want) {
				t.Fatalf("listed UIDs %v, want %v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("listed UIDs %v, want %v", got, c.want)
				}
			}
		})
	}
}
