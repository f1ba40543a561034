package smoke

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
)

// Outputs are the stack outputs the smoke test needs.
type Outputs struct {
	UserPoolID string // UserPoolId
	ClientID   string // UserPoolClientId
	APIURL     string // ApiUrl
	Region     string // Region
}

// cdkHash is the 8-character suffix CDK appends to a nested output's logical ID.
var cdkHash = regexp.MustCompile(`[0-9A-F]{8}$`)

// outputNames are the construct's output IDs.
var outputNames = []string{"UserPoolId", "UserPoolClientId", "ApiUrl", "Region"}

// ReadOutputs reads `cdk deploy --outputs-file` output: {"Stack": {"Key": "value"}}. Keys carry
// the construct's path as a prefix and CDK's hash as a suffix (e.g.
// "PasswordlessUserPoolId70CCC4DD"); a key matches an output name when, without the hash, it is
// the name or ends with it ("PasswordlessUserPoolClientId" is not a "UserPoolId"). Two matches
// are an error. stack picks the stack when the file holds several (else the only one).
func ReadOutputs(path, stack string) (Outputs, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Outputs{}, err
	}
	return ParseOutputs(b, stack)
}

// ParseOutputs is ReadOutputs on the file's content.
func ParseOutputs(b []byte, stack string) (Outputs, error) {
	var all map[string]map[string]any
	if err := json.Unmarshal(b, &all); err != nil {
		return Outputs{}, fmt.Errorf("smoke: outputs file: %w", err)
	}
	var stacks []string
	for k := range all {
		stacks = append(stacks, k)
	}
	sort.Strings(stacks)
	if stack == "" {
		if len(stacks) != 1 {
			return Outputs{}, fmt.Errorf("smoke: the outputs file holds stacks %v: pick one with --stack", stacks)
		}
		stack = stacks[0]
	}
	outs, ok := all[stack]
	if !ok {
		return Outputs{}, fmt.Errorf("smoke: no stack %q in the outputs file (have %v)", stack, stacks)
	}
	found := map[string]string{}
	for _, name := range outputNames {
		var matches []string
		for k, v := range outs {
			base := cdkHash.ReplaceAllString(k, "")
			if base == name || (strings.HasSuffix(base, name)) {
				s, _ := v.(string)
				if s == "" {
					return Outputs{}, fmt.Errorf("smoke: output %s is empty or not a string", k)
				}
				matches = append(matches, k)
				found[name] = s
			}
		}
		switch len(matches) {
		case 0:
			return Outputs{}, fmt.Errorf("smoke: stack %s has no %s output (is it the passwordless construct's stack?)", stack, name)
		case 1:
		default:
			sort.Strings(matches)
			return Outputs{}, fmt.Errorf("smoke: stack %s has several %s outputs: %v", stack, name, matches)
		}
	}
	return Outputs{UserPoolID: found["UserPoolId"], ClientID: found["UserPoolClientId"], APIURL: found["ApiUrl"], Region: found["Region"]}, nil
}
