//go:build unix

package lambdarun

import (
	"os"
	"syscall"
)

// killGroup sends sig to the process group led by pid (every process is started with Setpgid).
func killGroup(pid int, sig syscall.Signal) {
	if pid <= 1 {
		return // never signal our own group or init
	}
	_ = syscall.Kill(-pid, sig)
	_ = syscall.Kill(pid, sig)
}

// exitStatus is the exit code (-1 when killed) and the signal name, if any.
func exitStatus(ps *os.ProcessState) (code int, signal string) {
	if ps == nil {
		return -1, ""
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -1, ws.Signal().String()
	}
	return ps.ExitCode(), ""
}
