// Package testshared finds the read-only ../shared directory (corpus, docs) next to the
// repository, for tests. Tests skip when it is absent.
package testshared

import (
	"os"
	"path/filepath"
)

// Dir returns the "shared" directory beside the repository root (the directory holding
// go.mod, found upwards from the working directory), or "" when there is none.
func Dir() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			s := filepath.Join(filepath.Dir(dir), "shared")
			if st, err := os.Stat(s); err == nil && st.IsDir() {
				return s
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
