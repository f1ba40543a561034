package passwordless

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsses"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// checkScope reports what in p cannot deploy in stack, which Validate cannot see: the China
// Regions, a Props.UserPool that is not a pool of this stack, and an existing SES identity of
// another account or region (when the stack's are known).
func checkScope(stack awscdk.Stack, p Props) error {
	var errs []error
	region, account := known(stack.Region()), known(stack.Account())
	if strings.HasPrefix(region, "cn-") {
		// Amazon Web Services in China: "Amazon Cognito User Pools are not currently available"
		// (https://docs.amazonaws.cn/en_us/aws/latest/userguide/cognito.html); nor are SES or SNS
		// SMS messaging.
		errs = append(errs, fmt.Errorf("stack %s is in %s: Amazon Cognito user pools are not available in the China Regions (aws-cn)",
			*stack.Node().Path(), region))
	}
	if p.UserPool != nil {
		cfn, ok := p.UserPool.Node().DefaultChild().(awscognito.CfnUserPool)
		if !ok {
			errs = append(errs, fmt.Errorf("Props.UserPool %s is not a user pool created in this app: an imported pool "+
				"(UserPool_FromUserPoolId/Arn) cannot take triggers; create the pool with awscognito.NewUserPool in the "+
				"construct's stack, or leave UserPool empty and let the construct create it", *p.UserPool.Node().Path()))
		} else if other := awscdk.Stack_Of(cfn); *other.Node().Path() != *stack.Node().Path() {
			errs = append(errs, fmt.Errorf("Props.UserPool is in stack %s but the construct in stack %s: the pool's triggers "+
				"would point at this stack's functions and the functions at the pool, a reference cycle CloudFormation cannot "+
				"deploy; create the pool in the same stack as the construct", *other.Node().Path(), *stack.Node().Path()))
		}
	}
	if p.Email != nil && p.Email.ExistingIdentity != "" {
		id, _ := parseIdentity(p.Email.ExistingIdentity)
		if id.arn != "" && (region != "" && id.region != region || account != "" && id.account != account) {
			errs = append(errs, fmt.Errorf("Email.ExistingIdentity %s is in %s/%s but the stack in %s/%s: the functions send "+
				"through SES in their own account and region; verify the identity there", id.arn, id.account, id.region,
				orUnknown(account), orUnknown(region)))
		}
	}
	return errors.Join(errs...)
}

// known returns s, or "" when it is a token (an environment-agnostic stack).
func known(s *string) string {
	if s == nil || *awscdk.Token_IsUnresolved(s) {
		return ""
	}
	return *s
}

func orUnknown(s string) string {
	if s == "" {
		return "(any)"
	}
	return s
}

// emailIdentity returns the SES identity the construct creates for e (nil with
// e.ExistingIdentity) and the ARN of the identity codes are sent through: the created one's, the
// existing one's as given, or one built from its name in the stack's partition, region and
// account.
func emailIdentity(c constructs.Construct, e *EmailProps, set awsses.ConfigurationSet) (awsses.EmailIdentity, *string) {
	if e.ExistingIdentity != "" {
		id, _ := parseIdentity(e.ExistingIdentity)
		if id.arn != "" {
			return nil, jsii.String(id.arn)
		}
		return nil, awscdk.Stack_Of(c).FormatArn(&awscdk.ArnComponents{
			Service:      jsii.String("ses"),
			Resource:     jsii.String("identity"),
			ResourceName: jsii.String(id.name),
		})
	}
	identity := awsses.Identity_Email(jsii.String(e.From))
	if e.Domain != "" {
		identity = awsses.Identity_Domain(jsii.String(e.Domain))
	}
	created := awsses.NewEmailIdentity(c, jsii.String("EmailIdentity"), &awsses.EmailIdentityProps{
		Identity:         identity,
		ConfigurationSet: set,
	})
	return created, created.EmailIdentityArn()
}

// logGroupNameChars are the characters CloudWatch Logs allows in a log group name.
var logGroupNameChars = regexp.MustCompile(`[^A-Za-z0-9._/#-]`)

// maxLogGroupName is CloudWatch Logs' limit on a log group name.
const maxLogGroupName = 512

// accessLogGroupName names the HTTP API's access log group
// /aws/vendedlogs/apigateway/<stack name>/<construct path in the stack>/access: under
// /aws/vendedlogs/ as AWS advises for vended logs (CloudWatch Logs then needs no resource policy
// per log group, whose size limit a few stacks would exhaust), fixed at synth and unique per
// construct in an account and region (stack names are).
func accessLogGroupName(c constructs.Construct) *string {
	stack := awscdk.Stack_Of(c)
	rel := strings.TrimPrefix(strings.TrimPrefix(*c.Node().Path(), *stack.Node().Path()), "/")
	clean := logGroupNameChars.ReplaceAllString(rel, "_")
	if clean != rel {
		// Keep two paths that differ only in replaced characters apart.
		sum := sha256.Sum256([]byte(rel))
		clean += "-" + hex.EncodeToString(sum[:4])
	}
	const prefix, suffix = "/aws/vendedlogs/apigateway/", "/access"
	name := known(stack.StackName())
	if name == "" {
		// A nested stack's name is known at deploy time only.
		name = "${AWS::StackName}"
	}
	if len(prefix)+len(name)+1+len(clean)+len(suffix) > maxLogGroupName {
		sum := sha256.Sum256([]byte(rel))
		clean = hex.EncodeToString(sum[:8])
	}
	full := prefix + name + "/" + clean + suffix
	if strings.Contains(full, "${") {
		return awscdk.Fn_Sub(jsii.String(full), nil)
	}
	return jsii.String(full)
}
