package convert

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mb2md/mb2md/internal/maildir"
	"github.com/mb2md/mb2md/internal/mbox"
)

func TestSpecOptions(t *testing.T) {
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	o, err := Spec{Format: "mboxrd", TZ: "Asia/Tokyo", Sync: "each", Layout: "fs", UTF8: true, Jobs: 3}.Options(now)
	if err != nil {
		t.Fatal(err)
	}
	if o.Format != mbox.MboxRD || o.Loc.String() != "Asia/Tokyo" || o.Sync != maildir.SyncEach || !o.LayoutFS || !o.UTF8 || o.Jobs != 3 || !o.Now.Equal(now) {
		t.Errorf("options %+v", o)
	}
	// defaults; -c turns auto into mboxcl; a pinned now wins
	o, err = Spec{ContentLength: true, Now: 42}.Options(now)
	if err != nil || o.Format != mbox.MboxCL || o.Sync != maildir.SyncBatch || o.LayoutFS || o.Loc != time.Local || o.Now.UnixNano() != 42 {
		t.Errorf("defaults: %+v %v", o, err)
	}
	for _, bad := range []struct {
		spec Spec
		want string
	}{
		{Spec{Format: "mbox42"}, "--format"},
		{Spec{TZ: "Mars/Base"}, "unknown time zone"},
		{Spec{Sync: "maybe"}, "--sync"},
		{Spec{Layout: "flat"}, "--layout"},
		{Spec{Jobs: -1}, "--jobs"},
	} {
		_, err := bad.spec.Options(now)
		var se *SpecError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%+v: err = %v, want a SpecError about %s", bad.spec, err, bad.want)
		}
	}
}
