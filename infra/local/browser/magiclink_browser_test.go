//go:build unix

package browser

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/passwordless-go/cognito/constructs/cfn"
	"github.com/passwordless-go/cognito/constructs/passwordless"
	"github.com/passwordless-go/cognito/infra/local/apigw"
	"github.com/passwordless-go/cognito/infra/local/harness"
	"github.com/passwordless-go/cognito/infra/local/signin"
	"github.com/passwordless-go/cognito/lambdas/dynalitetest"
	"github.com/passwordless-go/cognito/lambdas/magiclink"
)

//go:embed magiclink.html
var magicLinkHTML []byte

// The README's client code for magic links lies between these markers, in a ```js block.
const (
	clientBegin = "<!-- magic-link-client:begin -->"
	clientEnd   = "<!-- magic-link-client:end -->"
	// clientFile is the same code beside this test, used only while README.md lacks the markers.
	clientFile = "magiclink-client.js"
)

// TestMagicLinkClientInREADME: the README's client code (the markers' block) is the code beside
// this test (clientFile), byte for byte, so the browser test and the README cannot drift apart.
func TestMagicLinkClientInREADME(t *testing.T) {
	code, from := signin.READMEBlock(t, clientBegin, clientEnd, clientFile)
	if from != "README.md" {
		t.Skip("README.md has no client block yet")
	}
	file, err := os.ReadFile(clientFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(code, file) {
		t.Fatalf("README.md's magic-link client code differs from infra/local/browser/%s: keep them identical", clientFile)
	}
	for _, name := range []string{"function requestMagicLink(email, redirectUrl)", "function readMagicLinkFromLocation()", "function completeMagicLink(link)"} {
		if !bytes.Contains(code, []byte(name)) {
			t.Errorf("the client code has no %s", name)
		}
	}
}

func TestExtractClient(t *testing.T) {
	signin.CheckExtractBlock(t, clientBegin, clientEnd)
}

// siteConfig is what the test page learns from /config.js.
type siteConfig struct {
	CognitoURL string `json:"cognitoURL"`
	ClientID   string `json:"clientId"`
	APIURL     string `json:"apiURL"`
	SameDevice bool   `json:"sameDevice"`
}

// site is the app's web server: the sign-in page at /, the landing page at /landing (the magic
// links' redirect URL), the README's client code at /magiclink-client.js and the harness's
// endpoints at /config.js (set once the harness runs: the origin must be known before).
type site struct {
	origin string
	mu     sync.Mutex
	config []byte
}

// landingURL is the redirect URL the stack allows.
func (s *site) landingURL() string { return s.origin + "/landing" }

func (s *site) setConfig(c siteConfig) {
	b, _ := json.Marshal(c)
	s.mu.Lock()
	s.config = []byte("window.testConfig = " + string(b) + ";\n")
	s.mu.Unlock()
}

// serveSite starts the site with client as the client code; its origin is
// http://localhost:<port>, a secure context (see serveLocalhost).
func serveSite(t *testing.T, client []byte) *site {
	t.Helper()
	s := &site{}
	page := route{"text/html; charset=utf-8", func() []byte { return magicLinkHTML }}
	s.origin = serveLocalhost(t, map[string]route{
		"/":                    page,
		"/landing":             page,
		"/magiclink-client.js": {"text/javascript; charset=utf-8", func() []byte { return client }},
		"/config.js": {"text/javascript; charset=utf-8", func() []byte {
			s.mu.Lock()
			defer s.mu.Unlock()
			return s.config
		}},
	})
	return s
}

// magicLinkProps enables email_otp (whose first sign-in verifies the address) and magic_link to
// the site's landing page, with the site's origin allowed to call the HTTP API.
func magicLinkProps(s *site, sameDevice bool) *passwordless.Props {
	return &passwordless.Props{
		Methods:        []passwordless.Method{passwordless.EmailOTP, passwordless.MagicLink},
		Aliases:        passwordless.Aliases{Email: true},
		Email:          &passwordless.EmailProps{From: "no-reply@example.com"},
		AllowedOrigins: []string{s.origin},
		MagicLink:      &passwordless.MagicLinkProps{RedirectURLs: []string{s.landingURL()}, SameDevice: sameDevice},
	}
}

// startStack starts the harness with props (signin.StartHarness: its log is printed when the
// test fails).
func startStack(ctx context.Context, t *testing.T, props *passwordless.Props) *stack {
	t.Helper()
	return newStack(signin.StartHarness(ctx, t, harness.Options{Props: props}))
}

// templateCORS is the CORS configuration of the template's HTTP API (the construct's
// AllowedOrigins).
func templateCORS(t testing.TB, h *harness.Harness) *apigw.CORS {
	t.Helper()
	apis := cfn.Resources(h.Template(), "AWS::ApiGatewayV2::Api")
	if len(apis) != 1 {
		t.Fatalf("%d AWS::ApiGatewayV2::Api in the template, want 1", len(apis))
	}
	for _, p := range apis {
		raw, ok := p["CorsConfiguration"].(map[string]any)
		if !ok {
			t.Fatalf("the HTTP API has no CorsConfiguration: %v", p)
		}
		c, err := apigw.ParseCORS(raw)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	return nil
}

// apiCORS checks that the local HTTP API applies the template's CORS configuration, as API
// Gateway does (the harness gives it apigw.Config.CORS from the template).
func apiCORS(t testing.TB, h *harness.Harness, origin string) {
	t.Helper()
	want := templateCORS(t, h)
	if len(want.AllowOrigins) != 1 || want.AllowOrigins[0] != origin {
		t.Fatalf("template CORS origins %v, want [%s]", want.AllowOrigins, origin)
	}
	got := h.API.CORS()
	if got == nil {
		t.Fatal("the harness does not give the local HTTP API the template's CORS configuration")
	}
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if !bytes.Equal(gb, wb) {
		t.Fatalf("the local HTTP API's CORS %s, the template's %s", gb, wb)
	}
}

// sentLink is what requestMagicLink answers.
type sentLink struct {
	Destination string  `json:"destination"`
	CodeStatus  string  `json:"codeStatus"`
	ExpiresIn   float64 `json:"expiresIn"`
	ResendAfter float64 `json:"resendAfter"`
}

// landingState is what the landing page recorded when it read the fragment.
type landingState struct {
	HadFragment bool   `json:"hadFragment"`
	Error       string `json:"error"`
	Href        string `json:"hrefAfterRead"`
	Link        *struct {
		UserName string `json:"userName"`
		Expired  bool   `json:"expired"`
	} `json:"link"`
}

// landingResult is what the landing page did after the click.
type landingResult struct {
	Trusted      bool   `json:"trusted"`
	AccessToken  string `json:"accessToken"`
	IDToken      string `json:"idToken"`
	RefreshToken bool   `json:"refreshToken"`
	Error        string `json:"error"`
	Message      string `json:"message"`
	Href         string `json:"href"`
	APIError     string `json:"apiError"`
	API          *struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	} `json:"api"`
}

// requestLink runs the README's requestMagicLink(email, redirectURL) on the page.
func (c *chromium) requestLink(t *testing.T, email, redirectURL string) sentLink {
	t.Helper()
	return awaitJSON[sentLink](t, c, "requestLink("+jsString(email)+", "+jsString(redirectURL)+")",
		"requestMagicLink in the page", "requestMagicLink")
}

// awaitJSON evaluates expr in the tab, a promise of a JSON text, waits for it (stepTimeout) and
// decodes it into a T. It fails the test with step when the evaluation fails and with who (what
// answered) when the text is not a T.
func awaitJSON[T any](t *testing.T, c *chromium, expr, step, who string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, stepTimeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", step, err)
	}
	var v T
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		t.Fatalf("%s answered %q: %v", who, raw, err)
	}
	return v
}

// open navigates the tab to a link and returns what the landing page recorded on loading and
// the tab's location then.
func (c *chromium) open(t *testing.T, link string) (landingState, string) {
	t.Helper()
	if err := c.do(chromedp.Navigate(link)); err != nil {
		t.Fatalf("navigate to the link: %v", err)
	}
	ctx, cancel := context.WithTimeout(c.ctx, stepTimeout)
	defer cancel()
	st, err := chromedp.Run(ctx, chromedp.Evaluate[landingState]("window.landing"))
	if err != nil {
		t.Fatalf("landing state: %v", err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatalf("location: %v", err)
	}
	return st, loc
}

// deviceSecret returns what the README's code keeps in this tab's localStorage for sameDevice.
func (c *chromium) deviceSecret(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`localStorage.getItem("magicLinkDevice") || ""`))
	if err != nil {
		t.Fatalf("localStorage: %v", err)
	}
	return s
}

// signIn clicks the landing page's "Sign in" button (a real mouse click through the DevTools
// protocol) and waits for what the page did.
func (c *chromium) signIn(t *testing.T) landingResult {
	t.Helper()
	if err := c.do(chromedp.Click(chromedp.CSS("#signin"))); err != nil {
		t.Fatalf("click Sign in: %v", err)
	}
	return awaitJSON[landingResult](t, c, "window.landingDone", "landing page after the click", "landing page")
}

// linkPattern finds a magic link in an email's text.
var linkPattern = regexp.MustCompile(`\S+#` + magiclink.FragmentParam + `=[A-Za-z0-9_-]+`)

// emailedLink waits for the n-th message to email and returns the one link in it, which must
// go to redirectURL and carry user name u in its fragment.
func (s *stack) emailedLink(ctx context.Context, t *testing.T, email string, n int, redirectURL, u string) string {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	msg, err := s.h.AWS.WaitMessage(wctx, email, n)
	if err != nil {
		t.Fatalf("message %d to %s: %v", n, email, err)
	}
	found := linkPattern.FindAllString(msg.Text, -1)
	if len(found) != 1 || !strings.HasPrefix(found[0], redirectURL+"#"+magiclink.FragmentParam+"=") {
		t.Fatalf("link email: want one link to %s, found %q in %q", redirectURL, found, msg.Text)
	}
	l, err := magiclink.ParseFragment(found[0])
	if err != nil || l.UserName != u {
		t.Fatalf("link %s: user %q (%v), want %q", found[0], l.UserName, err, u)
	}
	return found[0]
}

// checkLanding asserts that the landing page read a well-formed, unexpired link for user u and
// removed the fragment from the address before anything else.
func checkLanding(t *testing.T, what string, st landingState, loc, landingURL, u string) {
	t.Helper()
	if !st.HadFragment || st.Error != "" || st.Link == nil || st.Link.UserName != u || st.Link.Expired {
		t.Fatalf("%s: landing page state %+v, want an unexpired link for %s", what, st, u)
	}
	if st.Href != landingURL || loc != landingURL || strings.Contains(loc, "#") {
		t.Fatalf("%s: location after reading the link %q (page saw %q), want %q without the fragment", what, loc, st.Href, landingURL)
	}
}

// checkSignedIn asserts that the click signed user sub in and that the page then called the
// HTTP API with the access token across origins (GET /me, a route every stack has).
func checkSignedIn(t *testing.T, what string, r landingResult, sub, landingURL string) {
	t.Helper()
	if r.Error != "" || r.AccessToken == "" || r.IDToken == "" || !r.RefreshToken {
		t.Fatalf("%s: no tokens: %s: %s", what, r.Error, r.Message)
	}
	if !r.Trusted {
		t.Fatalf("%s: the click was not a user action", what)
	}
	if c := signin.JWTClaims(t, r.AccessToken); c["sub"] != sub || c["token_use"] != "access" {
		t.Fatalf("%s: access token sub %v token_use %v, want %s", what, c["sub"], c["token_use"], sub)
	}
	if r.API == nil || r.API.Status != http.StatusOK {
		t.Fatalf("%s: GET /me from the page: %+v %s", what, r.API, r.APIError)
	}
	var me struct{ Sub string }
	if err := json.Unmarshal([]byte(r.API.Body), &me); err != nil || me.Sub != sub {
		t.Fatalf("%s: GET /me body %q (%v), want sub %s", what, r.API.Body, err, sub)
	}
	if r.Href != landingURL {
		t.Fatalf("%s: location after signing in %q, want %q", what, r.Href, landingURL)
	}
}

// checkRefused asserts that the click got no tokens and the README's "link refused" error.
func checkRefused(t *testing.T, what string, r landingResult) {
	t.Helper()
	if r.AccessToken != "" || r.Error != "LinkRefused" {
		t.Fatalf("%s: error %q (%s), tokens %v, want LinkRefused and no tokens", what, r.Error, r.Message, r.AccessToken != "")
	}
}

// browserMagicLink is the start both magic-link browser tests share: Chromium and dynalite
// present, the site serving the README's client code, the stack with props for the site, a user
// whose email address is verified (signed in once by email code), and Chromium on the sign-in
// page.
type browserMagicLink struct {
	site  *site
	s     *stack
	br    *chromium
	email string
	sub   string
}

func startBrowserMagicLink(t *testing.T, sameDevice bool) *browserMagicLink {
	t.Helper()
	exec := findChromium(t)
	dynalitetest.Require(t)
	// A cleanup, not a defer: the browser's context derives from ctx, and the failure screenshot
	// (a cleanup) needs the browser.
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	t.Cleanup(cancel)
	client, from := signin.READMEBlock(t, clientBegin, clientEnd, clientFile)
	b := &browserMagicLink{site: serveSite(t, client)}
	b.s = startStack(ctx, t, magicLinkProps(b.site, sameDevice))
	h := b.s.h
	b.site.setConfig(siteConfig{CognitoURL: h.CognitoURL, ClientID: h.ClientID, APIURL: h.APIURL, SameDevice: sameDevice})
	apiCORS(t, h, b.site.origin)
	if env := h.Env("create"); !strings.Contains(env["MAGIC_LINK_URLS"], b.site.landingURL()) {
		t.Fatalf("create's MAGIC_LINK_URLS %q, want %s", env["MAGIC_LINK_URLS"], b.site.landingURL())
	}
	t.Logf("client code from %s; site %s", from, b.site.origin)

	b.email = uniqueEmail("ml-browser")
	b.sub = b.s.signUp(ctx, t, b.email)
	b.s.emailCodeSignIn(ctx, t, b.email, 1) // verifies the address: links go only to verified ones

	b.br = startBrowser(ctx, t, exec, b.site.origin+"/")
	info, err := b.br.info()
	if err != nil || info.Origin != b.site.origin || !info.Secure {
		t.Fatalf("sign-in page: origin %q secure %v (%v), want %s in a secure context", info.Origin, info.Secure, err, b.site.origin)
	}
	return b
}

// request asks for a link on the sign-in page and returns the link emailed (the n-th message).
func (b *browserMagicLink) request(t *testing.T, n int) string {
	t.Helper()
	sent := b.br.requestLink(t, b.email, b.site.landingURL())
	if sent.CodeStatus != "sent" || sent.Destination == "" || strings.Contains(sent.Destination, b.email) ||
		sent.ExpiresIn < 60 || sent.ExpiresIn > 3600 {
		t.Fatalf("requestMagicLink answered %+v: want codeStatus sent, a masked destination, expiresIn in [60, 3600]", sent)
	}
	return b.s.emailedLink(context.Background(), t, b.email, n, b.site.landingURL(), b.sub)
}

// initiateCalls is how many InitiateAuth calls the user pool has had.
func (b *browserMagicLink) initiateCalls() int { return b.s.h.IdP.Stats().Calls["InitiateAuth"] }

// TestMagicLinkInChromium runs the README's magic-link client code in headless Chromium: the
// sign-in page (an allowed origin) asks for a link through Cognito's JSON API; the link from the
// captured email opens in a private browser context (another device, no storage shared); the
// landing page removes the fragment from the address at once, sends nothing until one click,
// then signs in and calls the HTTP API with the access token across origins (CORS of both
// endpoints, preflights included); the same link opened again is refused.
func TestMagicLinkInChromium(t *testing.T) {
	b := startBrowserMagicLink(t, false)
	link := b.request(t, 2)
	landing := b.site.landingURL()

	other := b.br.newTab(t, true)
	before := b.initiateCalls()
	st, loc := other.open(t, link)
	checkLanding(t, "the link on another device", st, loc, landing, b.sub)
	if n := b.initiateCalls(); n != before {
		t.Fatalf("opening the link called InitiateAuth %d times before any click", n-before)
	}
	preflights := b.s.h.API.Calls()[apigw.CallsPreflight]
	r := other.signIn(t)
	checkSignedIn(t, "the link on another device", r, b.sub, landing)
	if n := b.s.h.API.Calls()[apigw.CallsPreflight]; n <= preflights {
		t.Fatalf("the page's API call sent no CORS preflight (%d before, %d after)", preflights, n)
	}
	other.note("signed in with the link")

	again := b.br.newTab(t, true)
	st, loc = again.open(t, link)
	checkLanding(t, "the same link again", st, loc, landing, b.sub)
	checkRefused(t, "the same link again", again.signIn(t))
}

// TestMagicLinkSameDeviceInChromium runs the README's client code with sameDevice on a stack
// with MagicLink.SameDevice: the link opened in another browser (a private context, without the
// asking page's localStorage) is refused; in a new tab of the browser that asked it signs in;
// then it is used up.
func TestMagicLinkSameDeviceInChromium(t *testing.T) {
	b := startBrowserMagicLink(t, true)
	link := b.request(t, 2)
	landing := b.site.landingURL()
	if secret := b.br.deviceSecret(t); len(secret) != 43 {
		t.Fatalf("the asking page keeps device secret %q, want 32 random bytes in base64url", secret)
	}

	other := b.br.newTab(t, true)
	st, loc := other.open(t, link)
	checkLanding(t, "the link in another browser", st, loc, landing, b.sub)
	if secret := other.deviceSecret(t); secret != "" {
		t.Fatalf("a private context shares the device secret %q", secret)
	}
	checkRefused(t, "the link in another browser", other.signIn(t))

	same := b.br.newTab(t, false)
	st, loc = same.open(t, link)
	checkLanding(t, "the link in the asking browser", st, loc, landing, b.sub)
	checkSignedIn(t, "the link in the asking browser", same.signIn(t), b.sub, landing)

	again := b.br.newTab(t, false)
	st, loc = again.open(t, link)
	checkLanding(t, "the same link again", st, loc, landing, b.sub)
	checkRefused(t, "the same link again", again.signIn(t))
}
