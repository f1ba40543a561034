//go:build linux

package lambdarun

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// sysProcAttr puts each process in its own group (so Close kills what it started too) and has the
// kernel kill it if this process dies without cleaning up.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// readPeakRSS returns VmHWM of pid in bytes, or 0.
func readPeakRSS(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	i := bytes.Index(b, []byte("\nVmHWM:"))
	if i < 0 {
		return 0
	}
	line, _, _ := bytes.Cut(b[i+len("\nVmHWM:"):], []byte("\n"))
	num, ok := strings.CutSuffix(strings.TrimSpace(string(line)), " kB")
	if !ok {
		return 0
	}
	kb, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if err != nil {
		return 0
	}
	return kb << 10
}
