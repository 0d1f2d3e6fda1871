package main

import "golang.org/x/sys/unix"

// fillRandom fills b from the kernel's CSPRNG with getrandom(2). It is
// crypto/rand without its FIPS DRBG and math/big, which together cost the
// router binary over half a megabyte.
func fillRandom(b []byte) {
	for len(b) > 0 {
		n, err := unix.Getrandom(b, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			panic("getrandom: " + err.Error())
		}
		b = b[n:]
	}
}
