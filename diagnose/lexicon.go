package diagnose

import (
	"bytes"
	"fmt"
	"regexp"
)

// lexicon holds every literal the classifier looks for, so that one pass over a line finds all of them: a build log
// is mostly progress lines that contain none, and looking for each literal of each row in turn (a bytes.Index per
// literal) cost more than the rest of the diagnosis together. A line is read three bytes at a time; a bit set over
// a hash of the three bytes says whether any literal starts with them, and only then are the literals that do
// compared.
type lexicon struct {
	lits   [][]byte
	starts [1 << 16 / 64]uint64 // bit h(b0,b1,b2) is set when a literal starts with b0 b1 b2
	byHead map[uint32][]litID   // the literals that start with each three bytes
}

// litID is a literal's place in the lexicon.
type litID uint16

// maxLits bounds the lexicon: litSet has a bit for each literal.
const maxLits = 256

// litSet is the set of literals found in a line.
type litSet [maxLits / 64]uint64

func (s *litSet) add(id litID)      { s[id/64] |= 1 << (id % 64) }
func (s *litSet) has(id litID) bool { return s[id/64]&(1<<(id%64)) != 0 }
func head3(b []byte) uint32         { return uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]) }
func headHash(h uint32) uint32      { return (h * 0x9E3779B1) >> 16 }
func (x *lexicon) mayStart(h uint32) bool {
	i := headHash(h)
	return x.starts[i/64]&(1<<(i%64)) != 0
}

// add registers a literal (lowercase, at least three bytes) and returns its id; a literal added twice keeps its id.
func (x *lexicon) add(lit string) litID {
	if len(lit) < 3 || len(x.lits) >= maxLits {
		panic(fmt.Sprintf("diagnose: literal %q: literals have at least 3 bytes, at most %d of them", lit, maxLits))
	}
	for i, l := range x.lits {
		if string(l) == lit {
			return litID(i)
		}
	}
	id := litID(len(x.lits))
	x.lits = append(x.lits, []byte(lit))
	h := head3(x.lits[id])
	i := headHash(h)
	x.starts[i/64] |= 1 << (i % 64)
	if x.byHead == nil {
		x.byHead = map[uint32][]litID{}
	}
	x.byHead[h] = append(x.byHead[h], id)
	return id
}

// scan returns the literals that occur in l.
func (x *lexicon) scan(l []byte) litSet {
	var found litSet
	if len(l) < 3 {
		return found
	}
	h := uint32(l[0])<<8 | uint32(l[1])
	for i := 0; i+3 <= len(l); i++ {
		h = (h<<8 | uint32(l[i+2])) & (1<<24 - 1)
		if !x.mayStart(h) {
			continue
		}
		for _, id := range x.byHead[h] {
			if bytes.HasPrefix(l[i:], x.lits[id]) {
				found.add(id)
			}
		}
	}
	return found
}

// lex is the classifier's lexicon; every matcher registers its literals in it when the package is initialised.
var lex lexicon

// lineText is one lowercased line (or message) with the literals it contains, read once.
type lineText struct {
	l    []byte
	lits litSet
	hint direction // the direction the line's place in the log gives, when the line names none
	auth class     // authClass, once worked out
	done bool      // auth is worked out
}

func newLineText(l []byte, hint direction) *lineText {
	return &lineText{l: l, lits: lex.scan(l), hint: hint}
}

// has reports whether the line contains the literal.
func (t *lineText) has(id litID) bool { return t.lits.has(id) }

// matcher is a regexp guarded by literals, at least one of which every match contains. A nil re means the literals
// are the whole pattern.
type matcher struct {
	ids []litID
	re  *regexp.Regexp
}

// newMatcher registers the literals (lowercase) in the lexicon.
func newMatcher(re string, lits ...string) matcher {
	m := matcher{}
	for _, l := range lits {
		m.ids = append(m.ids, lex.add(l))
	}
	if re != "" {
		m.re = regexp.MustCompile(re)
	}
	return m
}

func (m matcher) Match(t *lineText) bool {
	for _, id := range m.ids {
		if t.has(id) {
			return m.re == nil || m.re.Match(t.l)
		}
	}
	return false
}

// index returns the index of the earliest literal of m in the line, or -1.
func (m matcher) index(t *lineText) int {
	at := -1
	for _, id := range m.ids {
		if !t.has(id) {
			continue
		}
		if i := bytes.Index(t.l, lex.lits[id]); i >= 0 && (at < 0 || i < at) {
			at = i
		}
	}
	return at
}
