package otp_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/passwordless-go/cognito/lambdas/otp"
)

func TestGenerateLength(t *testing.T) {
	for digits := otp.MinDigits; digits <= otp.MaxDigits; digits++ {
		for range 50 {
			code, err := otp.Generate(nil, digits)
			if err != nil {
				t.Fatal(err)
			}
			if len(code) != digits || strings.Trim(code, "0123456789") != "" {
				t.Fatalf("Generate(%d) = %q", digits, code)
			}
		}
	}
	for _, digits := range []int{-1, 0, 4, 5, 11, 20} {
		if code, err := otp.Generate(nil, digits); err == nil {
			t.Errorf("Generate(%d) = %q, want an error", digits, code)
		}
	}
}

// TestGenerateRejectsHighBytes shows the rejection sampling: bytes 250-255 are skipped, the others
// give byte % 10.
func TestGenerateRejectsHighBytes(t *testing.T) {
	src := []byte{250, 3, 255, 17, 249, 251, 0, 252, 99, 253, 254, 120, 1, 2, 3, 4}
	code, err := otp.Generate(bytes.NewReader(src), 6)
	if err != nil {
		t.Fatal(err)
	}
	if code != "379090" {
		t.Fatalf("Generate = %q, want 379090 (3, 17, 249, 0, 99, 120 with 250-255 skipped)", code)
	}
}

type constReader byte

func (c constReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(c)
	}
	return len(p), nil
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("entropy exhausted") }

func TestGenerateBrokenSources(t *testing.T) {
	if code, err := otp.Generate(constReader(0xff), 6); err == nil {
		t.Errorf("a source of only rejected bytes gave %q", code)
	}
	if code, err := otp.Generate(errReader{}, 6); err == nil {
		t.Errorf("a failing source gave %q", code)
	}
	if code, err := otp.Generate(io.LimitReader(constReader(1), 5), 6); err == nil {
		t.Errorf("a short source gave %q", code)
	}
}

// chiBound is the largest chi-square statistic (9 degrees of freedom) accepted as uniform.
// P(chi2 > 45) is about 1e-6 for a uniform source: generous enough never to flake, still far
// below what the biases in TestUniformityStatisticCatchesBias produce.
const chiBound = 45.0

func chiSquare(counts [10]int) float64 {
	n := 0
	for _, c := range counts {
		n += c
	}
	want := float64(n) / 10
	x := 0.0
	for _, c := range counts {
		d := float64(c) - want
		x += d * d / want
	}
	return x
}

// uniformity returns what is wrong with the digit distribution of codes: a digit missing from
// a position, or a chi-square statistic above chiBound for a position or for all positions
// pooled.
func uniformity(codes []string) []string {
	var problems []string
	width := len(codes[0])
	perPos := make([][10]int, width)
	var pooled [10]int
	for _, c := range codes {
		for i := 0; i < width; i++ {
			d := c[i] - '0'
			perPos[i][d]++
			pooled[d]++
		}
	}
	for i, counts := range perPos {
		for d, n := range counts {
			if n == 0 {
				problems = append(problems, fmt.Sprintf("digit %d never at position %d", d, i))
			}
		}
		if x := chiSquare(counts); x > chiBound {
			problems = append(problems, fmt.Sprintf("position %d: chi2 %.1f > %.0f (%v)", i, x, chiBound, counts))
		}
	}
	if x := chiSquare(pooled); x > chiBound {
		problems = append(problems, fmt.Sprintf("all positions: chi2 %.1f > %.0f (%v)", x, chiBound, pooled))
	}
	return problems
}

const sampleCodes = 100_000

func sample(tb testing.TB, gen func() (string, error)) []string {
	tb.Helper()
	codes := make([]string, sampleCodes)
	for i := range codes {
		c, err := gen()
		if err != nil {
			tb.Fatal(err)
		}
		codes[i] = c
	}
	return codes
}

func TestGenerateDistribution(t *testing.T) {
	codes := sample(t, func() (string, error) { return otp.Generate(nil, 6) })
	if p := uniformity(codes); len(p) > 0 {
		t.Fatalf("crypto/rand codes are not uniform:\n%s", strings.Join(p, "\n"))
	}
	seen := map[string]bool{}
	dups := 0
	for _, c := range codes {
		if seen[c] {
			dups++
		}
		seen[c] = true
	}
	// 100k draws from 10^6 codes: about 4.8k repeats are expected (birthday bound).
	if dups < 3000 || dups > 7000 {
		t.Errorf("%d repeated codes in %d, want about 4800", dups, len(codes))
	}
}

// moduloCode is the classic mistake Generate avoids: byte % 10 favours 0-5 (26 byte values each)
// over 6-9 (25 each).
func moduloCode(r io.Reader, digits int) (string, error) {
	b := make([]byte, digits)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", err
	}
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return string(b), nil
}

// skewedReader turns every 100th byte of r into 0: 1% extra zeros.
type skewedReader struct {
	r io.Reader
	n int
}

func (s *skewedReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	for i := range p[:n] {
		if s.n++; s.n%100 == 0 {
			p[i] = 0
		}
	}
	return n, err
}

// TestUniformityStatisticCatchesBias shows that the statistic TestGenerateDistribution relies on
// fails for realistic biases, so that test can fail.
func TestUniformityStatisticCatchesBias(t *testing.T) {
	t.Run("modulo bias", func(t *testing.T) {
		r := seeded(1)
		codes := sample(t, func() (string, error) { return moduloCode(r, 6) })
		if p := uniformity(codes); len(p) == 0 {
			t.Fatal("the statistic does not catch byte % 10")
		} else {
			t.Logf("caught: %s", strings.Join(p, "; "))
		}
	})
	t.Run("skewed source", func(t *testing.T) {
		r := &skewedReader{r: seeded(2)}
		codes := sample(t, func() (string, error) { return otp.Generate(r, 6) })
		if p := uniformity(codes); len(p) == 0 {
			t.Fatal("the statistic does not catch a 1% skew")
		} else {
			t.Logf("caught: %s", strings.Join(p, "; "))
		}
	})
	t.Run("control: seeded uniform source passes", func(t *testing.T) {
		r := seeded(3)
		codes := sample(t, func() (string, error) { return otp.Generate(r, 6) })
		if p := uniformity(codes); len(p) > 0 {
			t.Fatalf("a uniform source fails: %s", strings.Join(p, "; "))
		}
	})
}

func TestDigestBindsEverything(t *testing.T) {
	salt := bytes.Repeat([]byte{7}, otp.SaltBytes)
	const to = "alice@example.com"
	base := otp.Digest(salt, sid, 1, to, "123456")
	if len(base) != 32 {
		t.Fatalf("digest is %d bytes", len(base))
	}
	if !otp.Verify(salt, base, sid, 1, to, "123456") {
		t.Fatal("Verify rejects the right code")
	}
	if bytes.Contains(base, []byte("123456")) {
		t.Fatal("digest contains the code")
	}
	otherSalt := bytes.Repeat([]byte{8}, otp.SaltBytes)
	for name, ok := range map[string]bool{
		"other code":       otp.Verify(salt, base, sid, 1, to, "123457"),
		"other generation": otp.Verify(salt, base, sid, 2, to, "123456"),
		"other session":    otp.Verify(salt, base, sid2, 1, to, "123456"),
		"other recipient":  otp.Verify(salt, base, sid, 1, "mallory@example.com", "123456"),
		"other salt":       otp.Verify(otherSalt, base, sid, 1, to, "123456"),
		"ambiguous split":  otp.Verify(salt, base, sid+"|1", 0, to, "23456"),
		"recipient split":  otp.Verify(salt, base, sid, 1, to+"|1", "23456"),
		"empty code":       otp.Verify(salt, base, sid, 1, to, ""),
		"truncated digest": otp.Verify(salt, base[:31], sid, 1, to, "123456"),
	} {
		if ok {
			t.Errorf("%s: Verify accepted", name)
		}
	}
}
