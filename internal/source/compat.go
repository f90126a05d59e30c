package source

import "errors"

// ResolveCompat is Resolve with mb2md 3.20's folder rules (--compat).
func ResolveCompat(cfg Config) (*Plan, error) {
	return nil, errors.New("--compat is not implemented yet")
}
