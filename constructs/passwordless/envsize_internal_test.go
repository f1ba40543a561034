package passwordless

import (
	"strings"
	"testing"
)

// TestEnvBytes: the environment is sized as Lambda measures it, the JSON of the variables, so
// quotes and newlines cost two bytes and names and punctuation count too.
func TestEnvBytes(t *testing.T) {
	ref := map[string]any{"Ref": "Table"}
	cases := []struct {
		name string
		vars map[string]any
		want int
	}{
		{"none", map[string]any{}, len(`{}`)},
		{"plain", map[string]any{"A": "b"}, len(`{"A":"b"}`)},
		{"quote and newline escaped", map[string]any{"A": "a\"\n"}, len(`{"A":"a\"\n"}`)},
		{"html not escaped", map[string]any{"A": "<p>&</p>"}, len(`{"A":"<p>&</p>"}`)},
		{"two", map[string]any{"A": "b", "CC": "dd"}, len(`{"A":"b","CC":"dd"}`)},
		{"deploy-time value", map[string]any{"T": ref}, len(`{"T":""}`) + tokenEnvBytes},
		{"GetAtt", map[string]any{"T": map[string]any{"Fn::GetAtt": []any{"Pool", "Arn"}}}, len(`{"T":""}`) + tokenEnvBytes},
		{"join", map[string]any{"U": map[string]any{"Fn::Join": []any{"", []any{"https://", ref, "/x"}}}}, len(`{"U":"https:///x"}`) + tokenEnvBytes},
		{"join with separator", map[string]any{"U": map[string]any{"Fn::Join": []any{",", []any{"a", ref}}}}, len(`{"U":"a,"}`) + tokenEnvBytes},
		{"multi-byte counted in bytes", map[string]any{"A": "código"}, len(`{"A":"código"}`)},
	}
	for _, c := range cases {
		if got := envBytes(c.vars); got != c.want {
			t.Errorf("%s: envBytes = %d, want %d", c.name, got, c.want)
		}
	}
	long := map[string]any{"A": strings.Repeat("x", MaxEnvironmentBytes)}
	if envBytes(long) <= MaxEnvironmentBytes {
		t.Error("a 4,096-byte value fits, but its name and quotes do not")
	}
}
