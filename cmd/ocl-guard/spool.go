package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// spoolInMemory is how much of check's rendered output stays in memory: the JSON verdicts of about 800 configs, more
// than most repositories hold, so a usual check never touches the disk. It is kept small because it counts toward
// the heap that the garbage collector lets grow several times over (batchGC).
const spoolInMemory = 1 << 20

// spool keeps `check`'s rendered verdicts from when each is decided until the report is written in order, which can
// only happen once every file is read (a later file may define the Secret an earlier config uses). Up to
// spoolInMemory bytes stay in memory; the rest goes to a temporary file, as sort(1) does, so that checking 100,000
// files holds as little memory as checking 1,000. When no temporary file can be made, it keeps everything in
// memory: slower to grow, never wrong. Safe for concurrent use.
type spool struct {
	mu     sync.Mutex
	mem    []byte
	file   *os.File
	size   int64
	noFile bool // os.CreateTemp failed: stay in memory
	limit  int  // bytes kept in memory; spoolInMemory when 0
}

// span is where one rendering is in the spool.
type span struct {
	offset int64
	length int
}

// add appends p and returns where it is.
func (s *spool) add(p []byte) (span, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at := span{offset: s.size, length: len(p)}
	limit := s.limit
	if limit == 0 {
		limit = spoolInMemory
	}
	if s.file == nil && !s.noFile && len(s.mem)+len(p) > limit {
		s.spill()
	}
	if s.file == nil {
		s.mem = append(s.mem, p...)
	} else if _, err := s.file.Write(p); err != nil {
		return span{}, fmt.Errorf("writing the results to a temporary file (set TMPDIR to a directory with room): %w", err)
	}
	s.size += int64(len(p))
	return at, nil
}

// spill moves what is in memory to a new temporary file. The file is unlinked at once where the system allows it,
// so that nothing is left behind if the process is killed; elsewhere close removes it.
func (s *spool) spill() {
	f, err := os.CreateTemp("", "ocl-guard-check-*")
	if err != nil {
		s.noFile = true
		return
	}
	if _, err := f.Write(s.mem); err != nil {
		f.Close()
		os.Remove(f.Name())
		s.noFile = true
		return
	}
	_ = os.Remove(f.Name())
	s.file, s.mem = f, nil
}

// writeTo copies the rendering at to w.
func (s *spool) writeTo(w io.Writer, at span) error {
	if s.file == nil {
		_, err := w.Write(s.mem[at.offset : at.offset+int64(at.length)])
		return err
	}
	if _, err := io.Copy(w, io.NewSectionReader(s.file, at.offset, int64(at.length))); err != nil {
		return fmt.Errorf("reading the results back from the temporary file: %w", err)
	}
	return nil
}

// close removes the temporary file, if any.
func (s *spool) close() error {
	if s.file == nil {
		return nil
	}
	err := s.file.Close()
	if rmErr := os.Remove(s.file.Name()); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
		err = errors.Join(err, rmErr)
	}
	return err
}
