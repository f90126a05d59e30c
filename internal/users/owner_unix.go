package users

import (
	"io/fs"
	"syscall"
)

func ownerOf(fi fs.FileInfo) int {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid)
	}
	return -1
}

const nofollow = syscall.O_NOFOLLOW
