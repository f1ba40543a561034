package awsapi

import "strings"

// partitionSuffixes maps a region name prefix to the DNS suffix of its partition's endpoints, as
// in the AWS SDK's partition table (aws-sdk-go-v2 internal/endpoints/awsrulesfn/partitions.json;
// TestDNSSuffixMatchesSDK checks every entry against the SDK's resolver). Regions of the aws and
// aws-us-gov partitions, and regions matching none of these prefixes, use "amazonaws.com", as the
// SDK does.
var partitionSuffixes = []struct{ prefix, suffix string }{
	{"cn-", "amazonaws.com.cn"},    // aws-cn
	{"us-iso-", "c2s.ic.gov"},      // aws-iso
	{"us-isob-", "sc2s.sgov.gov"},  // aws-iso-b
	{"us-isof-", "csp.hci.ic.gov"}, // aws-iso-f
	{"eu-isoe-", "cloud.adc-e.uk"}, // aws-iso-e
	{"eusc-de-", "amazonaws.eu"},   // aws-eusc (European Sovereign Cloud)
}

// DNSSuffix returns the DNS suffix of the endpoints of region's partition: "amazonaws.com.cn"
// for the China regions (cn-north-1, cn-northwest-1), the ISO and European Sovereign Cloud
// suffixes for theirs, and "amazonaws.com" for every other region (the default, as in the SDK).
// A service's regional endpoint is https://<service>.<region>.<DNSSuffix(region)>.
func DNSSuffix(region string) string {
	for _, p := range partitionSuffixes {
		if strings.HasPrefix(region, p.prefix) {
			return p.suffix
		}
	}
	return "amazonaws.com"
}
