package signin

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/passwordless-go/cognito/infra/local/harness"
)

// ErrNoMarkers is what ExtractBlock returns (wrapped) when the text has no begin marker.
var ErrNoMarkers = errors.New("no begin marker")

// ExtractBlock returns the ```js block between the markers begin and end (for example
// "<!-- x:begin -->" and "<!-- x:end -->"): exactly one of each, in order, holding one block and
// nothing else. The code ends with a newline. Without begin it returns an error wrapping
// ErrNoMarkers.
func ExtractBlock(readme []byte, begin, end string) ([]byte, error) {
	s := string(readme)
	if !strings.Contains(s, begin) {
		return nil, fmt.Errorf("%w: %s", ErrNoMarkers, begin)
	}
	if strings.Count(s, begin) != 1 || strings.Count(s, end) != 1 {
		return nil, fmt.Errorf("want one %s and one %s", begin, end)
	}
	_, rest, _ := strings.Cut(s, begin)
	inner, _, ok := strings.Cut(rest, end)
	if !ok {
		return nil, fmt.Errorf("%s before %s", end, begin)
	}
	inner = strings.TrimSpace(inner)
	body, ok := strings.CutPrefix(inner, "```js\n")
	if !ok {
		return nil, fmt.Errorf("the markers do not hold a ```js block")
	}
	code, ok := strings.CutSuffix(body, "\n```")
	if !ok || strings.Contains(code, "```") {
		return nil, fmt.Errorf("the markers hold more than one code block")
	}
	return []byte(code + "\n"), nil
}

var loud sync.Map // fallback file -> struct{}: said once on stderr

// READMEBlock returns the code block of the repository's README.md between begin and end (see
// ExtractBlock) and "README.md". Until the README has the markers it returns the file fallback
// (a path relative to the test's package directory, e.g. "amplify-client.mjs") and fallback,
// saying so loudly in the test log and, once per fallback, on stderr. Any other error fails
// the test.
func READMEBlock(t testing.TB, begin, end, fallback string) ([]byte, string) {
	t.Helper()
	root, err := harness.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	code, err := ExtractBlock(readme, begin, end)
	if errors.Is(err, ErrNoMarkers) {
		wd, _ := os.Getwd()
		rel, _ := filepath.Rel(root, filepath.Join(wd, fallback))
		msg := fmt.Sprintf("!!!!!!!! README.md has no %s ... %s block: the test runs %s instead of the README's code !!!!!!!!",
			begin, end, filepath.ToSlash(rel))
		t.Log(msg)
		if _, said := loud.LoadOrStore(fallback, struct{}{}); !said {
			fmt.Fprintln(os.Stderr, msg)
		}
		b, err := os.ReadFile(fallback)
		if err != nil {
			t.Fatal(err)
		}
		return b, fallback
	}
	if err != nil {
		t.Fatalf("README.md: %v", err)
	}
	return code, "README.md"
}

// CheckExtractBlock checks ExtractBlock with the markers begin and end: a good block is
// returned exactly, text without the markers gives ErrNoMarkers, and every malformed block (two
// blocks, not js, no end, end first, two begins, prose beside the block) is refused.
func CheckExtractBlock(t testing.TB, begin, end string) {
	t.Helper()
	good := "# x\n" + begin + "\n```js\nconst a = 1;\n```\n" + end + "\nmore\n"
	if code, err := ExtractBlock([]byte(good), begin, end); err != nil || string(code) != "const a = 1;\n" {
		t.Errorf("ExtractBlock: %q %v", code, err)
	}
	if _, err := ExtractBlock([]byte("# no markers\n"), begin, end); !errors.Is(err, ErrNoMarkers) {
		t.Errorf("no markers: %v", err)
	}
	for name, bad := range map[string]string{
		"two blocks":  begin + "\n```js\na\n```\n```js\nb\n```\n" + end,
		"not js":      begin + "\n```ts\na\n```\n" + end,
		"no end":      begin + "\n```js\na\n```\n",
		"end first":   end + "\n" + begin + "\n```js\na\n```\n",
		"two begins":  begin + begin + "\n```js\na\n```\n" + end,
		"prose added": begin + "\ntext\n```js\na\n```\n" + end,
	} {
		if _, err := ExtractBlock([]byte(bad), begin, end); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
