package idp_test

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/passwordless-go/cognito/infra/local/idp"
)

const unauthorizedAttribute = "A client attempted to write unauthorized attribute"

func (e *env) adminAttrs(t testing.TB, name string) map[string]string {
	t.Helper()
	out, err := e.client.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(e.pool.PoolID()), Username: aws.String(name)})
	if err != nil {
		t.Fatalf("AdminGetUser(%s): %v", name, err)
	}
	m := map[string]string{}
	for _, a := range out.UserAttributes {
		m[aws.ToString(a.Name)] = aws.ToString(a.Value)
	}
	return m
}

func (e *env) updateOwn(token *string, attrs ...types.AttributeType) error {
	_, err := e.client.UpdateUserAttributes(ctx, &cip.UpdateUserAttributesInput{AccessToken: token, UserAttributes: attrs})
	return err
}

// clientWrites is the construct's app client: every standard attribute but email, phone_number
// and the verified flags.
var clientWrites = []string{"address", "birthdate", "family_name", "gender", "given_name", "locale", "middle_name", "name",
	"nickname", "picture", "preferred_username", "profile", "updated_at", "website", "zoneinfo"}

// TestClientWriteAttributes: an app client writes only its WriteAttributes, in SignUp and in
// UpdateUserAttributes (NotAuthorizedException otherwise); the address given as Username is set
// by the pool, unverified, without write permission.
func TestClientWriteAttributes(t *testing.T) {
	e := newEnv(t, func(c *idp.Config) { c.WriteAttributes = clientWrites })

	up := e.signUp(t, "wren@example.com", attr("name", "Wren"))
	if got := e.adminAttrs(t, "wren@example.com"); got["email"] != "wren@example.com" || got["email_verified"] != "false" || got["name"] != "Wren" {
		t.Fatalf("after SignUp(Username=address): %v", got)
	}
	up2 := e.signUp(t, "+15555550142")
	if got := e.adminAttrs(t, aws.ToString(up2.UserSub)); got["phone_number"] != "+15555550142" || got["phone_number_verified"] != "false" {
		t.Fatalf("after SignUp(Username=number): %v", got)
	}

	for _, tc := range []struct {
		name, user string
		attrs      []types.AttributeType
	}{
		{"email attribute equal to the username", "xena@example.com", []types.AttributeType{attr("email", "xena@example.com")}},
		{"victim email beside the username", "+15555550143", []types.AttributeType{attr("email", "victim@example.com")}},
		{"attacker phone beside a victim email", "victim@example.com", []types.AttributeType{attr("phone_number", "+15555550144")}},
		{"verified flag", "yuri@example.com", []types.AttributeType{attr("email_verified", "true")}},
	} {
		t.Run("SignUp/"+tc.name, func(t *testing.T) {
			_, err := e.client.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(e.pool.ClientID()), Username: aws.String(tc.user), Password: aws.String(password), UserAttributes: tc.attrs})
			wantAPIError(t, err, "NotAuthorizedException", unauthorizedAttribute)
			if _, err := e.client.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(e.pool.PoolID()), Username: aws.String(tc.user)}); err == nil {
				t.Fatal("the refused sign-up created a user")
			}
		})
	}

	tok := e.signIn(t, "wren@example.com").AccessToken
	for _, a := range []types.AttributeType{attr("email", "victim@example.com"), attr("phone_number", "+15555550145"), attr("email_verified", "true"), attr("phone_number_verified", "true")} {
		wantAPIError(t, e.updateOwn(tok, a), "NotAuthorizedException", unauthorizedAttribute)
	}
	// One unwritable attribute refuses the whole update.
	wantAPIError(t, e.updateOwn(tok, attr("name", "Mallory"), attr("email", "victim@example.com")), "NotAuthorizedException", unauthorizedAttribute)
	if got := e.adminAttrs(t, aws.ToString(up.UserSub)); got["email"] != "wren@example.com" || got["name"] != "Wren" {
		t.Fatalf("refused updates changed the user: %v", got)
	}
	if err := e.updateOwn(tok, attr("name", "Wren W.")); err != nil {
		t.Fatalf("UpdateUserAttributes of a writable attribute: %v", err)
	}
	if got := e.adminAttrs(t, "wren@example.com"); got["name"] != "Wren W." {
		t.Fatalf("name %q after the update", got["name"])
	}
	// An administrator still writes anything.
	if _, err := e.client.AdminUpdateUserAttributes(ctx, &cip.AdminUpdateUserAttributesInput{UserPoolId: aws.String(e.pool.PoolID()), Username: aws.String("wren@example.com"),
		UserAttributes: []types.AttributeType{attr("email", "wren2@example.com"), attr("email_verified", "true")}}); err != nil {
		t.Fatalf("AdminUpdateUserAttributes: %v", err)
	}
	if got := e.adminAttrs(t, "wren2@example.com"); got["email"] != "wren2@example.com" || got["email_verified"] != "true" {
		t.Fatalf("after AdminUpdateUserAttributes: %v", got)
	}
	// Without a valid access token nothing is written.
	wantAPIError(t, e.updateOwn(aws.String("not-a-token"), attr("name", "x")), "NotAuthorizedException", "Invalid Access Token")
}

// TestUpdateUserAttributesDefaults: with Cognito's default write permissions (no WriteAttributes)
// the user may change their email address: the new one is stored unverified, and an address
// another user holds is refused with AliasExistsException.
func TestUpdateUserAttributesDefaults(t *testing.T) {
	e := newEnv(t, nil)
	e.signUp(t, "zoe@example.com")
	e.signUp(t, "held@example.com")
	tok := e.signIn(t, "zoe@example.com").AccessToken
	if _, err := e.client.AdminUpdateUserAttributes(ctx, &cip.AdminUpdateUserAttributesInput{UserPoolId: aws.String(e.pool.PoolID()), Username: aws.String("zoe@example.com"),
		UserAttributes: []types.AttributeType{attr("email_verified", "true")}}); err != nil {
		t.Fatal(err)
	}
	wantAPIError(t, e.updateOwn(tok, attr("email", "HELD@example.com")), "AliasExistsException", "An account with the given email already exists.")
	if err := e.updateOwn(tok, attr("email", "zoe.new@example.com")); err != nil {
		t.Fatalf("UpdateUserAttributes(email): %v", err)
	}
	if got := e.adminAttrs(t, "zoe.new@example.com"); got["email"] != "zoe.new@example.com" || got["email_verified"] != "false" {
		t.Fatalf("changed email: %v (want it unverified)", got)
	}
	wantAPIError(t, e.updateOwn(tok, attr("email_verified", "true")), "NotAuthorizedException", unauthorizedAttribute)
}

// TestClientReadAttributes: GetUser returns, and the ID token carries, only the app client's
// ReadAttributes (and sub); an administrator sees everything.
func TestClientReadAttributes(t *testing.T) {
	e := newEnv(t, func(c *idp.Config) { c.ReadAttributes = []string{"email", "name"} })
	e.signUp(t, "ari@example.com", attr("name", "Ari"), attr("locale", "fr"))
	res := e.signIn(t, "ari@example.com")
	me, err := e.client.GetUser(ctx, &cip.GetUserInput{AccessToken: res.AccessToken})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range me.UserAttributes {
		names = append(names, aws.ToString(a.Name))
	}
	if !slices.Equal(names, []string{"sub", "email", "name"}) {
		t.Fatalf("GetUser attributes %v, want [sub email name]", names)
	}
	claims := verifyJWT(t, e.jwks(t), aws.ToString(res.IdToken))
	if claims["email"] != "ari@example.com" || claims["name"] != "Ari" || claims["locale"] != nil || claims["email_verified"] != nil {
		t.Fatalf("ID token claims %v", claims)
	}
	if got := e.adminAttrs(t, "ari@example.com"); got["locale"] != "fr" || got["email_verified"] != "false" {
		t.Fatalf("AdminGetUser %v", got)
	}
	if _, err := idp.New(idp.Config{ReadAttributes: []string{"shoe_size"}}, nil); err == nil {
		t.Fatal("New accepted an attribute that is not in the schema")
	}
}

// TestAddressHeldByAnotherUser: in a pool with email and phone number as username attributes an
// address belongs to one user, confirmed or not: SignUp gives UsernameExistsException and
// AdminUpdateUserAttributes AliasExistsException.
func TestAddressHeldByAnotherUser(t *testing.T) {
	e := newEnv(t, func(c *idp.Config) { c.Triggers.PreSignUp = "" }) // users stay unconfirmed
	phoneUser := e.signUp(t, "+15555550150")
	e.signUp(t, "bea@example.com")
	_, err := e.client.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(e.pool.ClientID()), Username: aws.String("cid@example.com"), Password: aws.String(password),
		UserAttributes: []types.AttributeType{attr("phone_number", "+15555550150")}})
	wantAPIError(t, err, "UsernameExistsException", "An account with the given phone_number already exists.")
	_, err = e.client.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(e.pool.ClientID()), Username: aws.String("Bea@Example.com"), Password: aws.String(password)})
	wantAPIError(t, err, "UsernameExistsException", "An account with the given email already exists.")

	admin := func(name string, attrs ...types.AttributeType) error {
		_, err := e.client.AdminUpdateUserAttributes(ctx, &cip.AdminUpdateUserAttributesInput{UserPoolId: aws.String(e.pool.PoolID()), Username: aws.String(name), UserAttributes: attrs})
		return err
	}
	// bea (unconfirmed) may not take the number the phone user holds (unconfirmed too), verified
	// or not.
	wantAPIError(t, admin("bea@example.com", attr("phone_number", "+15555550150"), attr("phone_number_verified", "true")), "AliasExistsException", "An account with the given phone_number already exists.")
	if _, err := e.client.AdminConfirmSignUp(ctx, &cip.AdminConfirmSignUpInput{UserPoolId: aws.String(e.pool.PoolID()), Username: aws.String("bea@example.com")}); err != nil {
		t.Fatal(err)
	}
	wantAPIError(t, admin("+15555550150", attr("email", "bea@example.com"), attr("email_verified", "true")), "AliasExistsException", "An account with the given email already exists.")
	if got := e.adminAttrs(t, aws.ToString(phoneUser.UserSub)); got["email"] != "" {
		t.Fatalf("refused update left email %q", got["email"])
	}
	// Setting one's own value again is no conflict.
	if err := admin("bea@example.com", attr("email", "bea@example.com"), attr("email_verified", "true")); err != nil {
		t.Fatalf("re-setting the user's own address: %v", err)
	}
}
