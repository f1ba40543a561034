//go:build linux

package dynalitetest

import (
	"os/exec"
	"syscall"
)

// setProcAttr puts dynalite in its own process group and asks the kernel to
// kill it if this process dies without cleaning up (e.g. a test timeout).
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func killTree(cmd *exec.Cmd) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Process.Kill()
}
