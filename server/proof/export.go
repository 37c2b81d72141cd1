package proof

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"workly.ai/consent"
	"workly.ai/consent/server/wire"
)

// Filter selects receipts to export; zero fields select everything.
type Filter struct {
	From, To time.Time // receipt time, From inclusive, To exclusive
	Policy   string
	Event    consent.Event
}

func (f Filter) match(r consent.Receipt) bool {
	return (f.From.IsZero() || !r.Time.Before(f.From)) && (f.To.IsZero() || r.Time.Before(f.To)) &&
		(f.Policy == "" || r.Policy == f.Policy) && (f.Event == "" || r.Event == f.Event)
}

// ErrDamaged is what Export returns, wrapped, after it wrote what it could
// read around damaged records.
var ErrDamaged = errors.New("damaged records")

// Formats are the export formats.
var Formats = []string{"jsonl", "csv", "kantara", "iso27560"}

// Options are what some formats need beyond the receipts.
type Options struct {
	// Site names the controller and the categories (kantara, iso27560).
	Site *consent.Site
	// Policies, when set, gives iso27560's ids their date (the first
	// version's effective date).
	Policies *consent.Manifest
	// PublicKey is the server's public key in hex (kantara, iso27560).
	PublicKey string
}

// Export writes the receipts f selects, in chain order, to w: "jsonl" (one
// {"receipt":…,"ack":…} object a line, the receipt in its wire form, so the
// chain can be checked from the export alone), "csv", or "kantara" (one
// Kantara Consent Receipt v1.1 a line, lossless: see kantara.go), or
// "iso27560" (one ISO/IEC TS 27560 consent record a line, JSON-LD in the DPV
// profile, lossless: see iso27560.go). Each carries the server's time of
// storing it (the ack's received; csv's received column) beside the
// browser's (the receipt's time). progress, if
// not nil, is told every 10,000 receipts read. It returns how many were
// written. A damaged record (unreadable, or not a receipt) does not stop it:
// it writes the rest, then returns an error wrapping ErrDamaged that names
// every damaged record. A tombstone (a redacted body) is skipped, and
// counted in no error.
func Export(ctx context.Context, store consent.ReceiptStore, w io.Writer, format string, f Filter, o Options, progress func(read, written int64)) (int64, error) {
	bw := bufio.NewWriter(w)
	var cw *csv.Writer
	switch format {
	case "jsonl":
	case "kantara", "iso27560":
		if o.Site == nil {
			return 0, fmt.Errorf("export: %s needs the site configuration", format)
		}
	case "csv":
		cw = csv.NewWriter(bw)
		cw.Write([]string{"seq", "id", "subject", "event", "policy", "policy_sha256", "locale", "granted", "time", "method", "gpc", "prev", "hash", "sig", "permission", "answer", "browser_key", "browser_sig", "dnt", "received", "separate", "statement_sha256"})
	default:
		return 0, fmt.Errorf("export: unknown format %q (want %s)", format, strings.Join(Formats, " or "))
	}
	var read, written int64
	var damaged []string
	var skipped int64
	err := Entries(ctx, store, 1, func(body []byte, a consent.Ack) error {
		read++
		if progress != nil && read%10000 == 0 {
			progress(read, written)
		}
		if _, _, ok := ParseTombstone(body); ok {
			return nil
		}
		r, err := wire.DecodeReceipt(body)
		if err != nil {
			skipped++
			damaged = append(damaged, fmt.Sprintf("record %d (receipt %s): %v", a.Seq, a.ID, err))
			return nil
		}
		if !f.match(r) {
			return nil
		}
		written++
		if cw != nil {
			row := []string{strconv.FormatInt(a.Seq, 10), r.ID, r.Subject, string(r.Event), r.Policy, r.PolicySHA256,
				string(r.Locale), strings.Join(r.Granted, " "), r.Time.Format(time.RFC3339Nano), r.Method,
				strconv.FormatBool(r.GPC), r.Prev, a.Hash, a.Sig, r.Permission, r.Answer, r.Key, r.Sig, strconv.FormatBool(r.DNT),
				time.UnixMilli(a.Received).UTC().Format(time.RFC3339Nano), r.Separate, r.StatementSHA256}
			for i := range row {
				row[i] = csvCell(row[i])
			}
			return cw.Write(row)
		}
		if format == "kantara" || format == "iso27560" {
			var rec any = kantara(o.Site, r, body, a, o.PublicKey)
			if format == "iso27560" {
				rec = iso27560(o.Site, o.Policies, r, body, a, o.PublicKey)
			}
			line, err := json.Marshal(rec)
			if err != nil {
				return err
			}
			bw.Write(line)
			return bw.WriteByte('\n')
		}
		ack, _ := json.Marshal(a)
		bw.WriteString(`{"receipt":`)
		bw.Write(body)
		bw.WriteString(`,"ack":`)
		bw.Write(ack)
		_, err = bw.WriteString("}\n")
		return err
	}, func(first, last int64, err error) {
		skipped += last - first + 1
		damaged = append(damaged, fmt.Sprintf("records %d to %d unreadable: %v", first, last, err))
	})
	if cw != nil {
		cw.Flush()
		if err == nil {
			err = cw.Error()
		}
	}
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if err == nil && len(damaged) > 0 {
		err = fmt.Errorf("export: %w: %d records skipped, the rest exported: %s", ErrDamaged, skipped, strings.Join(damaged, "; "))
	}
	return written, err
}

// csvCell returns s as a CSV cell that a spreadsheet will not evaluate: a
// cell beginning with =, +, -, @, a tab or a carriage return gets a leading
// apostrophe (OWASP's advice against CSV injection). Receipt and consent ids
// may begin with "-" (base64url), so a program reading ids from the CSV
// strips that apostrophe; the JSONL export is the lossless one.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// Record is one receipt as a line of export format ("jsonl", "kantara" or
// "iso27560"; without its newline): what Export writes for it.
func Record(format string, r consent.Receipt, body []byte, a consent.Ack, o Options) ([]byte, error) {
	switch format {
	case "kantara", "iso27560":
		if o.Site == nil {
			return nil, fmt.Errorf("export: %s needs the site configuration", format)
		}
		if format == "kantara" {
			return json.Marshal(kantara(o.Site, r, body, a, o.PublicKey))
		}
		return json.Marshal(iso27560(o.Site, o.Policies, r, body, a, o.PublicKey))
	case "jsonl":
		ack, err := json.Marshal(a)
		if err != nil {
			return nil, err
		}
		return append(append(append([]byte(`{"receipt":`), body...), `,"ack":`...), append(ack, '}')...), nil
	}
	return nil, fmt.Errorf("export: unknown format %q (want jsonl, kantara or iso27560)", format)
}
