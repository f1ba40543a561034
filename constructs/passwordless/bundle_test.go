package passwordless_test

import (
	"archive/zip"
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/passwordless-go/cognito/constructs/cdktest"
	"github.com/passwordless-go/cognito/constructs/passwordless"
)

// writeModule lays out a minimal copy of the module's hashed files under dir.
func writeModule(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSourceHash(t *testing.T) {
	files := map[string]string{
		"go.mod":                     "module " + passwordless.ModulePath + "\n\ngo 1.26\n",
		"go.sum":                     "",
		"lambdas/cmd/define/main.go": "package main\n",
		"lambdas/authflow/plan.go":   "package authflow\n",
	}
	a, b := t.TempDir(), filepath.Join(t.TempDir(), "elsewhere", "deeper")
	writeModule(t, a, files)
	writeModule(t, b, files)
	hash := func(root, cmd string) string {
		h, err := passwordless.SourceHash(root, cmd)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	base := hash(a, "define")
	if hash(b, "define") != base {
		t.Error("hash depends on the checkout path")
	}
	if hash(a, "create") == base {
		t.Error("two functions share a hash")
	}
	writeModule(t, b, map[string]string{"lambdas/authflow/plan_test.go": "package authflow\n", "lambdas/authflow/testdata/x.go": "x"})
	if hash(b, "define") != base {
		t.Error("test files or testdata changed the hash")
	}
	writeModule(t, b, map[string]string{"lambdas/authflow/plan.go": "package authflow // changed\n"})
	if hash(b, "define") == base {
		t.Error("a source change did not change the hash")
	}
	writeModule(t, a, map[string]string{"go.sum": "example.com/x v1.0.0 h1:abc=\n"})
	if hash(a, "define") == base {
		t.Error("a go.sum change did not change the hash")
	}
}

var s3Key = regexp.MustCompile(`"S3Key": "([0-9a-f]{64})\.zip"`)

// assetKeys synthesizes the minimal construct from dir and returns its Lambda asset keys.
func assetKeys(t *testing.T, dir string) []string {
	t.Helper()
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	app := cdktest.NewApp(t, cdktest.Options{})
	stack := awscdk.NewStack(app, jsii.String("Test"), nil)
	passwordless.New(stack, jsii.String("Passwordless"), nil)
	asm := cdktest.Synth(t, app)
	b, err := os.ReadFile(filepath.Join(asm.Dir, "Test.template.json"))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, m := range s3Key.FindAllStringSubmatch(string(b), -1) {
		keys = append(keys, m[1])
	}
	sort.Strings(keys)
	return keys
}

// TestAssetHashesStable: with bundling skipped the asset hashes come from the sources, so they are
// the same from any working directory and differ per function.
func TestAssetHashesStable(t *testing.T) {
	first := assetKeys(t, ".")
	second := assetKeys(t, t.TempDir())
	if len(first) != 5 {
		t.Fatalf("want 5 Lambda assets, got %d", len(first))
	}
	if strings.Join(first, ",") != strings.Join(second, ",") {
		t.Errorf("asset hashes changed with the working directory:\n%v\n%v", first, second)
	}
	for i := 1; i < len(first); i++ {
		if first[i] == first[i-1] {
			t.Error("two functions share an asset hash")
		}
	}
}

// TestConsumerModule imports the construct from another module (replace to this checkout), as a
// user's CDK app does, and synthesizes with bundling on, under a restrictive umask (027): every
// function must come out as an archive (uploaded as it is) holding an arm64 Linux bootstrap built
// by go build, executable by everyone (0755), staged under the asset hash of its sources.
func TestConsumerModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a separate module and every Lambda; run without -short")
	}
	_, file, _, _ := runtime.Caller(0)
	root, _ := filepath.Abs(filepath.Join(filepath.Dir(file), "..", ".."))
	dir := t.TempDir()
	goSum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	writeModule(t, dir, map[string]string{
		"go.mod": fmt.Sprintf("module example.com/consumer\n\ngo 1.26\n\nrequire %s v0.0.0\n\nreplace %s => %s\n",
			passwordless.ModulePath, passwordless.ModulePath, root),
		"go.sum": string(goSum),
		"main.go": `package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/passwordless-go/cognito/constructs/passwordless"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("ConsumerStack"), nil)
	passwordless.New(stack, jsii.String("Auth"), nil)
	app.Synth(nil)
}
`,
	})
	run := func(env []string, name string, args ...string) {
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	run([]string{"GOFLAGS=-mod=mod"}, "go", "mod", "tidy")
	out := filepath.Join(dir, "cdk.out")
	run([]string{"CDK_OUTDIR=" + out, "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1"}, "sh", "-c", "umask 027 && exec go run .")
	zips, _ := filepath.Glob(filepath.Join(out, "asset.*.zip"))
	if len(zips) != 5 {
		t.Fatalf("want 5 bootstrap archives in the cloud assembly, got %d: %v", len(zips), zips)
	}
	tpl, err := os.ReadFile(filepath.Join(out, "ConsumerStack.template.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, z := range zips {
		hash := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(z), "asset."), ".zip")
		if !strings.Contains(string(tpl), `"`+hash+`.zip"`) {
			t.Errorf("%s is not an asset of the template", z)
		}
		b := unzipBootstrap(t, z)
		f, err := elf.NewFile(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: bootstrap is not an ELF binary: %v", z, err)
		}
		if f.Machine != elf.EM_AARCH64 || f.OSABI != elf.ELFOSABI_NONE && f.OSABI != elf.ELFOSABI_LINUX {
			t.Errorf("%s: machine %v abi %v, want linux arm64", z, f.Machine, f.OSABI)
		}
		if f.Section(".debug_info") != nil || f.Section(".symtab") != nil {
			t.Errorf("%s is not stripped", z)
		}
		f.Close()
	}
	// The hashes are the sources' (SourceHash), as with bundling skipped.
	if keys := assetKeys(t, "."); len(keys) != 5 {
		t.Errorf("want 5 asset keys with bundling skipped, got %d", len(keys))
	} else {
		for _, k := range keys {
			if _, err := os.Stat(filepath.Join(out, "asset."+k+".zip")); err != nil {
				t.Errorf("bundled asset of hash %s missing: the bundled hashes differ from the sources' hashes", k)
			}
		}
	}
}

// unzipBootstrap returns the bootstrap of a function's archive, which must hold it alone, as a
// regular file with mode 0755.
func unzipBootstrap(t *testing.T, path string) []byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" {
		t.Fatalf("%s holds %d entries, want bootstrap alone", path, len(zr.File))
	}
	if m := zr.File[0].Mode(); m.Perm() != 0o755 || !m.IsRegular() {
		t.Errorf("%s: bootstrap has mode %v, want -rwxr-xr-x (Lambda runs it as another user)", path, m)
	}
	rc, err := zr.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
