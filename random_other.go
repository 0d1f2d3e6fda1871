//go:build !linux

package main

import "crypto/rand"

func fillRandom(b []byte) { rand.Read(b) }
