package passwordless

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"
	"github.com/passwordless-go/cognito/constructs/cdktest"
)

// TestBroughtSecret: a secret brought in by name gets GetSecretValue on its name plus the six
// characters Secrets Manager appends (not "*"), and one with a customer managed key gets
// kms:Decrypt on that key through Secrets Manager only; no secret is created.
func TestBroughtSecret(t *testing.T) {
	app := cdktest.NewApp(t, cdktest.Options{})
	stack := awscdk.NewStack(app, jsii.String("Test"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("eu-west-1")},
	})
	key := awskms.Key_FromKeyArn(stack, jsii.String("Key"), jsii.String("arn:aws:kms:eu-west-1:111111111111:key/11111111-2222-3333-4444-555555555555"))
	secret := awssecretsmanager.Secret_FromSecretAttributes(stack, jsii.String("Shared"), &awssecretsmanager.SecretAttributes{
		SecretPartialArn: jsii.String("arn:aws:secretsmanager:eu-west-1:111111111111:secret:shared/passwordless"),
		EncryptionKey:    key,
	})
	if err := cdktest.Catch(func() { New(stack, jsii.String("Passwordless"), &Props{DeploymentSecret: secret}) }); err != nil {
		t.Fatal(err)
	}
	tpl := cdktest.Synth(t, app).Template(t, "Test")
	if n := len(cdktest.Resources(tpl, "AWS::SecretsManager::Secret")); n != 0 {
		t.Errorf("%d secrets created beside the one brought in", n)
	}
	var reads, decrypts int
	for _, p := range cdktest.Resources(tpl, "AWS::IAM::Policy") {
		doc, _ := json.Marshal(p["PolicyDocument"])
		var d struct {
			Statement []struct {
				Sid       string
				Action    any
				Resource  any
				Condition map[string]map[string]any
			}
		}
		if err := json.Unmarshal(doc, &d); err != nil {
			t.Fatal(err)
		}
		for _, s := range d.Statement {
			res, _ := json.Marshal(s.Resource)
			switch s.Sid {
			case "ReadDeploymentSecret":
				reads++
				if string(res) != `"arn:aws:secretsmanager:eu-west-1:111111111111:secret:shared/passwordless-??????"` {
					t.Errorf("GetSecretValue on %s", res)
				}
			case "DecryptDeploymentSecret":
				decrypts++
				via, _ := json.Marshal(s.Condition["StringEquals"]["kms:ViaService"])
				if s.Action != "kms:Decrypt" || !strings.Contains(string(res), "key/11111111-2222") || !strings.Contains(string(via), "secretsmanager.") {
					t.Errorf("decrypt statement %v on %s via %s", s.Action, res, via)
				}
			}
		}
	}
	if reads != 3 || decrypts != 3 {
		t.Errorf("%d read and %d decrypt statements, want 3 each (create, verify, api)", reads, decrypts)
	}
}
