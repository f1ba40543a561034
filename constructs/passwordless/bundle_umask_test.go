//go:build unix

package passwordless

import (
	"archive/zip"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// envUmaskOut tells the re-executed test binary to build under a restrictive umask into the
// directory it names.
const envUmaskOut = "PASSWORDLESS_TEST_UMASK_OUT"

// TestBootstrapModeUnderUmask: issue 11 item 3. cdk-assets zips a file with the mode it finds and
// Lambda runs `bootstrap` only if it is executable by everyone (else Runtime.InvalidEntrypoint).
// The bundler must not leave that to the machine's umask: built under umask 027 (which makes
// go build write 0750), the bootstrap is still 0755, and the archive the bundler hands to CDK
// records 0755 whatever the file system says (so a Windows checkout deploys too), byte for byte
// the same on every bundle. The umask is process-wide, so the builds run in a re-executed copy of
// this test binary and never touch the other tests' files.
func TestBootstrapModeUnderUmask(t *testing.T) {
	if out := os.Getenv(envUmaskOut); out != "" {
		syscall.Umask(0o027)
		root, err := moduleRoot()
		if err != nil {
			t.Fatal(err)
		}
		for _, dir := range []string{"bin", "asset", "again"} {
			if err := os.Mkdir(filepath.Join(out, dir), 0o777); err != nil {
				t.Fatal(err)
			}
		}
		if err := BuildBootstrap(root, "define", filepath.Join(out, "bin")); err != nil {
			t.Fatal(err)
		}
		for _, dir := range []string{"asset", "again"} {
			if err := BundleBootstrap(root, "define", filepath.Join(out, dir)); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	if testing.Short() {
		t.Skip("builds a Lambda; run without -short")
	}
	out := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBootstrapModeUnderUmask$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), envUmaskOut+"="+out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build under umask 027: %v\n%s", err, b)
	}
	fi, err := os.Stat(filepath.Join(out, "bin", "bootstrap"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o755 {
		t.Errorf("bootstrap built under umask 027 has mode %v, want -rwxr-xr-x (0755)", fi.Mode().Perm())
	}

	// The asset directory holds the archive alone (CDK's ARCHIVED output wants exactly one).
	entries, err := os.ReadDir(filepath.Join(out, "asset"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != BundleZip {
		t.Fatalf("asset directory holds %v, want only %s", entries, BundleZip)
	}
	a, err := os.ReadFile(filepath.Join(out, "asset", BundleZip))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(out, "again", BundleZip))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("two bundles of the same sources differ")
	}
	zr, err := zip.NewReader(bytes.NewReader(a), int64(len(a)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" {
		t.Fatalf("archive entries %v, want bootstrap alone", zr.File)
	}
	if m := zr.File[0].Mode(); m.Perm() != 0o755 || !m.IsRegular() {
		t.Errorf("archived bootstrap has mode %v, want -rwxr-xr-x", m)
	}
	bin, _ := os.ReadFile(filepath.Join(out, "bin", "bootstrap"))
	rc, err := zr.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var got bytes.Buffer
	if _, err := got.ReadFrom(rc); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), bin) {
		t.Error("archived bootstrap differs from the built one")
	}
}
