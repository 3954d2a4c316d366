package helper

import "syscall"

// sysProcAttr has the child killed if thermal dies first: a helper never
// outlives the beat that started it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
