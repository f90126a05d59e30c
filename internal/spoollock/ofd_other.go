//go:build unix && !linux

package spoollock

import "golang.org/x/sys/unix"

func setlk(fd int, lk *unix.Flock_t) error {
	return unix.FcntlFlock(uintptr(fd), unix.F_SETLK, lk)
}
