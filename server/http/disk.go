package http

import (
	"log/slog"
	"sync"
	"time"
)

// diskWatermark tells whether the store's disk has room: free space is read
// at most once a second (statfs costs a system call), and below min bytes
// receipts are refused with 503 before the disk fills, so that nothing is
// acknowledged that could not be stored and the store never meets a full
// disk mid-transaction.
type diskWatermark struct {
	min  uint64
	free func() (uint64, error) // nil: not watched
	log  *slog.Logger

	mu      sync.Mutex
	checked time.Time
	low     string // why receipts are refused; "" while there is room
}

// lowReason returns why receipts cannot be stored for want of disk, or "";
// the figures are logged, not told to whoever asks.
// An error reading the free space is logged and counts as room: it is not
// evidence that the disk is full.
func (d *diskWatermark) lowReason(now time.Time) string {
	if d.free == nil || d.min == 0 {
		return ""
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.checked.IsZero() && now.Sub(d.checked) < time.Second && !now.Before(d.checked) {
		return d.low
	}
	d.checked = now
	free, err := d.free()
	was := d.low
	switch {
	case err != nil:
		d.low = ""
		d.log.Warn("disk watermark: free space unknown", "err", err)
	case free < d.min:
		d.low = "the receipt store's disk is nearly full"
	default:
		d.low = ""
	}
	if d.low != was {
		if d.low != "" {
			d.log.Error("refusing receipts: "+d.low, "free_bytes", free, "min_free_bytes", d.min)
		} else {
			d.log.Info("disk watermark: room again, storing receipts")
		}
	}
	return d.low
}
