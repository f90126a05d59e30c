package maildir

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The path-taking system calls of the write path, without the heap allocation that
// x/sys makes for every path (ByteSliceFromString): a name up to NAME_MAX bytes is copied,
// NUL-terminated, into a buffer on the stack. Longer names (or names with a NUL byte, which
// the kernel would cut) go through x/sys.

const maxStackName = 255 // NAME_MAX: every name we pass is one path component

// cname copies s into buf as a NUL-terminated string; ok is false when it does not fit
// or contains a NUL byte.
func cname(buf *[maxStackName + 1]byte, s string) (p unsafe.Pointer, ok bool) {
	if len(s) > maxStackName {
		return nil, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return nil, false
		}
		buf[i] = s[i]
	}
	buf[len(s)] = 0
	return unsafe.Pointer(&buf[0]), true
}

func errnoErr(e unix.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

func openatNoAlloc(dirfd int, path string, flags int, mode uint32) (int, error) {
	var b [maxStackName + 1]byte
	p, ok := cname(&b, path)
	if !ok {
		return unix.Openat(dirfd, path, flags, mode)
	}
	fd, _, e := unix.Syscall6(unix.SYS_OPENAT, uintptr(dirfd), uintptr(p), uintptr(flags|unix.O_LARGEFILE), uintptr(mode), 0, 0)
	if e != 0 {
		return -1, e
	}
	return int(fd), nil
}

func renameat2NoAlloc(olddirfd int, oldpath string, newdirfd int, newpath string, flags uint) error {
	var b1, b2 [maxStackName + 1]byte
	p1, ok1 := cname(&b1, oldpath)
	p2, ok2 := cname(&b2, newpath)
	if !ok1 || !ok2 {
		return unix.Renameat2(olddirfd, oldpath, newdirfd, newpath, flags)
	}
	_, _, e := unix.Syscall6(unix.SYS_RENAMEAT2, uintptr(olddirfd), uintptr(p1), uintptr(newdirfd), uintptr(p2), uintptr(flags), 0)
	return errnoErr(e)
}

func unlinkatNoAlloc(dirfd int, path string, flags int) error {
	var b [maxStackName + 1]byte
	p, ok := cname(&b, path)
	if !ok {
		return unix.Unlinkat(dirfd, path, flags)
	}
	_, _, e := unix.Syscall(unix.SYS_UNLINKAT, uintptr(dirfd), uintptr(p), uintptr(flags))
	return errnoErr(e)
}
