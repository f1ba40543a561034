package idp_test

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/passwordless-go/cognito/infra/local/idp"
	"github.com/passwordless-go/cognito/lambdas/signup"
)

func TestSignUpRules(t *testing.T) {
	e := newEnv(t, nil)
	m := e.rec.mark()
	_, err := e.client.SignUp(ctx, &cip.SignUpInput{
		ClientId:       aws.String(e.pool.ClientID()),
		Username:       aws.String("nina@example.com"),
		Password:       aws.String(password),
		UserAttributes: []types.AttributeType{attr("name", "Nina")},
		ValidationData: []types.AttributeType{attr("captcha", "ok")},
		ClientMetadata: map[string]string{"app": "web"},
	})
	if err != nil {
		t.Fatal(err)
	}
	calls := e.rec.since(m)
	if len(calls) != 1 || calls[0].function != fnPreSignUp {
		t.Fatalf("SignUp ran %v", e.rec.functions(m))
	}
	var ev events.CognitoEventUserPoolsPreSignup
	if err := json.Unmarshal(calls[0].payload, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.TriggerSource != "PreSignUp_SignUp" || ev.Version != "1" || ev.UserPoolID != e.pool.PoolID() || ev.CallerContext.ClientID != e.pool.ClientID() || !uuidPattern.MatchString(ev.UserName) {
		t.Errorf("PreSignUp header %+v", ev.CognitoEventUserPoolsHeader)
	}
	if ev.Request.UserAttributes["email"] != "nina@example.com" || ev.Request.UserAttributes["name"] != "Nina" || ev.Request.UserAttributes["sub"] != "" ||
		ev.Request.ValidationData["captcha"] != "ok" || ev.Request.ClientMetadata["app"] != "web" {
		t.Errorf("PreSignUp request %+v", ev.Request)
	}

	for _, tc := range []struct {
		name, user, pw string
		attrs          []types.AttributeType
		code, msg      string
	}{
		{"taken", "NINA@example.com", password, nil, "UsernameExistsException", "An account with the given email already exists."},
		{"short password", "new@example.com", "Aa1!", nil, "InvalidPasswordException", "Password did not conform with policy: Password not long enough"},
		{"no symbol", "new@example.com", "Aaaaaaaaaaaaaaaa1", nil, "InvalidPasswordException", "Password did not conform with policy: Password must have symbol characters"},
		{"not an alias", "nina", password, nil, "InvalidParameterException", "Username should be either an email or a phone number."},
		{"self-verified", "new@example.com", password, []types.AttributeType{attr("email_verified", "true")}, "NotAuthorizedException", "A client attempted to write unauthorized attribute"},
		{"unknown attribute", "new@example.com", password, []types.AttributeType{attr("shoe_size", "9")}, "InvalidParameterException", ""},
		{"other email attribute", "new@example.com", password, []types.AttributeType{attr("email", "other@example.com")}, "InvalidParameterException", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.client.SignUp(ctx, &cip.SignUpInput{
				ClientId: aws.String(e.pool.ClientID()), Username: aws.String(tc.user), Password: aws.String(tc.pw), UserAttributes: tc.attrs,
			})
			wantAPIError(t, err, tc.code, tc.msg)
		})
	}

	// PreSignUp refuses: the user is not created.
	strict := newEnv(t, func(c *idp.Config) {})
	strict.rec.fns[fnPreSignUp] = idp.Handle((&signup.PreSignUp{Email: true}).Handle)
	_, err = strict.client.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(strict.pool.ClientID()), Username: aws.String("+447700900123"), Password: aws.String(password)})
	var ulv *types.UserLambdaValidationException
	if !errors.As(err, &ulv) || ulv.ErrorMessage() != "PreSignUp failed with error this app does not sign in with a phone number." {
		t.Fatalf("refused sign-up: %v", err)
	}
	list, err := strict.client.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(strict.pool.PoolID())})
	if err != nil || len(list.Users) != 0 {
		t.Errorf("users after a refused sign-up: %v %v", list, err)
	}
}

func TestUnconfirmedUser(t *testing.T) {
	e := newEnv(t, func(c *idp.Config) { c.Triggers.PreSignUp = "" })
	up := e.signUp(t, "olga@example.com")
	if up.UserConfirmed {
		t.Fatal("confirmed without PreSignUp")
	}
	_, err := e.initiate("olga@example.com", nil)
	var unc *types.UserNotConfirmedException
	if !errors.As(err, &unc) {
		t.Fatalf("unconfirmed user: %v, want UserNotConfirmedException", err)
	}
	// An unconfirmed user holds the address: signing up again is refused.
	_, err = e.client.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(e.pool.ClientID()), Username: aws.String("OLGA@example.com"), Password: aws.String(password)})
	wantAPIError(t, err, "UsernameExistsException", "An account with the given email already exists.")
	if _, err := e.client.AdminConfirmSignUp(ctx, &cip.AdminConfirmSignUpInput{UserPoolId: aws.String(e.pool.PoolID()), Username: up.UserSub}); err != nil {
		t.Fatalf("AdminConfirmSignUp by user name (the sub): %v", err)
	}
	_, err = e.client.AdminConfirmSignUp(ctx, &cip.AdminConfirmSignUpInput{UserPoolId: aws.String(e.pool.PoolID()), Username: aws.String("olga@example.com")})
	wantAPIError(t, err, "NotAuthorizedException", "User cannot be confirmed. Current status is CONFIRMED")
	ar := e.signIn(t, "olga@example.com")
	me, err := e.client.GetUser(ctx, &cip.GetUserInput{AccessToken: ar.AccessToken})
	if err != nil || aws.ToString(me.Username) != aws.ToString(up.UserSub) {
		t.Fatalf("signed in as %v: %v", me, err)
	}
}

func TestAdminOperations(t *testing.T) {
	e := newEnv(t, nil)
	pool := aws.String(e.pool.PoolID())
	m := e.rec.mark()
	created, err := e.client.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
		UserPoolId:     pool,
		Username:       aws.String("pat@example.com"),
		MessageAction:  types.MessageActionTypeSuppress,
		UserAttributes: []types.AttributeType{attr("email_verified", "true")},
	})
	if err != nil {
		t.Fatal(err)
	}
	u := created.User
	name := aws.ToString(u.Username)
	if !uuidPattern.MatchString(name) || u.UserStatus != types.UserStatusTypeForceChangePassword || !u.Enabled || u.UserCreateDate == nil {
		t.Errorf("created %+v", u)
	}
	if v, _ := attrValue(u.Attributes, "email"); v != "pat@example.com" {
		t.Errorf("email %q", v)
	}
	calls := e.rec.since(m)
	var ev events.CognitoEventUserPoolsPreSignup
	if len(calls) != 1 || json.Unmarshal(calls[0].payload, &ev) != nil || ev.TriggerSource != "PreSignUp_AdminCreateUser" || ev.CallerContext.ClientID != "CLIENT_ID_NOT_APPLICABLE" || ev.UserName != name {
		t.Errorf("AdminCreateUser events %v %+v", e.rec.functions(m), ev.CognitoEventUserPoolsHeader)
	}
	_, err = e.client.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: pool, Username: aws.String("PAT@example.com")})
	wantAPIError(t, err, "UsernameExistsException", "")

	// A FORCE_CHANGE_PASSWORD user can use custom auth.
	ar := e.signIn(t, "pat@example.com")
	id := verifyJWT(t, e.jwks(t), aws.ToString(ar.IdToken))
	if id["email_verified"] != true {
		t.Errorf("email_verified claim %v", id["email_verified"])
	}

	if _, err := e.client.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: pool, Username: aws.String(name), Password: aws.String("short"), Permanent: true}); err == nil {
		t.Error("a weak password was accepted")
	}
	if _, err := e.client.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: pool, Username: aws.String(name), Password: aws.String(password), Permanent: true}); err != nil {
		t.Fatal(err)
	}
	got, err := e.client.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: pool, Username: aws.String("pat@example.com")})
	if err != nil || got.UserStatus != types.UserStatusTypeConfirmed || aws.ToString(got.Username) != name {
		t.Fatalf("after AdminSetUserPassword: %v %+v", err, got)
	}

	// Verify marks addresses verified through AdminUpdateUserAttributes; a change unverifies.
	e.signUp(t, "quinn@example.com")
	upd := func(who string, attrs ...types.AttributeType) error {
		_, err := e.client.AdminUpdateUserAttributes(ctx, &cip.AdminUpdateUserAttributesInput{UserPoolId: pool, Username: aws.String(who), UserAttributes: attrs})
		return err
	}
	if err := upd("quinn@example.com", attr("email_verified", "true"), attr("phone_number", "+15555550100")); err != nil {
		t.Fatal(err)
	}
	q, _ := e.client.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: pool, Username: aws.String("+15555550100")})
	if v, _ := attrValue(q.UserAttributes, "email_verified"); v != "true" {
		t.Errorf("email_verified %q", v)
	}
	if v, _ := attrValue(q.UserAttributes, "phone_number_verified"); v != "false" {
		t.Errorf("phone_number_verified %q", v)
	}
	if err := upd("quinn@example.com", attr("email", "quinn2@example.com")); err != nil {
		t.Fatal(err)
	}
	q, _ = e.client.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: pool, Username: aws.String("quinn2@example.com")})
	if v, _ := attrValue(q.UserAttributes, "email_verified"); v != "false" {
		t.Errorf("email_verified after a change %q", v)
	}
	if _, err := e.initiate("quinn@example.com", nil); err != nil {
		t.Fatal(err) // an unknown name now, hidden by PreventUserExistenceErrors
	}
	wantAPIError(t, upd("quinn2@example.com", attr("email", "pat@example.com")), "AliasExistsException", "An account with the given email already exists.")
	wantAPIError(t, upd("quinn2@example.com", attr("sub", "x")), "InvalidParameterException", "")

	// ListUsers with a filter.
	list, err := e.client.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: pool, Filter: aws.String(`email = "Pat@example.com"`)})
	if err != nil || len(list.Users) != 1 || aws.ToString(list.Users[0].Username) != name {
		t.Fatalf("ListUsers filter: %v %+v", err, list)
	}
	list, err = e.client.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: pool, Filter: aws.String(`email ^= "q"`)})
	if err != nil || len(list.Users) != 1 {
		t.Fatalf("ListUsers prefix filter: %v %+v", err, list)
	}
	_, err = e.client.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: pool, Filter: aws.String(`shoe = "9"`)})
	wantAPIError(t, err, "InvalidParameterException", "")
	var all []string
	for page := (*string)(nil); ; {
		l, err := e.client.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: pool, Limit: aws.Int32(1), PaginationToken: page})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range l.Users {
			all = append(all, aws.ToString(u.Username))
		}
		if page = l.PaginationToken; page == nil {
			break
		}
	}
	if len(all) != 2 || all[0] != name {
		t.Errorf("paged ListUsers %v", all)
	}

	// Disabling revokes tokens and stops sign-in.
	if _, err := e.client.AdminDisableUser(ctx, &cip.AdminDisableUserInput{UserPoolId: pool, Username: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.GetUser(ctx, &cip.GetUserInput{AccessToken: ar.AccessToken})
	wantAPIError(t, err, "NotAuthorizedException", "")
	_, err = e.initiate("pat@example.com", nil)
	wantAPIError(t, err, "NotAuthorizedException", "User is disabled.")
	if _, err := e.client.AdminEnableUser(ctx, &cip.AdminEnableUserInput{UserPoolId: pool, Username: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	ar = e.signIn(t, "pat@example.com")

	// Deleting the user ends everything.
	if _, err := e.client.AdminDeleteUser(ctx, &cip.AdminDeleteUserInput{UserPoolId: pool, Username: aws.String("pat@example.com")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: pool, Username: aws.String(name)})
	var unf *types.UserNotFoundException
	if !errors.As(err, &unf) {
		t.Errorf("AdminGetUser after delete: %v", err)
	}
	_, err = e.client.GetUser(ctx, &cip.GetUserInput{AccessToken: ar.AccessToken})
	wantAPIError(t, err, "NotAuthorizedException", "")
	_, err = e.client.AdminDeleteUser(ctx, &cip.AdminDeleteUserInput{UserPoolId: pool, Username: aws.String(name)})
	wantAPIError(t, err, "UserNotFoundException", "User does not exist.")
	// The address is free again.
	e.signUp(t, "pat@example.com")
}

func TestAdminWrongPool(t *testing.T) {
	e := newEnv(t, nil)
	e.signUp(t, "rob@example.com")
	wrong := aws.String("us-east-1_OTHER0001")
	user := aws.String("rob@example.com")
	for name, call := range map[string]func() error{
		"AdminGetUser": func() error {
			_, err := e.client.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: wrong, Username: user})
			return err
		},
		"AdminCreateUser": func() error {
			_, err := e.client.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: wrong, Username: aws.String("x@example.com")})
			return err
		},
		"AdminDeleteUser": func() error {
			_, err := e.client.AdminDeleteUser(ctx, &cip.AdminDeleteUserInput{UserPoolId: wrong, Username: user})
			return err
		},
		"AdminUpdateUserAttributes": func() error {
			_, err := e.client.AdminUpdateUserAttributes(ctx, &cip.AdminUpdateUserAttributesInput{UserPoolId: wrong, Username: user, UserAttributes: []types.AttributeType{attr("email_verified", "true")}})
			return err
		},
		"AdminSetUserPassword": func() error {
			_, err := e.client.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: wrong, Username: user, Password: aws.String(password), Permanent: true})
			return err
		},
		"ListUsers": func() error {
			_, err := e.client.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: wrong})
			return err
		},
	} {
		var rnf *types.ResourceNotFoundException
		if err := call(); !errors.As(err, &rnf) || rnf.ErrorMessage() != "User pool us-east-1_OTHER0001 does not exist." {
			t.Errorf("%s on the wrong pool: %v", name, err)
		}
	}
	// Unknown users in the right pool.
	for name, call := range map[string]func() error{
		"AdminGetUser": func() error {
			_, err := e.client.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(e.pool.PoolID()), Username: aws.String("nobody@example.com")})
			return err
		},
		"AdminUpdateUserAttributes": func() error {
			_, err := e.client.AdminUpdateUserAttributes(ctx, &cip.AdminUpdateUserAttributesInput{UserPoolId: aws.String(e.pool.PoolID()), Username: aws.String("nobody@example.com"), UserAttributes: []types.AttributeType{attr("name", "x")}})
			return err
		},
		"AdminSetUserPassword": func() error {
			_, err := e.client.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: aws.String(e.pool.PoolID()), Username: aws.String("nobody@example.com"), Password: aws.String(password)})
			return err
		},
	} {
		var unf *types.UserNotFoundException
		if err := call(); !errors.As(err, &unf) {
			t.Errorf("%s for an unknown user: %v", name, err)
		}
	}
	st := e.pool.Stats()
	if got := keys(st.Calls); !slices.Contains(got, "AdminGetUser") || st.Calls["AdminGetUser"] != 2 {
		t.Errorf("calls %v", st.Calls)
	}
}

func TestUserNamePool(t *testing.T) {
	e := newEnv(t, func(c *idp.Config) { c.Aliases = nil })
	up := e.signUp(t, "sam", attr("email", "sam@example.com"))
	if !up.UserConfirmed {
		t.Fatal("not confirmed")
	}
	e.signIn(t, "SAM")
	_, err := e.client.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(e.pool.ClientID()), Username: aws.String("Sam"), Password: aws.String(password), UserAttributes: []types.AttributeType{attr("email", "x@example.com")}})
	wantAPIError(t, err, "UsernameExistsException", "User already exists")
	// Without aliases the email address is not a sign-in name.
	out, err := e.initiate("sam@example.com", nil)
	if err != nil || out.ChallengeParameters["USERNAME"] != "sam@example.com" {
		t.Fatalf("unknown name: %v %v", err, out)
	}
}
