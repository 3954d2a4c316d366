//go:build !linux

package helper

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }
