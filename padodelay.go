// PADO delay by load, accel-ppp's pado-delay: with several access
// concentrators on one segment, the busier one answers a PADI later (or
// not at all), so clients, which take the first PADO, go to the least
// loaded one.
//
// Syntax: "0,100:100,200:500,-1:1000" is a delay in ms to start with, then
// delay:sessions pairs in ascending order of sessions: from 100 sessions
// on 100 ms, from 500 on 200 ms, from 1000 on no PADO at all (-1), as
// accel-ppp reads it.

package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

type padoStep struct {
	from  int           // sessions from which this step holds
	delay time.Duration // 0: at once
	none  bool          // no PADO at all
}

func parsePADODelay(s string) ([]padoStep, error) {
	var steps []padoStep
	for i, part := range strings.Split(s, ",") {
		d, c, pair := strings.Cut(strings.TrimSpace(part), ":")
		if pair == (i == 0) {
			return nil, fmt.Errorf("%q: want a delay, then delay:sessions pairs", s)
		}
		ms, err := strconv.Atoi(d)
		if err != nil || ms < -1 || ms > 60000 {
			return nil, fmt.Errorf("%q: %q is not a delay in ms (or -1)", s, d)
		}
		step := padoStep{delay: time.Duration(max(ms, 0)) * time.Millisecond, none: ms < 0}
		if pair {
			n, err := strconv.Atoi(c)
			if err != nil || n < 1 || n <= steps[len(steps)-1].from {
				return nil, fmt.Errorf("%q: session counts must rise", s)
			}
			step.from = n
		}
		steps = append(steps, step)
	}
	return steps, nil
}

// padoDelay is the delay for a PADI when n sessions exist; ok is false
// when no PADO is to be sent.
func padoDelay(steps []padoStep, n int) (d time.Duration, ok bool) {
	for _, st := range steps {
		if n >= st.from {
			d, ok = st.delay, !st.none
		}
	}
	return d, ok || len(steps) == 0
}

// delayedPADO is a PADO to send once its delay is over.
type delayedPADO struct {
	ifc   *iface
	frame []byte
}

func (e delayedPADO) handle(s *server) {
	if e.ifc.gone {
		return // its interface went away meanwhile
	}
	s.countOffer()
	if err := e.ifc.discW.writeFrame(e.frame); err != nil {
		s.stats.add(statTxErrors)
		return
	}
	s.stats.add(statTxFrames)
	s.stats.add(statPADO)
}
