//go:build !unix

package dynalitetest

import "os/exec"

func setProcAttr(*exec.Cmd) {}

func killTree(cmd *exec.Cmd) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Kill()
}
