package awsmock_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/passwordless-go/cognito/infra/local/awsmock"
	"github.com/passwordless-go/cognito/infra/local/idp"
	"github.com/passwordless-go/cognito/lambdas/awsapi"
)

func apiClient(t *testing.T, e *env) *awsapi.Client {
	t.Helper()
	c, err := awsapi.New(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// apiStatus is the HTTP status of an awsapi error.
func apiStatus(err error) int {
	var h interface{ HTTPStatusCode() int }
	if errors.As(err, &h) {
		return h.HTTPStatusCode()
	}
	return 0
}

// TestSecretsManager: GetSecretValue answers a registered secret by full ARN, partial ARN or name
// (as the functions' awsapi client asks for it), refuses an unknown one with
// ResourceNotFoundException, counts calls and takes faults.
func TestSecretsManager(t *testing.T) {
	e := start(t)
	c := apiClient(t, e)
	ctx := ctxT(t)

	v, err := awsmock.NewSecretValue()
	if err != nil {
		t.Fatal(err)
	}
	v2, _ := awsmock.NewSecretValue()
	if len(v) != awsmock.SecretLength || strings.Trim(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") != "" || v == v2 {
		t.Fatalf("NewSecretValue: %q, %q", v, v2)
	}
	arn, err := awsmock.SecretARN("eu-west-1", "000000000000", "PasswordlessDeploymentSecret")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(arn, "arn:aws:secretsmanager:eu-west-1:000000000000:secret:PasswordlessDeploymentSecret-") || len(arn) != len("arn:aws:secretsmanager:eu-west-1:000000000000:secret:PasswordlessDeploymentSecret-")+6 {
		t.Fatalf("SecretARN %q", arn)
	}
	if err := e.srv.PutSecret("arn:aws:secretsmanager:eu-west-1:000000000000:secret:nosuffix", v); err == nil {
		t.Fatal("PutSecret took an ARN without the random suffix")
	}
	if err := e.srv.PutSecret(arn, v); err != nil {
		t.Fatal(err)
	}
	partial := strings.TrimSuffix(arn, arn[len(arn)-7:])
	for _, id := range []string{arn, partial, "PasswordlessDeploymentSecret"} {
		got, err := c.GetSecretValue(ctx, id)
		if err != nil || got != v {
			t.Fatalf("GetSecretValue(%s): %q %v", id, got, err)
		}
	}
	if got, ok := e.srv.SecretValue(arn); !ok || got != v {
		t.Fatalf("SecretValue: %q %v", got, ok)
	}
	for _, id := range []string{"Other", arn[:len(arn)-1] + "Z", "arn:aws:secretsmanager:eu-west-1:000000000000:secret:Other-abcdef"} {
		_, err := c.GetSecretValue(ctx, id)
		if apiCode(err) != "ResourceNotFoundException" || apiStatus(err) != http.StatusBadRequest {
			t.Fatalf("GetSecretValue(%s) of an unknown secret: %v (status %d), want 400 ResourceNotFoundException", id, err, apiStatus(err))
		}
		if strings.Contains(err.Error(), v) {
			t.Fatal("an error carries the secret value")
		}
	}
	if got := e.srv.Calls()["secretsmanager.GetSecretValue"]; got != 6 {
		t.Fatalf("calls %d, want 6 (%v)", got, e.srv.Calls())
	}

	// A new value replaces the old one.
	if err := e.srv.PutSecret(arn, v2); err != nil {
		t.Fatal(err)
	}
	if got, err := c.GetSecretValue(ctx, arn); err != nil || got != v2 {
		t.Fatalf("after PutSecret: %q %v", got, err)
	}

	// Faults, as Secrets Manager sends them; the awsapi client retries them.
	e.srv.ResetCalls()
	e.srv.Inject(awsmock.Fault{Service: awsmock.ServiceSecretsManager, Kind: awsmock.Throttle, Count: 1})
	if got, err := c.GetSecretValue(ctx, arn); err != nil || got != v2 {
		t.Fatalf("after one throttled attempt: %q %v", got, err)
	}
	if got := e.srv.Calls()["secretsmanager.GetSecretValue"]; got != 2 {
		t.Fatalf("a throttled call was not retried: %d calls", got)
	}
	e.srv.Inject(awsmock.Fault{Service: awsmock.ServiceSecretsManager, Operation: "GetSecretValue", Kind: awsmock.ServerError})
	_, err = c.GetSecretValue(ctx, arn)
	if apiCode(err) != "InternalServiceError" || apiStatus(err) != http.StatusInternalServerError {
		t.Fatalf("ServerError fault: %v", err)
	}
	e.srv.ClearFaults()
	e.srv.Inject(awsmock.Fault{Service: awsmock.ServiceSecretsManager, Kind: awsmock.Throttle})
	if _, err = c.GetSecretValue(ctx, arn); apiCode(err) != "ThrottlingException" {
		t.Fatalf("Throttle fault: %v", err)
	}
	e.srv.ClearFaults()
}

// TestSecretsManagerUnknownOperation: other Secrets Manager operations are refused and logged.
func TestSecretsManagerUnknownOperation(t *testing.T) {
	e := start(t)
	resp, _ := rawPost(t, e.srv.URL()+"/", "secretsmanager.DeleteSecret", "application/x-amz-json-1.1", `{"SecretId":"x"}`)
	if resp.StatusCode != http.StatusBadRequest || e.srv.Calls()["secretsmanager.DeleteSecret"] != 1 || !strings.Contains(e.logs.String(), "DeleteSecret") {
		t.Fatalf("DeleteSecret: %d, calls %v, log %q", resp.StatusCode, e.srv.Calls(), e.logs.String())
	}
}

// TestCognitoGetUserThroughMock: the api function's GetUser (awsapi, signed, sent to the mock
// as to AWS) reaches the emulated pool, which answers a live token and refuses a revoked one.
func TestCognitoGetUserThroughMock(t *testing.T) {
	e := start(t)
	issue := idp.Handle(func(_ context.Context, ev events.CognitoEventUserPoolsDefineAuthChallenge) (events.CognitoEventUserPoolsDefineAuthChallenge, error) {
		ev.Response.IssueTokens = true
		return ev, nil
	})
	never := idp.Handle(func(_ context.Context, ev events.CognitoEventUserPoolsCreateAuthChallenge) (events.CognitoEventUserPoolsCreateAuthChallenge, error) {
		return ev, errors.New("not used")
	})
	pool, err := idp.New(idp.Config{
		Aliases:  []idp.Alias{idp.AliasEmail},
		Triggers: idp.Triggers{DefineAuthChallenge: "define", CreateAuthChallenge: "create", VerifyAuthChallengeResponse: "create"},
	}, idp.Functions{"define": issue, "create": never})
	if err != nil {
		t.Fatal(err)
	}
	e.srv.SetCognito(pool)
	ctx := ctxT(t)
	cog := e.cognito()
	if _, err := cog.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(pool.ClientID()), Username: aws.String("ana@example.com"), Password: aws.String("Aa1!aaaaaaaaaaaaaaaa")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cog.AdminConfirmSignUp(ctx, &cip.AdminConfirmSignUpInput{UserPoolId: aws.String(pool.PoolID()), Username: aws.String("ana@example.com")}); err != nil {
		t.Fatal(err)
	}
	signIn := func() *ciptypes.AuthenticationResultType {
		out, err := cog.InitiateAuth(ctx, &cip.InitiateAuthInput{AuthFlow: ciptypes.AuthFlowTypeCustomAuth, ClientId: aws.String(pool.ClientID()),
			AuthParameters: map[string]string{"USERNAME": "ana@example.com"}})
		if err != nil || out.AuthenticationResult == nil {
			t.Fatalf("sign-in: %v", err)
		}
		return out.AuthenticationResult
	}
	a, b := signIn(), signIn()
	c := apiClient(t, e)
	got, err := c.GetUser(ctx, aws.ToString(a.AccessToken))
	if err != nil || got.Username == "" {
		t.Fatalf("GetUser through the mock: %+v %v", got, err)
	}
	if e.srv.Calls()["cognito.GetUser"] != 1 || pool.Stats().Calls["GetUser"] != 1 {
		t.Fatalf("GetUser did not reach the pool: mock %v, pool %v", e.srv.Calls(), pool.Stats().Calls)
	}
	if _, err := cog.RevokeToken(ctx, &cip.RevokeTokenInput{ClientId: aws.String(pool.ClientID()), Token: a.RefreshToken}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetUser(ctx, aws.ToString(a.AccessToken)); apiCode(err) != "NotAuthorizedException" {
		t.Fatalf("GetUser with an access token revoked by RevokeToken: %v, want NotAuthorizedException", err)
	}
	if _, err := c.GetUser(ctx, aws.ToString(b.AccessToken)); err != nil {
		t.Fatalf("GetUser with the other sign-in's token: %v", err)
	}
	if _, err := cog.GlobalSignOut(ctx, &cip.GlobalSignOutInput{AccessToken: b.AccessToken}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetUser(ctx, aws.ToString(b.AccessToken)); apiCode(err) != "NotAuthorizedException" {
		t.Fatalf("GetUser after GlobalSignOut: %v, want NotAuthorizedException", err)
	}
}
