package main

import "syscall"

// freeSpace returns a function reading the bytes free to an unprivileged
// writer on dir's filesystem.
func freeSpace(dir string) func() (uint64, error) {
	return func() (uint64, error) {
		var st syscall.Statfs_t
		if err := syscall.Statfs(dir, &st); err != nil {
			return 0, err
		}
		return st.Bavail * uint64(st.Bsize), nil
	}
}
