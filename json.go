// JSON for the control socket, pppoed rpc and show --format json: the
// subset of encoding/json that the control types use (structs with json
// tags and omitempty, pointers, slices, string-keyed maps, strings,
// numbers, booleans, time.Time and other TextMarshalers), with the same
// output byte for byte and the same acceptance of input (fuzzed against
// encoding/json in json_test.go). Where encoding/json would fail a whole
// reply (NaN, a time past year 9999) the value is written as null. A new
// field of another kind (map keys other than strings, []byte, embedded
// structs, a TextUnmarshaler other than time.Time) needs code here and a
// seed in FuzzJSON. encoding/json itself costs the router
// binary about 200 KB; reflect is there anyway for the TOML decoder.
//
// Nothing here is on a hot path: control requests are rare and small.

package main

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// marshalJSON encodes v compactly, as json.Marshal does.
func marshalJSON(v any) []byte {
	e := jsonEncoder{}
	e.value(reflect.ValueOf(v))
	return e.b
}

// marshalJSONIndent encodes v as json.MarshalIndent(v, "", "  ") does.
func marshalJSONIndent(v any) []byte {
	e := jsonEncoder{indent: true}
	e.value(reflect.ValueOf(v))
	return e.b
}

type jsonEncoder struct {
	b      []byte
	indent bool
	depth  int
}

var textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()

func (e *jsonEncoder) newline() {
	if e.indent {
		e.b = append(e.b, '\n')
		for range e.depth {
			e.b = append(e.b, ' ', ' ')
		}
	}
}

func (e *jsonEncoder) value(v reflect.Value) {
	if !v.IsValid() {
		e.b = append(e.b, "null"...)
		return
	}
	if (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && v.IsNil() {
		e.b = append(e.b, "null"...)
		return
	}
	if v.Type().Implements(textMarshalerType) {
		t, err := v.Interface().(encoding.TextMarshaler).MarshalText()
		if err != nil {
			e.b = append(e.b, "null"...)
			return
		}
		e.b = appendJSONString(e.b, string(t))
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		e.value(v.Elem())
	case reflect.Bool:
		e.b = strconv.AppendBool(e.b, v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.b = strconv.AppendInt(e.b, v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.b = strconv.AppendUint(e.b, v.Uint(), 10)
	case reflect.Float32, reflect.Float64:
		e.float(v.Float(), v.Type().Bits())
	case reflect.String:
		e.b = appendJSONString(e.b, v.String())
	case reflect.Struct:
		e.object(v)
	case reflect.Map:
		e.mapping(v)
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			e.b = append(e.b, "null"...)
			return
		}
		e.b = append(e.b, '[')
		if v.Len() > 0 {
			e.depth++
			for i := range v.Len() {
				if i > 0 {
					e.b = append(e.b, ',')
				}
				e.newline()
				e.value(v.Index(i))
			}
			e.depth--
			e.newline()
		}
		e.b = append(e.b, ']')
	default:
		e.b = append(e.b, "null"...)
	}
}

// float writes f as encoding/json does: plain notation, exponent only for
// very small or large magnitudes, and no NaN or infinity (null instead;
// JSON has neither, and encoding/json would fail the whole reply).
func (e *jsonEncoder) float(f float64, bits int) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		e.b = append(e.b, "null"...)
		return
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	e.b = strconv.AppendFloat(e.b, f, format, -1, bits)
	if format == 'e' {
		// e-09 to e-9
		if n := len(e.b); n >= 4 && e.b[n-4] == 'e' && e.b[n-3] == '-' && e.b[n-2] == '0' {
			e.b[n-2] = e.b[n-1]
			e.b = e.b[:n-1]
		}
	}
}

func (e *jsonEncoder) object(v reflect.Value) {
	e.b = append(e.b, '{')
	e.depth++
	n := 0
	for _, f := range jsonFields(v.Type()) {
		fv := v.Field(f.index)
		if f.omitEmpty && isEmptyJSON(fv) {
			continue
		}
		if n > 0 {
			e.b = append(e.b, ',')
		}
		n++
		e.newline()
		e.b = appendJSONString(e.b, f.name)
		e.b = append(e.b, ':')
		if e.indent {
			e.b = append(e.b, ' ')
		}
		e.value(fv)
	}
	e.depth--
	if n > 0 {
		e.newline()
	}
	e.b = append(e.b, '}')
}

func (e *jsonEncoder) mapping(v reflect.Value) {
	if v.IsNil() {
		e.b = append(e.b, "null"...)
		return
	}
	// The keys are sorted as strings, not as reflect.Values: slices.Sort
	// of strings is in the binary anyway, a sort of reflect.Values would
	// add its own 9 KB.
	keys := make([]string, 0, v.Len())
	for it := v.MapRange(); it.Next(); {
		keys = append(keys, it.Key().String())
	}
	slices.Sort(keys)
	kv := reflect.New(v.Type().Key()).Elem()
	e.b = append(e.b, '{')
	e.depth++
	for i, k := range keys {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.newline()
		e.b = appendJSONString(e.b, k)
		e.b = append(e.b, ':')
		if e.indent {
			e.b = append(e.b, ' ')
		}
		kv.SetString(k)
		e.value(v.MapIndex(kv))
	}
	e.depth--
	if len(keys) > 0 {
		e.newline()
	}
	e.b = append(e.b, '}')
}

func isEmptyJSON(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

// appendJSONString quotes s as encoding/json does: the HTML characters <,
// > and & escaped, U+2028 and U+2029 too, and each invalid UTF-8 byte
// replaced by U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= ' ' && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// jsonField is a struct field that JSON sees.
type jsonField struct {
	name      string
	index     int
	omitEmpty bool
}

// jsonFields lists t's exported fields with their JSON names.
func jsonFields(t reflect.Type) []jsonField {
	var fs []jsonField
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = sf.Name
		}
		fs = append(fs, jsonField{name: name, index: i, omitEmpty: slices.Contains(strings.Split(opts, ","), "omitempty")})
	}
	return fs
}

// unmarshalJSON decodes data into v, which must be a non-nil pointer, as
// json.Unmarshal does: keys match fields exactly or else ignoring case,
// null leaves a value alone (and clears a pointer, slice or map), and a
// number must fit its field. With strict, a key that is no field is an
// error (as with a Decoder's DisallowUnknownFields). Anything after the
// value but white space is an error too.
func unmarshalJSON(data []byte, v any, strict bool) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return errors.New("json: decoding needs a non-nil pointer")
	}
	d := jsonDecoder{data: data, strict: strict}
	d.space()
	if err := d.value(rv.Elem()); err != nil {
		return err
	}
	d.space()
	if d.i < len(d.data) {
		return d.syntax("after the value")
	}
	return nil
}

type jsonDecoder struct {
	data   []byte
	i      int
	strict bool
	depth  int
}

// jsonMaxDepth is encoding/json's nesting limit.
const jsonMaxDepth = 10000

func (d *jsonDecoder) space() {
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *jsonDecoder) syntax(where string) error {
	if d.i >= len(d.data) {
		return errors.New("json: unexpected end of input")
	}
	return fmt.Errorf("json: invalid character %q at offset %d %s", d.data[d.i], d.i, where)
}

func typeError(what string, t reflect.Type) error {
	return fmt.Errorf("json: cannot put a %s in a %s", what, t)
}

var timeType = reflect.TypeFor[time.Time]()

// value decodes the value at d.i into v; an invalid v skips it.
func (d *jsonDecoder) value(v reflect.Value) error {
	if d.i >= len(d.data) {
		return d.syntax("")
	}
	c := d.data[d.i]
	if c == 'n' {
		if err := d.literal("null"); err != nil {
			return err
		}
		if v.IsValid() {
			switch v.Kind() {
			case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
				v.SetZero()
			}
		}
		return nil
	}
	// Through pointers, allocating as needed.
	for v.IsValid() && v.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		v = v.Elem()
	}
	switch {
	case c == '{':
		return d.object(v)
	case c == '[':
		return d.array(v)
	case c == '"':
		return d.str(v)
	case c == 't' || c == 'f':
		word := "true"
		if c == 'f' {
			word = "false"
		}
		if err := d.literal(word); err != nil {
			return err
		}
		if !v.IsValid() {
			return nil
		}
		if v.Kind() != reflect.Bool {
			return typeError("boolean", v.Type())
		}
		v.SetBool(c == 't')
		return nil
	case c == '-' || '0' <= c && c <= '9':
		return d.number(v)
	}
	return d.syntax("looking for a value")
}

func (d *jsonDecoder) literal(word string) error {
	if !bytes.HasPrefix(d.data[d.i:], []byte(word)) {
		for j := 0; j < len(word) && d.i < len(d.data) && d.data[d.i] == word[j]; j++ {
			d.i++
		}
		return d.syntax("in a literal")
	}
	d.i += len(word)
	return nil
}

func (d *jsonDecoder) nest() error {
	d.depth++
	if d.depth > jsonMaxDepth {
		return errors.New("json: nested too deeply")
	}
	return nil
}

func (d *jsonDecoder) object(v reflect.Value) error {
	if err := d.nest(); err != nil {
		return err
	}
	defer func() { d.depth-- }()
	var fields []jsonField
	switch {
	case !v.IsValid():
	case v.Kind() == reflect.Struct && v.Type() != timeType:
		fields = jsonFields(v.Type())
	case v.Kind() == reflect.Map && v.Type().Key().Kind() == reflect.String:
		if v.IsNil() {
			v.Set(reflect.MakeMap(v.Type()))
		}
	default:
		return typeError("object", v.Type())
	}
	d.i++ // {
	d.space()
	if d.i < len(d.data) && d.data[d.i] == '}' {
		d.i++
		return nil
	}
	for {
		if d.i >= len(d.data) || d.data[d.i] != '"' {
			return d.syntax("looking for a key")
		}
		key, err := d.unquote()
		if err != nil {
			return err
		}
		d.space()
		if d.i >= len(d.data) || d.data[d.i] != ':' {
			return d.syntax("after a key")
		}
		d.i++
		d.space()
		switch {
		case !v.IsValid():
			err = d.value(reflect.Value{})
		case v.Kind() == reflect.Map:
			elem := reflect.New(v.Type().Elem()).Elem()
			if err = d.value(elem); err == nil {
				v.SetMapIndex(reflect.ValueOf(key).Convert(v.Type().Key()), elem)
			}
		default:
			f := matchJSONField(fields, key)
			if f < 0 && d.strict {
				return fmt.Errorf("json: unknown field %q", key)
			}
			fv := reflect.Value{}
			if f >= 0 {
				fv = v.Field(fields[f].index)
			}
			err = d.value(fv)
		}
		if err != nil {
			return err
		}
		d.space()
		if d.i < len(d.data) && d.data[d.i] == ',' {
			d.i++
			d.space()
			continue
		}
		if d.i < len(d.data) && d.data[d.i] == '}' {
			d.i++
			return nil
		}
		return d.syntax("after an object's value")
	}
}

// matchJSONField prefers an exact match, then one that ignores case.
func matchJSONField(fs []jsonField, key string) int {
	for i, f := range fs {
		if f.name == key {
			return i
		}
	}
	for i, f := range fs {
		if strings.EqualFold(f.name, key) {
			return i
		}
	}
	return -1
}

func (d *jsonDecoder) array(v reflect.Value) error {
	if err := d.nest(); err != nil {
		return err
	}
	defer func() { d.depth-- }()
	if v.IsValid() && v.Kind() != reflect.Slice {
		return typeError("array", v.Type())
	}
	d.i++ // [
	d.space()
	n := 0
	if d.i < len(d.data) && d.data[d.i] == ']' {
		d.i++
	} else {
		for {
			elem := reflect.Value{}
			if v.IsValid() {
				if n >= v.Cap() {
					v.Grow(1)
				}
				// As encoding/json: decoded into what is there (a
				// repeated key merges), not into a zero value.
				v.SetLen(n + 1)
				elem = v.Index(n)
			}
			if err := d.value(elem); err != nil {
				return err
			}
			n++
			d.space()
			if d.i < len(d.data) && d.data[d.i] == ',' {
				d.i++
				d.space()
				continue
			}
			if d.i < len(d.data) && d.data[d.i] == ']' {
				d.i++
				break
			}
			return d.syntax("after an array's element")
		}
	}
	if v.IsValid() {
		if n == 0 {
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		} else {
			v.SetLen(n)
		}
	}
	return nil
}

func (d *jsonDecoder) str(v reflect.Value) error {
	start := d.i
	s, err := d.unquote()
	if err != nil || !v.IsValid() {
		return err
	}
	if v.Type() == timeType {
		// encoding/json hands time.Time the quoted text as it stands,
		// escapes and all (time's UnmarshalJSON does not unescape).
		return v.Addr().Interface().(*time.Time).UnmarshalText(d.data[start+1 : d.i-1])
	}
	if v.Kind() != reflect.String {
		return typeError("string", v.Type())
	}
	v.SetString(s)
	return nil
}

// unquote reads the string at d.i, which starts with '"'.
func (d *jsonDecoder) unquote() (string, error) {
	d.i++
	start := d.i
	// The common case: no escapes, all valid UTF-8.
	for d.i < len(d.data) {
		c := d.data[d.i]
		if c == '"' {
			s := d.data[start:d.i]
			d.i++
			return string(s), nil
		}
		if c == '\\' || c < ' ' || c >= utf8.RuneSelf {
			break
		}
		d.i++
	}
	b := append([]byte(nil), d.data[start:d.i]...)
	for d.i < len(d.data) {
		c := d.data[d.i]
		switch {
		case c == '"':
			d.i++
			return string(b), nil
		case c < ' ':
			return "", d.syntax("in a string")
		case c == '\\':
			d.i++
			if d.i >= len(d.data) {
				return "", d.syntax("")
			}
			switch e := d.data[d.i]; e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := d.hex4(d.i + 1)
				if !ok {
					return "", d.syntax("in a \\u escape")
				}
				d.i += 4
				if utf16.IsSurrogate(r) {
					if d.i+2 < len(d.data) && d.data[d.i+1] == '\\' && d.data[d.i+2] == 'u' {
						if r2, ok := d.hex4(d.i + 3); ok {
							if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
								r = dec
								d.i += 6
								b = utf8.AppendRune(b, r)
								break
							}
						}
					}
					r = utf8.RuneError
				}
				b = utf8.AppendRune(b, r)
			default:
				return "", d.syntax("in an escape")
			}
			d.i++
		case c < utf8.RuneSelf:
			b = append(b, c)
			d.i++
		default:
			r, size := utf8.DecodeRune(d.data[d.i:])
			b = utf8.AppendRune(b, r) // U+FFFD for a bad byte
			d.i += size
		}
	}
	return "", d.syntax("")
}

func (d *jsonDecoder) hex4(at int) (rune, bool) {
	if at+4 > len(d.data) {
		return 0, false
	}
	var r rune
	for _, c := range d.data[at : at+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// number reads -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? and stores it
// if it fits v's kind.
func (d *jsonDecoder) number(v reflect.Value) error {
	start := d.i
	digits := func() bool {
		n := 0
		for d.i < len(d.data) && '0' <= d.data[d.i] && d.data[d.i] <= '9' {
			d.i++
			n++
		}
		return n > 0
	}
	if d.data[d.i] == '-' {
		d.i++
	}
	if d.i < len(d.data) && d.data[d.i] == '0' {
		d.i++
	} else if !digits() {
		return d.syntax("in a number")
	}
	if d.i < len(d.data) && d.data[d.i] == '.' {
		d.i++
		if !digits() {
			return d.syntax("in a number")
		}
	}
	if d.i < len(d.data) && (d.data[d.i] == 'e' || d.data[d.i] == 'E') {
		d.i++
		if d.i < len(d.data) && (d.data[d.i] == '+' || d.data[d.i] == '-') {
			d.i++
		}
		if !digits() {
			return d.syntax("in a number")
		}
	}
	if !v.IsValid() {
		return nil
	}
	lit := string(d.data[start:d.i])
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(lit, 10, 64)
		if err != nil || v.OverflowInt(n) {
			return typeError("number "+lit, v.Type())
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n, err := strconv.ParseUint(lit, 10, 64)
		if err != nil || v.OverflowUint(n) {
			return typeError("number "+lit, v.Type())
		}
		v.SetUint(n)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(lit, v.Type().Bits())
		if err != nil || v.OverflowFloat(f) {
			return typeError("number "+lit, v.Type())
		}
		v.SetFloat(f)
	default:
		return typeError("number", v.Type())
	}
	return nil
}
