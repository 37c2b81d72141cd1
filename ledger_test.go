package consent

import "testing"

func TestChainHash(t *testing.T) {
	// SHA-256 of "abc", then of that hash's bytes followed by "abc".
	first := ChainHash("", []byte("abc"))
	if first != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("first link %s", first)
	}
	if second := ChainHash(first, []byte("abc")); second == first || len(second) != 64 {
		t.Fatalf("second link %s", second)
	}
}
