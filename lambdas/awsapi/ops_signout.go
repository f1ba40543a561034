package awsapi

import (
	"context"
	"errors"
)

// GlobalSignOut calls Cognito GlobalSignOut (awsJson1.1) with a user's access token: Cognito
// revokes every refresh token of that user and, with them, the access and ID tokens issued from
// them, so that GetUser and the other token-authorized operations refuse them (a JWT authorizer
// still accepts an access token until it expires). Cognito authorizes the call by the token
// alone: the caller needs no IAM permission, and the request is signed with the client's
// credentials all the same, which Cognito ignores. A token Cognito no longer accepts is refused
// with NotAuthorizedException. The token is never part of an error.
func (c *Client) GlobalSignOut(ctx context.Context, accessToken string) error {
	if accessToken == "" {
		return errors.New("awsapi: cognito-idp GlobalSignOut: no access token")
	}
	_, err := c.json11(ctx, "cognito-idp", "AWSCognitoIdentityProviderService", "GlobalSignOut", struct {
		AccessToken string `json:"AccessToken"`
	}{accessToken})
	return err
}
