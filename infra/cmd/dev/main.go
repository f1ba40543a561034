// Command dev runs the passwordless stack locally (package harness): the construct synthesized
// with the chosen methods, the five functions built for this machine, dynalite, an emulated
// Cognito user pool and the HTTP API with its JWT authorizer, all on 127.0.0.1. It prints the
// endpoints, then every email and SMS the functions send (so you can type the code), every
// CloudWatch metric the functions write (embedded metric format) and every audit event they put
// on EventBridge, one short line each, until Ctrl-C:
//
//	[15:04:05] metric verify SignInSucceeded{Method=email_otp} 1 Count
//	[15:04:05] audit  verify sign_in.succeeded user=3f9a0c51d2e7 method=email_otp
//
//	go run ./infra/cmd/dev
//	go run ./infra/cmd/dev --methods email_otp,device_key --outputs-file local.json
//
// Point an app at it with the Cognito endpoint as the SDK's endpoint (any dummy credentials) and
// the API URL; `go run ./infra/cmd/smoke --outputs local.json --endpoint <Cognito endpoint>` runs
// the smoke test against it (type the printed code when asked).
//
// Flags:
//
//	--methods LIST        sign-in methods (default email_otp,sms_otp,device_key)
//	--outputs-file FILE   also write the endpoints as a CDK outputs file (stack "PasswordlessLocal")
//	--logs                print the functions' log lines to stderr
//	--metrics=false       do not print metrics and audit events
//
// Needs dynalite: DYNALITE_BIN, or `npm install --prefix .tools --no-audit --no-fund dynalite@4.0.0`
// at the module root.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/passwordless-go/cognito/constructs/passwordless"
	"github.com/passwordless-go/cognito/infra/local/awsmock"
	"github.com/passwordless-go/cognito/infra/local/harness"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/dynalitetest"
)

func main() { os.Exit(run()) }

func run() int {
	methods := flag.String("methods", "email_otp,sms_otp,device_key", "comma-separated sign-in methods")
	outputsFile := flag.String("outputs-file", "", "write the endpoints as a CDK outputs file")
	logs := flag.Bool("logs", false, "print the functions' logs to stderr")
	showMetrics := flag.Bool("metrics", true, "print each metric and audit event as it arrives")
	flag.Parse()

	props := harness.DefaultProps()
	props.Methods = nil
	for _, m := range strings.Split(*methods, ",") {
		if m = strings.TrimSpace(m); m == "" {
			continue
		}
		method, err := authflow.ParseMethod(m)
		if err != nil {
			fmt.Fprintln(os.Stderr, "dev:", err)
			return 2
		}
		props.Methods = append(props.Methods, passwordless.Method(method))
	}
	if _, err := dynalitetest.BinaryPath(); err != nil {
		fmt.Fprintln(os.Stderr, "dev: dynalite is needed:", err)
		fmt.Fprintln(os.Stderr, "dev: install it with: npm install --prefix .tools --no-audit --no-fund dynalite@4.0.0")
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var logw io.Writer
	if *logs {
		logw = os.Stderr
	}
	fmt.Println("dev: synthesizing, building the functions and starting dynalite...")
	h, err := harness.Start(ctx, harness.Options{Props: props, Log: logw})
	if err != nil {
		fmt.Fprintln(os.Stderr, "dev:", err)
		return 1
	}
	defer h.Close()
	h.AWS.OnMessage(func(m awsmock.Message) {
		text := strings.TrimSpace(m.Text)
		if m.Medium == awsmock.MediumEmail {
			fmt.Printf("\n[%s] EMAIL to %s: %s\n%s\n", m.At.Format("15:04:05"), m.To, m.Subject, indent(text))
		} else {
			fmt.Printf("\n[%s] %s to %s: %s\n", m.At.Format("15:04:05"), m.Medium, m.To, text)
		}
	})
	if *showMetrics {
		h.OnMetric(func(m harness.Metric) { fmt.Println(metricLine(m)) })
		h.OnAuditEvent(func(a harness.AuditEvent) { fmt.Println(auditLine(a)) })
	}

	fmt.Printf(`dev: up in %s (synth %s, build %s, dynalite %s)

  Cognito endpoint  %s
  user pool ID      %s
  app client ID     %s
  region            %s
  API URL           %s
  JWKS URL          %s
  methods           %s

Messages the functions send are printed below, and metrics and audit events unless
--metrics=false. Ctrl-C stops.
`, h.Startup.Total.Round(time.Millisecond), h.Startup.Synth.Round(time.Millisecond), h.Startup.Build.Round(time.Millisecond),
		h.Startup.Dynalite.Round(time.Millisecond), h.CognitoURL, h.PoolID, h.ClientID, h.Region, h.APIURL+"/", h.JWKSURL, *methods)

	if *outputsFile != "" {
		out := map[string]map[string]string{"PasswordlessLocal": {
			"PasswordlessUserPoolId":       h.PoolID,
			"PasswordlessUserPoolClientId": h.ClientID,
			"PasswordlessApiUrl":           h.APIURL + "/",
			"PasswordlessRegion":           h.Region,
			"CognitoEndpoint":              h.CognitoURL,
		}}
		b, _ := json.MarshalIndent(out, "", "  ")
		if err := os.WriteFile(*outputsFile, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "dev:", err)
			return 1
		}
		fmt.Printf("dev: wrote %s\n", *outputsFile)
	}
	<-ctx.Done()
	fmt.Println("\ndev: stopping")
	if err := h.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "dev:", err)
	}
	return 0
}

// metricLine is the line printed for a metric: its time, "metric" and Metric.String.
func metricLine(m harness.Metric) string {
	return "[" + m.Time.Local().Format("15:04:05") + "] metric " + m.String()
}

// auditLine is the line printed for an audit event: when awsmock took it, "audit" and
// AuditEvent.String.
func auditLine(a harness.AuditEvent) string {
	return "[" + a.At.Local().Format("15:04:05") + "] audit  " + a.String()
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
