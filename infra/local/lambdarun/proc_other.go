//go:build unix && !linux

package lambdarun

import "syscall"

// sysProcAttr puts each process in its own group, so Close kills what it started too.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// readPeakRSS is not available without /proc.
func readPeakRSS(int) int64 { return 0 }
