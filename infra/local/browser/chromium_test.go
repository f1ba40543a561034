//go:build unix

package browser

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/passwordless-go/cognito/infra/local/signin"
)

// chromium is one headless Chromium with one tab on the test page and a virtual authenticator.
type chromium struct {
	ctx  context.Context // the tab's chromedp context (bounded by the test's deadline)
	auth webauthn.AuthenticatorID
	out  *signin.LogBuffer // Chromium's own output
}

// stepTimeout bounds every single browser call.
const stepTimeout = 30 * time.Second

// startChromium is startBrowser plus a virtual authenticator (CTAP2, internal transport,
// resident keys, user verification that succeeds, presence simulated).
func startChromium(ctx context.Context, t *testing.T, exec, pageURL string) *chromium {
	t.Helper()
	c := startBrowser(ctx, t, exec, pageURL)
	if _, err := callStep(c, webauthn.Enable, webauthn.EnableParams{EnableUI: new(false)}); err != nil {
		t.Fatalf("WebAuthn.enable: %v", err)
	}
	res, err := callStep(c, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol:                    webauthn.AuthenticatorProtocolCtap2,
			Ctap2version:                webauthn.Ctap2versionCtap21,
			Transport:                   webauthn.AuthenticatorTransportInternal,
			HasResidentKey:              true,
			HasUserVerification:         true,
			IsUserVerified:              true,
			AutomaticPresenceSimulation: true,
		},
	})
	if err != nil {
		t.Fatalf("WebAuthn.addVirtualAuthenticator: %v", err)
	}
	c.auth = res.AuthenticatorID
	return c
}

// startBrowser launches exec headless with a fresh profile and opens pageURL in its first tab.
// Chromium reaches nothing but loopback: no proxy, and every host but localhost and 127.0.0.1
// (where the harness listens; the resolver rules apply to IP literals too) fails to resolve.
// Everything is stopped by t.Cleanup; a failing test leaves a screenshot and the page's
// log.
func startBrowser(ctx context.Context, t *testing.T, exec, pageURL string) *chromium {
	t.Helper()
	profile, err := os.MkdirTemp("", "browser-profile-")
	if err != nil {
		t.Fatal(err)
	}
	c := &chromium{out: &signin.LogBuffer{}}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(exec),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"),
		chromedp.WindowSize(1000, 800),
		chromedp.UserDataDir(profile),
		chromedp.CombinedOutput(c.out),
	)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	c.ctx = tabCtx
	t.Cleanup(func() {
		// Close the browser gracefully, then make sure the process is gone (the allocator's cancel
		// waits for it) before removing the profile.
		cctx, cancel := context.WithTimeout(tabCtx, 10*time.Second)
		_ = chromedp.Cancel(cctx)
		cancel()
		cancelTab()
		cancelAlloc()
		_ = os.RemoveAll(profile)
		if t.Failed() {
			if out := c.out.Tail(40); out != "" {
				t.Logf("chromium output (last lines):\n%s", out)
			}
		}
	})

	// The first call starts the browser, bound to tabCtx (not to a step's timeout).
	if err := chromedp.Do(tabCtx); err != nil {
		t.Fatalf("starting chromium %s: %v", exec, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			c.failureReport(t)
		}
	})
	if err := c.do(chromedp.Navigate(pageURL)); err != nil {
		t.Fatalf("navigate to %s: %v", pageURL, err)
	}
	return c
}

// newTab opens a tab of the same browser: in the same BrowserContext as c (shared storage: the
// same device and browser), or in a new one (private: nothing of c's storage, as another device
// or browser). The tab is closed by t.Cleanup (a private BrowserContext with it); a failing test
// leaves its screenshot and page log.
func (c *chromium) newTab(t *testing.T, private bool) *chromium {
	t.Helper()
	var opts []chromedp.ContextOption
	if private {
		opts = append(opts, chromedp.WithNewBrowserContext())
	}
	tabCtx, cancel := chromedp.NewContext(c.ctx, opts...)
	tab := &chromium{ctx: tabCtx, out: c.out}
	t.Cleanup(cancel)
	// The first call creates the tab, bound to tabCtx (not to a step's timeout).
	if err := chromedp.Do(tabCtx); err != nil {
		t.Fatalf("new tab (private %v): %v", private, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			tab.failureReport(t)
		}
	})
	return tab
}

// do runs actions within stepTimeout.
func (c *chromium) do(actions ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(c.ctx, stepTimeout)
	defer cancel()
	return chromedp.Do(ctx, actions...)
}

// callStep runs one protocol command on the tab within stepTimeout.
func callStep[P, R any](c *chromium, cmd cdp.Command[P, R], params P) (R, error) {
	ctx, cancel := context.WithTimeout(c.ctx, stepTimeout)
	defer cancel()
	return chromedp.Call(ctx, cmd, params)
}

// userGesture runs an evaluation as if the user had clicked, as a sign-in button would.
func userGesture(p *runtime.EvaluateParams) { p.UserGesture = new(true) }

// call awaits the page's async function fn with one string argument and returns its string
// result.
func (c *chromium) call(fn, arg string) (string, error) {
	ctx, cancel := context.WithTimeout(c.ctx, stepTimeout)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[string](fn+"("+jsString(arg)+")", chromedp.EvalAwaitPromise, userGesture))
}

// create runs navigator.credentials.create in the page with the registration options JSON and
// returns the credential JSON.
func (c *chromium) create(optionsJSON []byte) (string, error) {
	return c.call("passkeyCreate", string(optionsJSON))
}

// get runs navigator.credentials.get in the page with request options JSON and returns the
// assertion JSON.
func (c *chromium) get(optionsJSON []byte) (string, error) {
	return c.call("passkeyGet", string(optionsJSON))
}

// note writes a line into the page's log (it shows in a failure screenshot).
func (c *chromium) note(format string, args ...any) {
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	_ = chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void]("pageLog("+jsString(fmt.Sprintf(format, args...))+")"))
}

// pageInfo is what the page reports about itself.
type pageInfo struct {
	Origin    string          `json:"origin"`
	Secure    bool            `json:"secure"`
	Native    map[string]bool `json:"native"`
	UserAgent string          `json:"userAgent"`
}

func (c *chromium) info() (pageInfo, error) {
	ctx, cancel := context.WithTimeout(c.ctx, stepTimeout)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[pageInfo]("pageInfo()"))
}

// credentials returns the virtual authenticator's credentials.
func (c *chromium) credentials() ([]*webauthn.Credential, error) {
	res, err := callStep(c, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: c.auth})
	return res.Credentials, err
}

// failureReport saves a screenshot of the page to a temporary file and logs the page's log.
func (c *chromium) failureReport(t *testing.T) {
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	if text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`)); err == nil {
		t.Logf("page text at failure:\n%s", text)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot failed: %v", err)
		return
	}
	f, err := os.CreateTemp("", "browser-failure-*.png")
	if err != nil {
		t.Logf("screenshot: %v", err)
		return
	}
	_, werr := f.Write(png)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		t.Logf("screenshot: %v", werr)
		return
	}
	t.Logf("screenshot of the page at failure: %s", f.Name())
}
