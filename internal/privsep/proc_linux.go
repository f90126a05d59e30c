package privsep

import "syscall"

func selfExe() string { return "/proc/self/exe" }

func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
