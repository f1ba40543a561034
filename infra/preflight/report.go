package preflight

import (
	"fmt"
	"io"
	"strings"
)

// Status is the verdict of one checklist line.
type Status string

// The statuses, from good to bad.
const (
	// OK: ready.
	OK Status = "OK"
	// Info: nothing to do; a fact the deployer should know (a price, what happens after the deploy).
	Info Status = "INFO"
	// Warn: the deploy works and nothing blocks the environment's methods, but real users are
	// limited until it is fixed (a sandbox, a low spend limit, DKIM pending).
	Warn Status = "WARN"
	// Missing: the deploy would fail, or an enabled sign-in method could not work.
	Missing Status = "MISSING"
	// Error: the check could not run (a permission missing, no answer in time, refused
	// credentials), so the account may or may not be ready.
	Error Status = "ERROR"
)

// Exit codes of Run (and Report.Code).
const (
	// ExitReady: no line is MISSING or ERROR (warnings allowed).
	ExitReady = 0
	// ExitBlocked: at least one line is MISSING.
	ExitBlocked = 1
	// ExitUnchecked: nothing is MISSING, but a check could not run (ERROR), or the command could
	// not start (bad flags or cdk.json, no credentials, no region).
	ExitUnchecked = 2
)

// Line is one line of the checklist.
type Line struct {
	Status Status
	// Check names what was checked, e.g. "cdk bootstrap".
	Check string
	// Detail says what was found.
	Detail string
	// Fix says what to do, one step (a command or a link) per entry; set for WARN, MISSING and
	// ERROR lines, and for INFO lines that need an action after the deploy.
	Fix []string
}

// Report is the checklist of one run.
type Report struct {
	// Title is the first line: environment, stack, account and region.
	Title string
	// Lines in the order the checks ran.
	Lines []Line
}

func (r *Report) add(st Status, check, detail string, fix ...string) {
	r.Lines = append(r.Lines, Line{Status: st, Check: check, Detail: detail, Fix: fix})
}

// Count returns how many lines have status st.
func (r *Report) Count(st Status) int {
	n := 0
	for _, l := range r.Lines {
		if l.Status == st {
			n++
		}
	}
	return n
}

// Code is the exit code for the report: ExitBlocked when a line is MISSING, else ExitUnchecked
// when a line is ERROR, else ExitReady.
func (r *Report) Code() int {
	switch {
	case r.Count(Missing) > 0:
		return ExitBlocked
	case r.Count(Error) > 0:
		return ExitUnchecked
	}
	return ExitReady
}

const (
	statusWidth = 8
	checkWidth  = 18
)

// WriteTo prints the checklist: the title, one line per check ("STATUS  check  detail") with
// its fixes indented below, then a verdict.
func (r *Report) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	if r.Title != "" {
		b.WriteString(r.Title + "\n\n")
	}
	indent := strings.Repeat(" ", statusWidth+1+checkWidth+1)
	for _, l := range r.Lines {
		fmt.Fprintf(&b, "%-*s %-*s %s\n", statusWidth, l.Status, checkWidth, l.Check, l.Detail)
		for _, f := range l.Fix {
			b.WriteString(indent + "fix: " + f + "\n")
		}
	}
	b.WriteString("\n" + r.Verdict() + "\n")
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

// Verdict is the last line of the checklist.
func (r *Report) Verdict() string {
	missing, errs, warns := r.Count(Missing), r.Count(Error), r.Count(Warn)
	switch r.Code() {
	case ExitBlocked:
		s := fmt.Sprintf("NOT READY: %d blocking (MISSING)", missing)
		if errs > 0 {
			s += fmt.Sprintf(", %d not checked (ERROR)", errs)
		}
		return s + fmt.Sprintf(", %d %s. Fix the MISSING lines and run the preflight again.", warns, plural(warns, "warning"))
	case ExitUnchecked:
		return fmt.Sprintf("UNKNOWN: %d %s could not run (ERROR), %d %s; nothing found blocks so far. Fix the ERROR lines and run the preflight again.",
			errs, plural(errs, "check"), warns, plural(warns, "warning"))
	}
	if warns > 0 {
		return fmt.Sprintf("READY to deploy, with %d %s: real users are limited until the WARN lines are fixed.", warns, plural(warns, "warning"))
	}
	return "READY to deploy."
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
