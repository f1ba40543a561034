// Command smoke checks a deployed passwordless stack end to end (package smoke): sign-up, an
// email-code sign-in, device-key registration, a device-key sign-in, listing and revoking the key,
// that the revoked key is refused, and the unknown-user check: the same sign-in (InitiateAuth,
// choose email_otp, wrong codes until Cognito ends it) for the new user and for a random address
// at the same domain that has no account, compared. Each step is printed with its duration; the
// exit status is 1 if any step fails (2 for bad flags or outputs).
//
// The unknown-user check fails for any difference the toolkit controls (challenge parameter keys,
// kind, methods, nonce length, the masked destination's shape and whether it follows from the
// address typed, codeStatus, resendAfter, the later rounds, the final error, which must be
// NotAuthorizedException for both, never UserNotFoundException; locally also any message sent to
// the unknown address). A difference in ChallengeParameters.USERNAME, which Cognito chooses (a
// version-4 UUID, the sub, for real users; a version-3 UUID for unknown ones in the one public
// report), prints "WARN" lines saying that the deployment leaks which addresses have an account,
// and does not change the exit status. The check sends the new user one more code (ignore it),
// and its wrong codes (3 with the construct's defaults) count toward the new user's lock.
//
// After `cdk deploy --outputs-file outputs.json`:
//
//	go run ./infra/cmd/smoke --outputs outputs.json --email you@example.com
//
// prompts "enter the code sent to you@example.com: " and reads the emailed code from stdin.
//
// Flags:
//
//	--outputs FILE   the CDK outputs file (default outputs.json); output keys are matched by name
//	                 whatever construct-path prefix and hash suffix CDK gave them
//	--stack NAME     the stack in the outputs file (needed when it holds several)
//	--email ADDR     the address to sign up (default: random @example.com, only useful locally;
//	                 in the SES sandbox it must be a verified address)
//	--endpoint URL   Cognito endpoint override, e.g. the local dev harness's (go run ./infra/cmd/dev
//	                 --outputs-file local.json prints the codes; type them here)
//	--local          ignore --outputs: start the local harness in this process (needs dynalite:
//	                 DYNALITE_BIN or .tools/node_modules/.bin/dynalite) and read the codes from it
//	--timeout D      overall time limit (default 10m)
//
// No AWS credentials are needed: only Cognito's public operations are called.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/passwordless-go/cognito/infra/local/harness"
	"github.com/passwordless-go/cognito/infra/smoke"
)

func main() { os.Exit(run()) }

func run() int {
	outputs := flag.String("outputs", "outputs.json", "CDK outputs file (cdk deploy --outputs-file)")
	stack := flag.String("stack", "", "stack name in the outputs file")
	email := flag.String("email", "", "email address to sign up (default random @example.com)")
	endpoint := flag.String("endpoint", "", "Cognito endpoint override (local harness)")
	local := flag.Bool("local", false, "run against a local harness started in this process")
	timeout := flag.Duration("timeout", 10*time.Minute, "overall time limit")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	cfg := smoke.Config{Email: *email, Endpoint: *endpoint, Codes: smoke.Prompt{In: os.Stdin, Out: os.Stdout}}
	if *local {
		fmt.Println("smoke: starting the local harness...")
		h, err := harness.Start(ctx, harness.Options{})
		if err != nil {
			fmt.Fprintln(os.Stderr, "smoke:", err)
			return 2
		}
		defer h.Close()
		fmt.Printf("smoke: harness up in %s\n", h.Startup.Total.Round(time.Millisecond))
		cfg.Outputs = smoke.Outputs{UserPoolID: h.PoolID, ClientID: h.ClientID, APIURL: h.APIURL, Region: h.Region}
		cfg.Endpoint = h.CognitoURL
		cfg.Codes = &smoke.Mailbox{AWS: h.AWS}
	} else {
		out, err := smoke.ReadOutputs(*outputs, *stack)
		if err != nil {
			fmt.Fprintln(os.Stderr, "smoke:", err)
			return 2
		}
		cfg.Outputs = out
	}
	if _, err := smoke.Run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}
