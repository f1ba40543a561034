package passwordless

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/jsii-runtime-go"
	"github.com/passwordless-go/cognito/lambdas/authflow"
)

// clientWriteAttributes are the standard attributes the app client may write (SignUp's
// UserAttributes, UpdateUserAttributes with the user's access token): all of them except email,
// phone_number and their verified flags. An address reaches an account only as the username of
// a sign-up (Cognito copies it into the email or phone_number attribute itself, unverified) or
// through the contact-change routes, which set it with its verified flag after a code.
//
// A pool brought in through Props.UserPool keeps its other app clients: they must not be able to
// write email or phone_number either (Cognito's default for a client without WriteAttributes is
// every standard attribute, including both).
func clientWriteAttributes() awscognito.ClientAttributes {
	return awscognito.NewClientAttributes().WithStandardAttributes(&awscognito.StandardAttributesMask{
		Address:           jsii.Bool(true),
		Birthdate:         jsii.Bool(true),
		FamilyName:        jsii.Bool(true),
		Fullname:          jsii.Bool(true),
		Gender:            jsii.Bool(true),
		GivenName:         jsii.Bool(true),
		LastUpdateTime:    jsii.Bool(true),
		Locale:            jsii.Bool(true),
		MiddleName:        jsii.Bool(true),
		Nickname:          jsii.Bool(true),
		PreferredUsername: jsii.Bool(true),
		ProfilePage:       jsii.Bool(true),
		ProfilePicture:    jsii.Bool(true),
		Timezone:          jsii.Bool(true),
		Website:           jsii.Bool(true),
	})
}

// contactAliases are the attributes the contact-change routes may add or change (contact's
// SIGN_IN_ALIASES): those whose code method is on, since the code goes out the same way a
// sign-in code does ("email" with email_otp, "phone" with sms_otp).
func contactAliases(cfg authflow.Config) []string {
	var out []string
	if cfg.Enabled(authflow.EmailOTP) {
		out = append(out, "email")
	}
	if cfg.Enabled(authflow.SMSOTP) {
		out = append(out, "phone")
	}
	return out
}
