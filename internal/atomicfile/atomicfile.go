// Package atomicfile writes files so that a reader sees either nothing or
// the whole file: customers' pictures kept for accident reports and staff.
package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
)

// Write writes data to path, creating its directory (0750) when needed,
// through a temporary file in the same directory that is synced and then
// renamed over path. On error nothing is left behind.
func Write(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}
