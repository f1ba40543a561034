package phone

import "testing"

// BenchmarkParseType is the work of one SMS round: parse, region and type of a number.
func BenchmarkParseType(b *testing.B) {
	for _, s := range []string{"+447400123456", "+12015550123", "+4915123456789"} {
		b.Run(s[:3], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				n, err := Parse(s)
				if err != nil || n.Type() == Unknown {
					b.Fatal(n, err)
				}
			}
		})
	}
}
