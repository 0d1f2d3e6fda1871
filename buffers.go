// Frame buffer pool.
//
// Every frame read from a socket lands in a *[frameSize]byte from this pool.
// Whoever holds a frame is responsible for putting it back: a reader that
// hands a frame to the loop gives up ownership, and the loop puts it back once
// it has handled it. Pooling pointers to arrays, not slices, keeps Get and Put
// free of allocations.

package main

import "sync"

type frame = [frameSize]byte

var framePool = sync.Pool{New: func() any { return new(frame) }}

// getFrame returns a frame buffer; its contents are undefined.
func getFrame() *frame { return framePool.Get().(*frame) }

// putFrame returns f to the pool. The caller must not touch f afterwards.
func putFrame(f *frame) { framePool.Put(f) }

// smallFrameSize holds a PADI as clients send it (Service-Name, Host-Uniq,
// a relay's tags), so that the deep queue of PADIs waiting for the loop
// (server.post) costs a quarter of a megabyte per thousand, not two.
const smallFrameSize = 256

type smallFrame = [smallFrameSize]byte

var smallFramePool = sync.Pool{New: func() any { return new(smallFrame) }}

func getSmallFrame() *smallFrame  { return smallFramePool.Get().(*smallFrame) }
func putSmallFrame(f *smallFrame) { smallFramePool.Put(f) }
