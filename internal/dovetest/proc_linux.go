package dovetest

import "syscall"

// sysProcAttr puts Dovecot in its own process group (stopped as a whole) and makes
// the kernel stop it when the test binary dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

// killGroup kills the process group led by pid (the Dovecot master we started).
func killGroup(pid int) error { return syscall.Kill(-pid, syscall.SIGKILL) }
