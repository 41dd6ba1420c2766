// Package filemode says whether Unix permission bits protect files on this OS, for the tests
// that check c4sctl creates its state, plans, keys and records readable by their owner only.
package filemode

import "runtime"

// Enforced is whether a file's permission bits (0600, 0700) are what decides who may read it.
// Not on Windows: there the mode given to os.OpenFile, os.Mkdir or os.Chmod sets only the
// read-only attribute, os.Stat reports 0666 or 0444 (0777 for directories), and who may read a
// file is decided by its ACL, inherited from its directory (os.Chmod's documentation,
// pkg.go.dev/os#Chmod).
const Enforced = runtime.GOOS != "windows"
