package passwordless_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/passwordless-go/cognito/constructs/cdktest"
	"github.com/passwordless-go/cognito/constructs/passwordless"
)

// spanishCode is a translated code locale in the default templates' shape (quotes, newlines).
func spanishCode(i int) passwordless.CodeTemplates {
	return passwordless.CodeTemplates{
		EmailSubject: "Tu código de acceso",
		EmailText: strings.Repeat("Tu código de acceso es {{.Code}}.\nCaduca en {{.Minutes}} minutos.\n", 2) +
			"Si no intentaste iniciar sesión, ignora este correo. No compartas este código con nadie.\n",
		EmailHTML: `<p style="font-size:16px">Tu código de acceso es</p>` + "\n" +
			`<p style="font-size:32px;font-weight:bold;letter-spacing:4px">{{.Code}}</p>` + "\n" +
			`<p style="color:#555">Caduca en {{.Minutes}} minutos. Si no intentaste iniciar sesión, ignora este correo.</p>` + "\n" +
			strings.Repeat("x", i),
		SMSText: "{{.Code}} es tu código. Caduca en {{.Minutes}} min.",
	}
}

// TestEnvironmentSizeRefusedAtSynth (found by review): templates within the construct's
// template budget plus a long SMS country list passed New, then failed at deploy on Lambda's
// 4 KB environment, which Lambda measures as the JSON of the variables (each quote and newline
// of a template escaped). Synth refuses it now, naming the function.
func TestEnvironmentSizeRefusedAtSynth(t *testing.T) {
	props := func(locales, rows int) *passwordless.Props {
		p := propSets[1].props(nil) // "full": every method, notifications, observability
		p.SMS.AllowedCountries = strings.Split(
			"AT,BE,BG,HR,CY,CZ,DK,EE,FI,FR,DE,GR,HU,IE,IT,LV,LT,LU,MT,NL,PL,PT,RO,SK,SI,ES,SE,GB,CH,NO,IS,AU,NZ", ",")
		p.Codes.Locales = map[string]passwordless.CodeTemplates{}
		for i, tag := range []string{"es", "fr", "de", "it", "pt", "nl"}[:locales] {
			p.Codes.Locales[tag] = spanishCode(i)
		}
		if rows > 0 {
			p.Codes.Locales["zz"] = passwordless.CodeTemplates{EmailHTML: "<table role=\"presentation\" width=\"100%\">\n" +
				strings.Repeat("<tr><td style=\"padding:8px\" align=\"left\">\n", rows) + "<p>{{.Code}}</p></table>\n"}
		}
		return p
	}
	// As many locales as the template budget lets through, then a branded HTML body (quotes and
	// newlines, as email HTML has) filling what is left of it.
	n := 0
	for n < 6 && props(n+1, 0).WithDefaults().Validate() == nil {
		n++
	}
	rows := 0
	for props(n, rows+1).WithDefaults().Validate() == nil {
		rows++
	}
	if n == 0 || n == 6 || rows == 0 {
		t.Fatalf("%d locales and %d rows fit the template budget; the test wants the budget to be what stops them", n, rows)
	}
	app := cdktest.NewApp(t, cdktest.Options{})
	stack := awscdk.NewStack(app, jsii.String("Test"), nil)
	err := cdktest.Catch(func() {
		passwordless.New(stack, jsii.String("Passwordless"), props(n, rows))
		app.Synth(nil)
	})
	if err == nil || !strings.Contains(err.Error(), "over Lambda's limit of 4096") ||
		!strings.Contains(err.Error(), "CreateAuthChallenge") {
		t.Fatalf("synth with %d locales, %d rows of HTML and 33 SMS countries: err = %v, want the environment of CreateAuthChallenge refused", n, rows, err)
	}
	t.Logf("%d locales and %d rows: %v", n, rows, err)

	// One locale fewer fits.
	app = cdktest.NewApp(t, cdktest.Options{})
	stack = awscdk.NewStack(app, jsii.String("Test"), nil)
	if err := cdktest.Catch(func() {
		passwordless.New(stack, jsii.String("Passwordless"), props(1, 0))
		app.Synth(nil)
	}); err != nil {
		t.Fatalf("synth with 1 locale: %v", err)
	}
}
