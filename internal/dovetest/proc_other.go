//go:build !linux

package dovetest

import (
	"errors"
	"syscall"
)

func sysProcAttr() *syscall.SysProcAttr { return nil }

func killGroup(pid int) error { return errors.New("process groups not supported") }
