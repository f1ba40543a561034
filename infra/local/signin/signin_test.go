package signin

import (
	"encoding/base64"
	"errors"
	"fmt"
	"testing"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

func TestExtractBlock(t *testing.T) {
	CheckExtractBlock(t, "<!-- x:begin -->", "<!-- x:end -->")
	_, err := ExtractBlock([]byte("text"), "<!-- x:begin -->", "<!-- x:end -->")
	if !errors.Is(err, ErrNoMarkers) {
		t.Errorf("no markers: %v, want ErrNoMarkers", err)
	}
}

func TestLogBufferTail(t *testing.T) {
	var b LogBuffer
	fmt.Fprint(&b, "a\nb\n[1:2:dbus/bus.cc] no D-Bus\nc\nd\n")
	if got := b.Tail(3); got != "b\nc\nd" {
		t.Errorf("Tail(3) = %q, want the last 3 lines without the D-Bus one", got)
	}
	if got := b.Tail(10); got != "a\nb\nc\nd" {
		t.Errorf("Tail(10) = %q", got)
	}
}

func TestJWTClaims(t *testing.T) {
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"u1","token_use":"access"}`))
	c := JWTClaims(t, "h."+payload+".s")
	if c["sub"] != "u1" || c["token_use"] != "access" {
		t.Errorf("claims %v", c)
	}
}

func TestTokensAndNotAuthorized(t *testing.T) {
	if Tokens(nil) || Tokens(&cip.RespondToAuthChallengeOutput{}) {
		t.Error("Tokens without an AuthenticationResult")
	}
	if !Tokens(&cip.RespondToAuthChallengeOutput{AuthenticationResult: &types.AuthenticationResultType{}}) {
		t.Error("Tokens with an AuthenticationResult: false")
	}
	if !IsNotAuthorized(fmt.Errorf("wrapped: %w", &types.NotAuthorizedException{})) || IsNotAuthorized(errors.New("other")) {
		t.Error("IsNotAuthorized")
	}
}
