//go:build unix

package amplify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/passwordless-go/cognito/infra/local/harness"
	"github.com/passwordless-go/cognito/infra/local/signin"
)

// AmplifyVersion is the aws-amplify release the README's client is proven with; the Makefile's
// tools target installs exactly this version into .tools/node_modules.
const AmplifyVersion = "6.22.1"

// Environment of the test.
const (
	EnvNodeBin     = "NODE_BIN"             // explicit path to node (default: node on PATH)
	EnvNodeModules = "AMPLIFY_NODE_MODULES" // explicit node_modules holding aws-amplify (default: <repo>/.tools/node_modules)
	EnvRequireNode = "REQUIRE_NODE"         // "1": a missing Node or aws-amplify fails the test
)

// minNodeMajor is the oldest Node that runs the client (fetch, WebCrypto and btoa as globals).
const minNodeMajor = 20

// The README's Amplify client lies between these markers, in a ```js block.
const (
	clientBegin = "<!-- amplify-client:begin -->"
	clientEnd   = "<!-- amplify-client:end -->"
	// clientFile is the same code beside this test, used only while README.md lacks the markers.
	clientFile = "amplify-client.mjs"
)

// nodeSetup is what the test runs the client with.
type nodeSetup struct {
	node, version string // the node binary and its version ("v22.11.0")
	modules       string // node_modules holding aws-amplify at AmplifyVersion
}

// needNode finds Node and aws-amplify at AmplifyVersion. When either is missing it fails the test
// if REQUIRE_NODE=1 or the repository has a .tools directory (make tools ran: CI), and skips it
// otherwise with one line saying how to install them.
func needNode(t testing.TB) nodeSetup {
	t.Helper()
	root, err := harness.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	s, err := findNode(root)
	if err == nil {
		return s
	}
	tools := filepath.Join(root, ".tools")
	_, statErr := os.Stat(tools)
	msg := fmt.Sprintf("the Amplify JS v6 client test (infra/local/amplify) cannot run: %v; install them with `make tools` "+
		"(Node %d or later, 22 or 24 recommended, then npm installs aws-amplify@%s into .tools/node_modules), "+
		"or set %s and %s", err, minNodeMajor, AmplifyVersion, EnvNodeBin, EnvNodeModules)
	switch {
	case os.Getenv(EnvRequireNode) == "1":
		t.Fatalf("%s (%s=1 makes this a failure)", msg, EnvRequireNode)
	case statErr == nil:
		t.Fatalf("%s (%s exists, so make tools ran and this is a failure)", msg, tools)
	}
	fmt.Fprintln(os.Stderr, "SKIPPED "+msg) // go test hides t.Skip's text without -v
	t.Skip("SKIPPED " + msg)
	return nodeSetup{}
}

var errNoNode = errors.New("no usable Node")

func findNode(root string) (nodeSetup, error) {
	var s nodeSetup
	s.node = os.Getenv(EnvNodeBin)
	if s.node == "" {
		p, err := exec.LookPath("node")
		if err != nil {
			return s, fmt.Errorf("%w: node is not on PATH", errNoNode)
		}
		s.node = p
	}
	out, err := exec.Command(s.node, "--version").Output()
	if err != nil {
		return s, fmt.Errorf("%w: %s --version: %v", errNoNode, s.node, err)
	}
	s.version = strings.TrimSpace(string(out))
	major, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(s.version, "v"), ".", 2)[0])
	if err != nil || major < minNodeMajor {
		return s, fmt.Errorf("%w: %s is Node %q, want %d or later", errNoNode, s.node, s.version, minNodeMajor)
	}
	s.modules = os.Getenv(EnvNodeModules)
	if s.modules == "" {
		s.modules = filepath.Join(root, ".tools", "node_modules")
	}
	pkg, err := os.ReadFile(filepath.Join(s.modules, "aws-amplify", "package.json"))
	if err != nil {
		return s, fmt.Errorf("aws-amplify is not installed in %s: %w", s.modules, err)
	}
	var meta struct{ Version string }
	if err := json.Unmarshal(pkg, &meta); err != nil {
		return s, fmt.Errorf("%s/aws-amplify/package.json: %w", s.modules, err)
	}
	if meta.Version != AmplifyVersion {
		return s, fmt.Errorf("%s has aws-amplify %s, want %s", s.modules, meta.Version, AmplifyVersion)
	}
	return s, nil
}

// TestAmplifyClientInREADME: the README's Amplify client (the markers' block) is the code beside
// this test (clientFile), byte for byte, so the Node test and the README cannot drift apart.
func TestAmplifyClientInREADME(t *testing.T) {
	code, from := signin.READMEBlock(t, clientBegin, clientEnd, clientFile)
	file, err := os.ReadFile(clientFile)
	if err != nil {
		t.Fatal(err)
	}
	if from == "README.md" && !bytes.Equal(code, file) {
		t.Fatalf("README.md's Amplify client code differs from infra/local/amplify/%s: keep them identical", clientFile)
	}
	for _, want := range []string{
		`import { Amplify } from "aws-amplify";`,
		"aws-amplify " + AmplifyVersion,
		`authFlowType: "CUSTOM_WITHOUT_SRP"`,
		"Amplify.configure({ Auth: { Cognito: cognito } })",
		"cognito.userPoolEndpoint = ",
		"confirmSignIn({ challengeResponse, options: { clientMetadata } })",
		`signInMethod: "email_otp"`, `signInMethod: "device_key"`, `signInMethod: "passkey"`,
		`"passwordless-device-key-v1"`,
		"export async function startEmailCodeSignIn(email)",
		"export async function answerEmailCode(code)",
		"export async function signInWithDeviceKey(username, keyId, signPayload)",
		"export async function signInWithPasskey(username, getAssertion = browserAssertion)",
	} {
		if !bytes.Contains(code, []byte(want)) {
			t.Errorf("the client code (%s) has no %s", from, want)
		}
	}
}

func TestExtractClient(t *testing.T) {
	signin.CheckExtractBlock(t, clientBegin, clientEnd)
}
