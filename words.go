// pppd's file grammar: the one tokeniser for the options file and the
// secrets files, as pppd's getword() in options.c reads both.
//
//   - Words are separated by white space. A '#' outside quotes starts a
//     comment to the end of the line; it also ends an unquoted word it
//     touches ("pw#x" is "pw"). A word that starts with " or ' runs to the
//     matching quote, white space, '#' and newlines included. A quote
//     inside an unquoted word is an ordinary character.
//   - A backslash escapes the next character; \a \b \f \n \r \s (space) \t,
//     \ooo (octal) and \xhh (hex) are C-style escapes; backslash-newline is
//     a line continuation.
//   - Unlike pppd, a quote still open at the end of the input is an error.

package main

import "errors"

var errUnterminatedQuote = errors.New("pppoe: unterminated quote")

// wordScanner is pppd's getword() over a byte slice.
type wordScanner struct {
	b    []byte
	i    int
	line int // of the next byte
}

const wordEOF = -1

func (s *wordScanner) getc() int {
	if s.i >= len(s.b) {
		return wordEOF
	}
	c := s.b[s.i]
	s.i++
	if c == '\n' {
		s.line++
	}
	return int(c)
}

func (s *wordScanner) ungetc() {
	s.i--
	if s.b[s.i] == '\n' {
		s.line--
	}
}

// isCSpace is C's isspace in the "C" locale.
func isCSpace(c int) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isOctalDigit(c int) bool { return c >= '0' && c <= '7' }

func hexDigitVal(c int) (int, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// next returns the next word, the line it starts on, and whether a newline
// came before it since the previous word (it starts an entry). ok is false
// at the end of the input. Unlike pppd, a quote still open at the end of the
// input is an error, reported at the line where the word began.
func (s *wordScanner) next() (word string, line int, newline, ok bool, err error) {
	var (
		c       int
		escape  bool
		comment bool
	)
	for {
		c = s.getc()
		if c == wordEOF {
			break
		}
		if c == '\n' {
			if !escape {
				newline, comment = true, false
			} else {
				escape = false
			}
			continue
		}
		if comment {
			continue
		}
		if escape {
			break
		}
		if c == '\\' {
			escape = true
			continue
		}
		if c == '#' {
			comment = true
			continue
		}
		if !isCSpace(c) {
			break
		}
	}
	line = s.line
	if c == wordEOF {
		return "", line, newline, false, nil
	}

	var quoted int
	if !escape && (c == '"' || c == '\'') {
		quoted = c
		c = s.getc()
	}
	var w []byte
	for c != wordEOF {
		if escape {
			escape = false
			if c == '\n' {
				c = s.getc()
				continue
			}
			got := false
			var v int
			switch c {
			case 'a':
				v = '\a'
			case 'b':
				v = '\b'
			case 'f':
				v = '\f'
			case 'n':
				v = '\n'
			case 'r':
				v = '\r'
			case 's':
				v = ' '
			case 't':
				v = '\t'
			default:
				switch {
				case isOctalDigit(c):
					for n := 0; n < 3 && isOctalDigit(c); n++ {
						v = v<<3 + c - '0'
						c = s.getc()
					}
					got = true
				case c == 'x':
					c = s.getc()
					for n := 0; n < 2; n++ {
						d, ok := hexDigitVal(c)
						if !ok {
							break
						}
						v = v<<4 + d
						c = s.getc()
					}
					got = true
				default:
					v = c
				}
			}
			w = append(w, byte(v))
			if !got {
				c = s.getc()
			}
			continue
		}
		if quoted != 0 {
			if c == quoted {
				return string(w), line, newline, true, nil
			}
		} else if isCSpace(c) || c == '#' {
			s.ungetc()
			return string(w), line, newline, true, nil
		}
		if c == '\\' {
			escape = true
			c = s.getc()
			continue
		}
		w = append(w, byte(c))
		c = s.getc()
	}
	if quoted != 0 {
		return "", line, newline, false, errUnterminatedQuote
	}
	return string(w), line, newline, true, nil
}
