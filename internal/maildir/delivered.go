package maildir

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// DeliveredName is the file, in a Maildir folder, that lists the keys of every message mb2md
// delivered there. A re-run uses it to tell a message the user deleted since (listed, but no
// longer in new/ or cur/: not restored) from a message never converted. Dovecot ignores the
// file (its name does not start with '.' and it is not a directory).
const DeliveredName = "mb2md-delivered"

// Delivered is the content of a folder's DeliveredName file. Has may be called from any
// goroutine; Record from one goroutine at a time (the converter's reader, in mbox order),
// and Save once the recording is over.
type Delivered struct {
	dir  string
	keys map[Key]struct{} // delivered by earlier runs: read once, never changed
	add  []Key            // recorded in this run
}

// ReadDelivered reads dir's list of delivered keys; a missing file (or folder) is an empty
// list. It never writes.
func ReadDelivered(dir string) (*Delivered, error) {
	d := &Delivered{dir: dir, keys: map[Key]struct{}{}}
	p := filepath.Join(dir, DeliveredName)
	f, err := openIfExists(p)
	if f == nil {
		return d, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		t := strings.TrimSpace(sc.Text())
		if t == "" {
			continue
		}
		// the key part of a name made by Name: "<N>H<hex>" after the ".M"
		k, ok := parseKey("0.M" + t + nameTag)
		if !ok {
			return nil, fmt.Errorf("%s:%d: not a message key %q; the file is damaged: move it aside and run again (then messages deleted since the last run may come back)", p, line, t)
		}
		d.keys[k] = struct{}{}
	}
	if err := sc.Err(); err != nil {
		return nil, pathErr("read", p, err)
	}
	return d, nil
}

// Has reports whether the key was delivered by an earlier run (keys recorded in this run are
// not looked at: the caller knows those). The keys of earlier runs never change after
// ReadDelivered, so Has needs no lock.
func (d *Delivered) Has(k Key) bool {
	_, ok := d.keys[k]
	return ok
}

// Record notes a key delivered in this run (or found delivered and not yet listed); Save
// writes the new ones.
func (d *Delivered) Record(k Key) {
	if _, ok := d.keys[k]; !ok {
		// not added to keys: a run records each key once (its keys are distinct), and the
		// map stays as small as the file read
		d.add = append(d.add, k)
	}
}

// Save appends the recorded keys to the file, in the order recorded, and syncs it. Call it
// only after the messages are delivered: a key listed for a message that is not in the
// folder means "deleted by the user", so listing one too early could lose it.
func (d *Delivered) Save() error {
	if len(d.add) == 0 {
		return nil
	}
	p := filepath.Join(d.dir, DeliveredName)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return pathErr("open", p, err)
	}
	w := bufio.NewWriterSize(f, 64<<10)
	var line [64]byte
	for _, k := range d.add {
		b := strconv.AppendUint(line[:0], uint64(k.N), 10)
		b = append(b, 'H')
		b = hex.AppendEncode(b, k.Hash[:])
		b = append(b, '\n')
		w.Write(b)
	}
	err = w.Flush()
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return pathErr("write", p, err)
	}
	d.add = nil
	return nil
}
