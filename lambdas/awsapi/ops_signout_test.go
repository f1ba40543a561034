package awsapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
)

// TestGlobalSignOut: the access token alone names the user (no pool, no IAM permission); a
// refused token is NotAuthorizedException, not retried, and the token is in no error text.
func TestGlobalSignOut(t *testing.T) {
	c, got := server(t, ok)
	if err := c.GlobalSignOut(context.Background(), "access.token.value"); err != nil || len(*got) != 1 {
		t.Fatalf("%v, %d requests", err, len(*got))
	}
	r := (*got)[0]
	if r.method != http.MethodPost || r.path != "/" || r.header.Get("Content-Type") != "application/x-amz-json-1.1" ||
		r.header.Get("X-Amz-Target") != "AWSCognitoIdentityProviderService.GlobalSignOut" {
		t.Errorf("%s %s %v", r.method, r.path, r.header)
	}
	if string(r.body) != `{"AccessToken":"access.token.value"}` {
		t.Errorf("body %s", r.body)
	}

	revoked, calls := server(t, func(w http.ResponseWriter, _ int) {
		w.WriteHeader(400)
		_, _ = w.Write([]byte(`{"__type":"NotAuthorizedException","message":"Access Token has been revoked"}`))
	})
	err := revoked.GlobalSignOut(context.Background(), "access.token.value")
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "NotAuthorizedException" || strings.Contains(err.Error(), "access.token.value") || len(*calls) != 1 {
		t.Errorf("error %v after %d calls", err, len(*calls))
	}
	if err := c.GlobalSignOut(context.Background(), ""); err == nil {
		t.Error("an empty token was sent")
	}
}
