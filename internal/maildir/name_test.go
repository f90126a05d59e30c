package maildir

import (
	"crypto/sha256"
	"testing"
	"time"
)

func keyOf(content string, n uint32) Key {
	var k Key
	sum := sha256.Sum256([]byte(content))
	copy(k.Hash[:], sum[:16])
	k.N = n
	return k
}

func TestName(t *testing.T) {
	k := Key{N: 3}
	for i := range k.Hash {
		k.Hash[i] = byte(i * 17)
	}
	got := Name(k, time.Unix(1700000000, 999), 1234, 1260)
	want := "1700000000.M3H00112233445566778899aabbccddeeff.mb2md,S=1234,W=1260"
	if got != want {
		t.Fatalf("Name = %q, want %q", got, want)
	}
	if got := Name(Key{}, time.Unix(-5, 0), 0, 0); got != "-5.M0H00000000000000000000000000000000.mb2md,S=0,W=0" {
		t.Errorf("Name before 1970 = %q", got)
	}
	for _, n := range []string{got, got + ":2,", got + ":2,FRS", got + ",X=1:2,ab"} {
		pk, ok := parseKey(n)
		if !ok || pk != k {
			t.Errorf("parseKey(%q) = %v, %v; want %v", n, pk, ok, k)
		}
	}
	big := Key{N: 1<<32 - 1}
	if pk, ok := parseKey(Name(big, time.Unix(0, 0), 1, 1)); !ok || pk != big {
		t.Errorf("parseKey with N=2^32-1: %v %v", pk, ok)
	}
}

func TestParseKeyRejects(t *testing.T) {
	for _, n := range []string{
		"",
		"1795750654.000003.mbox:2,RS", // mb2md 3.20
		"1700000000.M12345P678.host,S=14,W=15:2,S",           // Dovecot
		"1700000000.M3H00112233445566778899aabbccddee.mb2md", // short hash
		"1700000000.M3H00112233445566778899aabbccddeeff.mb2mdx",
		"1700000000.M3H00112233445566778899aabbccddeeffx.mb2md",
		"1700000000.M3H0011223344556677889zaabbccddeeff.mb2md",
		"1700000000.M4294967296H00112233445566778899aabbccddeeff.mb2md", // N overflows uint32
		"1700000000.MH00112233445566778899aabbccddeeff.mb2md",
		".M3H00112233445566778899aabbccddeeff.mb2md",
		"x1700000000.M3H00112233445566778899aabbccddeeff.mb2md",
	} {
		if k, ok := parseKey(n); ok {
			t.Errorf("parseKey(%q) = %v, want no match", n, k)
		}
	}
}
