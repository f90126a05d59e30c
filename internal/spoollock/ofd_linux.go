package spoollock

import (
	"errors"

	"golang.org/x/sys/unix"
)

// setlk takes an open file description lock, or a classic one on kernels without them.
func setlk(fd int, lk *unix.Flock_t) error {
	err := unix.FcntlFlock(uintptr(fd), unix.F_OFD_SETLK, lk)
	if errors.Is(err, unix.EINVAL) {
		lk.Pid = 0
		err = unix.FcntlFlock(uintptr(fd), unix.F_SETLK, lk)
	}
	return err
}
