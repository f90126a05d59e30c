package maildir

import (
	"strconv"
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

// flinkNoAlloc gives the open file fd (made with O_TMPFILE) the name newpath in newdirfd,
// failing with EEXIST when the name is taken. viaProc links /proc/self/fd/<fd>, following
// the link, instead of passing the descriptor with AT_EMPTY_PATH, which Linux before 6.10
// allows only with CAP_DAC_READ_SEARCH.
func flinkNoAlloc(fd, newdirfd int, newpath string, viaProc bool) error {
	var b1, b2 [maxStackName + 1]byte
	p2, ok := cname(&b2, newpath)
	if !ok {
		if viaProc {
			return unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(fd), newdirfd, newpath, unix.AT_SYMLINK_FOLLOW)
		}
		return unix.Linkat(fd, "", newdirfd, newpath, unix.AT_EMPTY_PATH)
	}
	olddirfd, flags := fd, unix.AT_EMPTY_PATH
	p1 := unsafe.Pointer(&b1[0]) // "": b1 is zeroed
	if viaProc {
		src := strconv.AppendInt(append(b1[:0], "/proc/self/fd/"...), int64(fd), 10)
		b1[len(src)] = 0
		olddirfd, flags = unix.AT_FDCWD, unix.AT_SYMLINK_FOLLOW
	}
	_, _, e := unix.Syscall6(unix.SYS_LINKAT, uintptr(olddirfd), uintptr(p1), uintptr(newdirfd), uintptr(p2), uintptr(flags), 0)
	return errnoErr(e)
}
