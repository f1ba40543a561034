package jsiienv

import (
	"os"
	"testing"
)

func TestQuietSetsOnlyUnset(t *testing.T) {
	t.Setenv(Silenced[0][0], "18,20")
	t.Setenv(Silenced[1][0], "")
	os.Unsetenv(Silenced[1][0])
	Quiet()
	if got := os.Getenv(Silenced[0][0]); got != "18,20" {
		t.Errorf("%s = %q, want the user's value kept", Silenced[0][0], got)
	}
	if got, ok := os.LookupEnv(Silenced[1][0]); !ok || got != Silenced[1][1] {
		t.Errorf("%s = %q (set %v), want %q", Silenced[1][0], got, ok, Silenced[1][1])
	}
}
