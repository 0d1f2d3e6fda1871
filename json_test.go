package main

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sampleReply() ctlReply {
	n := 3
	st := &statInfo{Version: "0.1.0 <&>", Mode: "tun", Started: time.Date(2026, 11, 29, 9, 30, 1, 123456789, time.FixedZone("", 3600)),
		Uptime: 42, SessionsUp: 3, SessionsEnded: map[string]uint64{"lcp-echo": 2, "admin": 1, "\u2028odd\x01": 9},
		Drops: map[string]uint64{}, SetupRate: 12.5, LoopLagMax: 1e-7, PoolSize: 64, RSSBytes: 1 << 40,
		Radius: &radiusStat{Servers: []radiusServerStat{{Server: "192.0.2.10:1812", Role: "auth+acct", Requests: 7, Dead: true}}}}
	st.Radius.Accounting.Queued = -1
	return ctlReply{OK: true, Sessions: []sessionInfo{
		{Ifname: "ppp0", User: "al\"ice\\ \t\n\r\b\f é \xff\u2029", MAC: "02:00:00:00:00:01", SID: 1, State: "up", Started: time.Unix(1_800_000_000, 0).UTC(), RxBytes: math.MaxUint64},
		{User: "<script>&", AuthSource: "radius", Class: "gold"},
	}, Stat: st, Count: &n, Changed: "rate"}
}

// TestJSONMatchesEncodingJSON: our encoder writes what encoding/json
// writes, compact and indented, for every field of the control types.
func TestJSONMatchesEncodingJSON(t *testing.T) {
	rep := sampleReply()
	n := 7
	for _, v := range []any{rep, &rep, rep.Sessions, rep.Stat, ctlReply{}, ctlRequest{Cmd: "stat", SID: 9, All: true},
		[]sessionInfo{}, map[string]uint64(nil), []secret{"pw"}, struct{ S secret }{"pw"},
		map[secret]int{"b": 1, "a": 2, "": 3, "\u00e9": 4, "Z": 5}, map[string]*int{"x": nil, "w": &n},
		[]float64{0, 1, -1, 1e20, 1e21, 1e-6, 1e-7, 123456789.125, -0.000001234}, []float32{1e21, 1e-7, 3.25}} {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if got := marshalJSON(v); !bytes.Equal(got, want) {
			t.Errorf("%T:\nours %s\nwant %s", v, got, want)
		}
		want, _ = json.MarshalIndent(v, "", "  ")
		if got := marshalJSONIndent(v); !bytes.Equal(got, want) {
			t.Errorf("%T indented:\nours %s\nwant %s", v, got, want)
		}
	}
}

// TestJSONRoundTrip: what we write, we read back to the same value.
func TestJSONRoundTrip(t *testing.T) {
	rep := sampleReply()
	var got ctlReply
	if err := unmarshalJSON(marshalJSON(rep), &got, true); err != nil {
		t.Fatal(err)
	}
	// Invalid UTF-8 comes back as U+FFFD, as with encoding/json.
	rep.Sessions[0].User = strings.ToValidUTF8(rep.Sessions[0].User, "\ufffd")
	rep.Stat.SessionsEnded["\u2028odd\x01"] = 9
	if !reflect.DeepEqual(got, rep) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, rep)
	}
}

// TestJSONErrors: bad input is one line that says what is wrong.
func TestJSONErrors(t *testing.T) {
	for in, want := range map[string]string{
		`{"cmd":"stat","bogus":1}`: `unknown field "bogus"`,
		`{"cmd":"stat"`:            "unexpected end",
		`{"sid":70000}`:            "cannot put a number 70000 in a uint16",
		`{"sid":"1"}`:              "cannot put a string in a uint16",
		`{"cmd":"stat"} x`:         "after the value",
		`{"cmd":'stat'}`:           "invalid character '\\''",
		`[1]`:                      "cannot put a array",
		``:                         "unexpected end",
	} {
		var req ctlRequest
		err := unmarshalJSON([]byte(in), &req, true)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
}

// FuzzJSON: for any input, our decoder accepts what encoding/json accepts
// and decodes it to the same value, into a request (unknown fields
// refused) and into a reply (unknown fields skipped); and a decoded reply
// encodes as encoding/json encodes it.
func FuzzJSON(f *testing.F) {
	rep := sampleReply()
	f.Add(marshalJSON(rep))
	f.Add(marshalJSONIndent(rep))
	f.Add([]byte(`{"cmd":"terminate","user":"a\u00e9\ud83d\ude00\ud800x","sid":7,"All":true,"RATE":"1/2"}`))
	f.Add([]byte(`{"cmd":"sessions","mac":null,"sid":0,"ip":"10.0.0.2"} `))
	f.Add([]byte(`{"ok":false,"sessions":[],"stat":{"drops_total":{},"setup_rate":-1.5e-7,"started":"2026-11-29T09:30:01Z"},"count":null,"x":[{"y":[1,2.5e3,true,null,"z"]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var ours, theirs ctlRequest
		errOurs := unmarshalJSON(b, &ours, true)
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		errTheirs := dec.Decode(&theirs)
		if errTheirs == nil {
			if dec.Decode(&struct{}{}) != io.EOF {
				errTheirs = io.ErrUnexpectedEOF // something after the value
			}
		}
		if (errOurs == nil) != (errTheirs == nil) {
			t.Fatalf("request %q: ours %v, encoding/json %v", b, errOurs, errTheirs)
		}
		if errOurs == nil && ours != theirs {
			t.Fatalf("request %q: ours %+v, encoding/json %+v", b, ours, theirs)
		}

		var r1, r2 ctlReply
		errOurs = unmarshalJSON(b, &r1, false)
		errTheirs = json.Unmarshal(b, &r2)
		if (errOurs == nil) != (errTheirs == nil) {
			t.Fatalf("reply %q: ours %v, encoding/json %v", b, errOurs, errTheirs)
		}
		if errOurs != nil {
			return
		}
		if !reflect.DeepEqual(r1, r2) {
			t.Fatalf("reply %q:\nours %+v\n enc %+v", b, r1, r2)
		}
		want, err := json.Marshal(r2)
		if err != nil {
			return // a float or time encoding/json refuses to write
		}
		if got := marshalJSON(r1); !bytes.Equal(got, want) {
			t.Fatalf("reply %q encodes as\n%s\nnot\n%s", b, got, want)
		}
	})
}
