package proof

import (
	"os"
	"syscall"
)

// datasync flushes f's data to disk (fdatasync: its size does not change
// after the first save, so its metadata need not be flushed each time).
func datasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }
