package state

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// HistoryLog is an append-only log of records kept next to a state (one JSON document a
// record, written by apply). Backends that keep one implement it.
type HistoryLog interface {
	// AppendHistory adds one record (a single-line JSON document).
	AppendHistory(record []byte) error
	// ReadHistory returns the records, oldest first; none yet is not an error.
	ReadHistory() ([][]byte, error)
}

// MaxHistoryRecord bounds one record (an Azure append block holds at most 4 MiB in the oldest
// service versions; a local line is kept as small).
const MaxHistoryRecord = 4 << 20

// CheckHistoryRecord refuses what would break the one-record-a-line format.
func CheckHistoryRecord(record []byte) error {
	if len(record) == 0 || len(record) > MaxHistoryRecord || bytes.ContainsAny(record, "\r\n") {
		return fmt.Errorf("history record: %d bytes, must be one line of at most %d bytes", len(record), MaxHistoryRecord)
	}
	return nil
}

// HistoryPath is the local history file: state.json.history.jsonl beside the state.
func (l *Local) HistoryPath() string { return l.Path + ".history.jsonl" }

// AppendHistory appends the record and a newline with O_APPEND and fsyncs, so that a crash
// leaves at worst a torn last line, which ReadHistory skips.
func (l *Local) AppendHistory(record []byte) error {
	if err := CheckHistoryRecord(record); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(l.Path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(l.HistoryPath(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("append history: %w", err)
	}
	line := append(append([]byte(nil), record...), '\n')
	// After a torn last line (a crash mid-append), start on a line of its own.
	if info, serr := f.Stat(); serr == nil && info.Size() > 0 {
		last := make([]byte, 1)
		if r, rerr := os.Open(l.HistoryPath()); rerr == nil {
			if _, rerr := r.ReadAt(last, info.Size()-1); rerr == nil && last[0] != '\n' {
				line = append([]byte{'\n'}, line...)
			}
			r.Close()
		}
	}
	_, err = f.Write(line)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("append history: %w", err)
	}
	return nil
}

// ReadHistory reads the local history file.
func (l *Local) ReadHistory() ([][]byte, error) {
	b, err := os.ReadFile(l.HistoryPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return SplitHistory(b), nil
}

// SplitHistory splits a history log into its complete lines (a torn last line is dropped).
func SplitHistory(b []byte) [][]byte {
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), MaxHistoryRecord+1)
	complete := bytes.HasSuffix(b, []byte("\n"))
	for sc.Scan() {
		out = append(out, append([]byte(nil), sc.Bytes()...))
	}
	if !complete && len(out) > 0 {
		out = out[:len(out)-1]
	}
	return out
}
