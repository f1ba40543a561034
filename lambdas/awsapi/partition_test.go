package awsapi

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// roundTripper records each request and answers 200 {}: the Client then talks to the real
// regional host name without any network.
type roundTripper struct{ reqs []*http.Request }

func (rt *roundTripper) Do(r *http.Request) (*http.Response, error) {
	rt.reqs = append(rt.reqs, r)
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(`{}`)), Header: http.Header{}}, nil
}

// partitionRegions covers every partition in the SDK's table plus a region of the aws partition
// the table does not list by name and a region matching no partition.
var partitionRegions = []struct{ region, suffix string }{
	{"us-east-1", "amazonaws.com"},
	{"eu-west-1", "amazonaws.com"},
	{"zz-future-9", "amazonaws.com"},
	{"cn-north-1", "amazonaws.com.cn"},
	{"cn-northwest-1", "amazonaws.com.cn"},
	{"us-gov-west-1", "amazonaws.com"},
	{"us-iso-east-1", "c2s.ic.gov"},
	{"us-isob-east-1", "sc2s.sgov.gov"},
	{"us-isof-south-1", "csp.hci.ic.gov"},
	{"eu-isoe-west-1", "cloud.adc-e.uk"},
	{"eusc-de-east-1", "amazonaws.eu"},
}

// Attack: a China-region deployment would call https://sns.cn-north-1.amazonaws.com, a host that
// does not exist (China endpoints end in amazonaws.com.cn), so every send and every secret read
// fails. Each call goes to <service>.<region>.<partition suffix> and is signed for the region.
func TestEndpointsFollowPartition(t *testing.T) {
	for _, tc := range partitionRegions {
		rt := &roundTripper{}
		c, err := New(aws.Config{Region: tc.region, HTTPClient: rt,
			Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
				return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "SECRET"}, nil
			})})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		_ = c.SendEmail(ctx, &SendEmailInput{From: "a@example.com", To: []string{"b@example.com"}, Subject: "s", Text: "t"})
		_ = c.Publish(ctx, &PublishInput{PhoneNumber: "+15555550100", Message: "m"})
		_, _ = c.GetSecretValue(ctx, "arn:x")
		_ = c.AdminUserGlobalSignOut(ctx, &AdminUserGlobalSignOutInput{UserPoolID: "p", Username: "u"})
		want := []struct{ host, scope string }{
			{"email." + tc.region + "." + tc.suffix, "/" + tc.region + "/ses/aws4_request"},
			{"sns." + tc.region + "." + tc.suffix, "/" + tc.region + "/sns/aws4_request"},
			{"secretsmanager." + tc.region + "." + tc.suffix, "/" + tc.region + "/secretsmanager/aws4_request"},
			{"cognito-idp." + tc.region + "." + tc.suffix, "/" + tc.region + "/cognito-idp/aws4_request"},
		}
		if len(rt.reqs) != len(want) {
			t.Fatalf("%s: %d requests", tc.region, len(rt.reqs))
		}
		for i, w := range want {
			r := rt.reqs[i]
			if r.URL.Scheme != "https" || r.URL.Host != w.host {
				t.Errorf("%s: request %d to %s, want https://%s", tc.region, i, r.URL, w.host)
			}
			if auth := r.Header.Get("Authorization"); !strings.Contains(auth, w.scope) {
				t.Errorf("%s: request %d signed %q, want scope %s", tc.region, i, auth, w.scope)
			}
		}
	}
}

// DNSSuffix agrees with the SDK's own partition table (which this package cannot import: it is
// internal to the SDK), read here through the DynamoDB client's endpoint resolver.
func TestDNSSuffixMatchesSDK(t *testing.T) {
	r := dynamodb.NewDefaultEndpointResolverV2()
	for _, tc := range partitionRegions {
		ep, err := r.ResolveEndpoint(context.Background(), dynamodb.EndpointParameters{Region: aws.String(tc.region)})
		if err != nil {
			t.Fatalf("%s: %v", tc.region, err)
		}
		sdk := strings.TrimPrefix(ep.URI.Host, "dynamodb."+tc.region+".")
		if sdk != tc.suffix {
			t.Fatalf("test table out of date: SDK says %s for %s, table says %s", sdk, tc.region, tc.suffix)
		}
		if got := DNSSuffix(tc.region); got != sdk {
			t.Errorf("DNSSuffix(%q) = %q, SDK %q", tc.region, got, sdk)
		}
	}
}
