package passwordless

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/jsii-runtime-go"
)

// ModulePath is this Go module's path; the construct builds the Lambdas from its source.
const ModulePath = "github.com/passwordless-go/cognito"

// BuildFlags are the go build flags of every bootstrap binary (GOOS=linux GOARCH=arm64 CGO_ENABLED=0).
var BuildFlags = []string{"-trimpath", "-buildvcs=false", "-tags", "lambda.norpc", "-ldflags", "-s -w"}

// buildEnv is the environment of the build on top of the caller's (GOCACHE, GOPROXY, ... are kept).
var buildEnv = []string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=-mod=readonly"}

var (
	rootOnce sync.Once
	rootDir  string
	rootErr  error
)

// moduleRoot finds this module's source: the directory of this file when it was compiled from a
// checkout or the module cache, else what `go list -m` says from the working directory.
func moduleRoot() (string, error) {
	rootOnce.Do(func() {
		if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
			dir := filepath.Join(filepath.Dir(file), "..", "..")
			if isModuleRoot(dir) {
				rootDir = filepath.Clean(dir)
				return
			}
		}
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", ModulePath).Output()
		dir := strings.TrimSpace(string(out))
		if err != nil || dir == "" || !isModuleRoot(dir) {
			rootErr = fmt.Errorf("passwordless: cannot find the source of %s to build the Lambdas (go list -m: %v)", ModulePath, err)
			return
		}
		rootDir = dir
	})
	return rootDir, rootErr
}

func isModuleRoot(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	return err == nil && bytes.HasPrefix(bytes.TrimSpace(b), []byte("module "+ModulePath+"\n"))
}

// SourceHash is the asset hash of a function: SHA-256 over the build flags, the command name,
// go.mod, go.sum and every non-test Go file under lambdas/, by path relative to the module root.
// It depends on the sources only, so every checkout and toolchain gives the same template.
func SourceHash(root, command string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "flags=%q env=%q command=%s\n", BuildFlags, buildEnv, command)
	var files []string
	for _, f := range []string{"go.mod", "go.sum"} {
		files = append(files, f)
	}
	err := filepath.WalkDir(filepath.Join(root, "lambdas"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("passwordless: hashing Lambda sources: %w", err)
	}
	sort.Strings(files)
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f)))
		if err != nil {
			return "", fmt.Errorf("passwordless: hashing Lambda sources: %w", err)
		}
		b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
		fmt.Fprintf(h, "%s %d\n", f, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// BootstrapMode is the file mode of every bootstrap binary: Lambda runs it only if it is
// executable by everyone (else every invocation fails with Runtime.InvalidEntrypoint).
const BootstrapMode fs.FileMode = 0o755

// BuildBootstrap builds lambdas/cmd/<command> of the module at root into outDir/bootstrap, with
// mode BootstrapMode whatever the umask (go build leaves the mode to it: 0750 under umask 027).
func BuildBootstrap(root, command, outDir string) error {
	out := filepath.Join(outDir, "bootstrap")
	args := append([]string{"build"}, BuildFlags...)
	args = append(args, "-o", out, "./lambdas/cmd/"+command)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), buildEnv...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("passwordless: go build %s in %s: %w\n%s", command, root, err, stderr.String())
	}
	if err := os.Chmod(out, BootstrapMode); err != nil {
		return fmt.Errorf("passwordless: go build %s: %w", command, err)
	}
	return nil
}

// BundleZip is the name of the archive the bundler leaves in a function's asset directory.
const BundleZip = "bootstrap.zip"

// zipEpoch is the time of every archive entry, so the same binary gives the same archive.
var zipEpoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// BundleBootstrap builds lambdas/cmd/<command> and leaves outDir/bootstrap.zip: the bootstrap as
// its one entry, with BootstrapMode recorded in the archive. CDK uploads that archive as it is
// (BundlingOutput ARCHIVED), so the mode no longer depends on the deploying machine: cdk-assets
// would otherwise zip the staged file with the mode it finds there, which is the umask's on Unix
// and never executable on Windows.
func BundleBootstrap(root, command, outDir string) error {
	tmp, err := os.MkdirTemp(outDir, ".build-")
	if err != nil {
		return fmt.Errorf("passwordless: bundling %s: %w", command, err)
	}
	defer os.RemoveAll(tmp)
	if err := BuildBootstrap(root, command, tmp); err != nil {
		return err
	}
	if err := writeBootstrapZip(filepath.Join(tmp, "bootstrap"), filepath.Join(outDir, BundleZip)); err != nil {
		return fmt.Errorf("passwordless: bundling %s: %w", command, err)
	}
	return nil
}

// writeBootstrapZip writes the binary at bin into a new archive at dst as "bootstrap".
func writeBootstrapZip(bin, dst string) (err error) {
	src, err := os.Open(bin)
	if err != nil {
		return err
	}
	defer src.Close()
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, f.Close()) }()
	zw := zip.NewWriter(f)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: zipEpoch}
	h.SetMode(BootstrapMode)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, src); err != nil {
		return err
	}
	return zw.Close()
}

// goBuild is the local bundler CDK calls when it stages a function's asset.
type goBuild struct {
	root, command string
}

// TryBundle implements awscdk.ILocalBundling. It never falls back to Docker: a failed build panics
// with the compiler's output, which fails the synth.
func (g *goBuild) TryBundle(outputDir *string, _ *awscdk.BundlingOptions) *bool {
	if err := BundleBootstrap(g.root, g.command, *outputDir); err != nil {
		panic(err)
	}
	return jsii.Bool(true)
}

// functionCode returns the asset of lambdas/cmd/<command>, built by go build and archived with its
// mode (BundleBootstrap) when CDK bundles, and hashed from the sources either way.
func functionCode(command string) awslambda.Code {
	root, err := moduleRoot()
	if err != nil {
		panic(err)
	}
	hash, err := SourceHash(root, command)
	if err != nil {
		panic(err)
	}
	return awslambda.Code_FromAsset(jsii.String(filepath.Join(root, "lambdas", "cmd", command)), &awss3assets.AssetOptions{
		AssetHash:     jsii.String(hash),
		AssetHashType: awscdk.AssetHashType_CUSTOM,
		Bundling: &awscdk.BundlingOptions{
			// Never pulled: the local bundler always succeeds or fails the synth.
			Image:      awscdk.DockerImage_FromRegistry(jsii.String("local-go-build")),
			Local:      &goBuild{root: root, command: command},
			OutputType: awscdk.BundlingOutput_ARCHIVED,
		},
	})
}
