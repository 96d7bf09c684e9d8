package change

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
)

func (s *Service) attachments(ctx context.Context, q store.Querier, changeID int64) ([]Attachment, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, change_id, filename, content_type, size, sha256, uploaded_by, uploaded_at
		FROM change_attachments WHERE change_id = $1 ORDER BY id`, changeID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Attachment{}
	for rows.Next() {
		var a Attachment
		if err := rows.Scan(&a.ID, &a.ChangeID, &a.Filename, &a.ContentType, &a.Size, &a.SHA256, &a.UploadedBy, &a.UploadedAt); err != nil {
			return nil, err
		}
		a.UploadedAt = a.UploadedAt.UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}

// officeTypes maps the accepted Office file extensions to their content
// types: Open XML files without macros, which are zip archives with a
// [Content_Types].xml entry. The legacy binary formats are refused by
// name (refusedExtensions): they can carry macros.
var officeTypes = map[string]string{
	".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}

// SniffContentType decides a file's type from its bytes (never from what
// the client claims) and returns it when it is on the allow-list: PDF,
// PNG/JPEG/GIF/WebP images, Office documents, plain text and CSV.
func SniffContentType(filename string, data []byte) (string, bool) {
	ext := strings.ToLower(filepath.Ext(filename))
	sniffed := http.DetectContentType(data)
	base, _, _ := strings.Cut(sniffed, ";")
	switch base {
	case "application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp":
		return base, true
	case "text/plain":
		if ext == ".csv" {
			return "text/csv; charset=utf-8", true
		}
		return sniffed, true
	case "application/zip":
		ct, ok := officeTypes[ext]
		if !ok {
			return "", false
		}
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return "", false
		}
		for _, f := range zr.File {
			if f.Name == "[Content_Types].xml" {
				return ct, true
			}
		}
		return "", false
	}
	return "", false
}

// refusedExtensions are names that run a program or script, or render
// as a page that can run one, when a downloaded file is opened: refused
// whatever the bytes are (a text file named evil.exe is still a trap).
var refusedExtensions = map[string]bool{
	".exe": true, ".bat": true, ".cmd": true, ".com": true, ".scr": true, ".pif": true, ".cpl": true, ".msi": true,
	".msp": true, ".dll": true, ".sys": true, ".lnk": true, ".reg": true, ".hta": true, ".msc": true, ".jar": true,
	".js": true, ".mjs": true, ".jse": true, ".vbs": true, ".vbe": true, ".wsf": true, ".wsh": true, ".ps1": true,
	".psm1": true, ".sh": true, ".bash": true, ".py": true, ".pl": true, ".php": true, ".app": true, ".apk": true,
	".html": true, ".htm": true, ".shtml": true, ".xhtml": true, ".xht": true, ".svg": true, ".svgz": true,
	".xml": true, ".xsl": true, ".mht": true, ".mhtml": true,
	// Office formats that carry macros: the macro-enabled Open XML ones,
	// and the legacy binary ones (.doc, .xls, .ppt and their templates),
	// which can hold VBA whatever their name says.
	".docm": true, ".xlsm": true, ".pptm": true, ".dotm": true, ".xltm": true, ".potm": true, ".ppsm": true,
	".xlam": true, ".ppam": true, ".xlsb": true,
	".doc": true, ".xls": true, ".ppt": true, ".dot": true, ".xlt": true, ".pot": true, ".pps": true, ".xla": true, ".ppa": true,
}

// typeExtensions are the names each accepted type may have, so the name
// a downloader's system opens the file by agrees with what it holds.
// Office types are matched by SniffContentType itself.
var typeExtensions = map[string][]string{
	"application/pdf":    {".pdf"},
	"image/png":          {".png"},
	"image/jpeg":         {".jpg", ".jpeg", ".jpe", ".jfif"},
	"image/gif":          {".gif"},
	"image/webp":         {".webp"},
	"text/csv":           {".csv"},
	"text/plain":         {"", ".txt", ".text", ".log", ".md", ".json", ".tsv", ".ini", ".cfg", ".conf", ".dat"},
	officeTypes[".docx"]: {".docx"},
	officeTypes[".xlsx"]: {".xlsx"},
	officeTypes[".pptx"]: {".pptx"},
}

// typeWords names a content type for a person.
func typeWords(ct string) string {
	base, _, _ := strings.Cut(ct, ";")
	switch {
	case base == "application/pdf":
		return "a PDF"
	case strings.HasPrefix(base, "image/"):
		return "a " + strings.ToUpper(strings.TrimPrefix(base, "image/")) + " image"
	case base == "text/plain", base == "text/csv":
		return "text"
	}
	return "an Office document"
}

// maxFilenameBytes is the longest name most file systems store.
const maxFilenameBytes = 255

// refusedName refuses a file whose name would run it when opened, or
// would mislead the person who sees or saves it, before its bytes are
// looked at: control characters (which break the audit trail, logs and
// headers), bidirectional controls (which show "exe.pdf" for a name that
// ends in .exe), names no file system stores, and invalid UTF-8.
func refusedName(filename string) *problem.Error {
	if !utf8.ValidString(filename) {
		return invalid("file", "the file name is not valid text (UTF-8): rename the file and attach it again")
	}
	if len(filename) > maxFilenameBytes {
		return invalid("file", "the file name is %d bytes long; at most %d: rename the file and attach it again", len(filename), maxFilenameBytes)
	}
	for _, r := range filename {
		if unicode.IsControl(r) {
			return invalid("file", "the file name holds a control character (%U): rename the file and attach it again", r)
		}
		if unicode.Is(unicode.Bidi_Control, r) {
			return invalid("file", "the file name holds a text-direction character (%U) that can disguise its real ending: rename the file and attach it again", r)
		}
	}
	if ext := strings.ToLower(filepath.Ext(filename)); refusedExtensions[ext] {
		return invalid("file", "%s is not accepted: %s files can run programs or scripts when opened. "+
			"Attach a PDF, image, Office document, text or CSV", filename, ext)
	}
	return nil
}

// mismatchedName refuses a file whose name disagrees with its type ct
// (as sniffed): the name is what the downloader's system opens it by.
func mismatchedName(filename, ct string) *problem.Error {
	ext := strings.ToLower(filepath.Ext(filename))
	base, _, _ := strings.Cut(ct, ";")
	if slices.Contains(typeExtensions[base], ext) {
		return nil
	}
	want := strings.TrimPrefix(strings.Join(typeExtensions[base], ", "), ", ") // text may have none
	return invalid("file", "%s holds %s, which its name does not say: rename it to end in %s", filename, typeWords(ct), want)
}

// DownloadType is the Content-Type to serve a stored attachment with:
// its type when it is one AddAttachment accepts, else a plain download
// (application/octet-stream), so nothing stored renders in the browser.
func DownloadType(ct string) string {
	base, _, _ := strings.Cut(ct, ";")
	if _, ok := typeExtensions[base]; ok {
		return ct
	}
	return "application/octet-stream"
}

// DownloadName is the file name to offer a stored attachment under: its
// own, unless the name is one AddAttachment now refuses (stored before
// the rule), which gets ".txt" or ".bin" added so opening it does not run it.
func DownloadName(filename, ct string) string {
	if ext := strings.ToLower(filepath.Ext(strings.TrimRight(filename, ". "))); refusedExtensions[ext] {
		if strings.HasPrefix(ct, "text/") {
			return filename + ".txt"
		}
		return filename + ".bin"
	}
	return filename
}

// AddAttachment stores a file on the change (in the database, so every
// replica serves it). The type is sniffed from the bytes and must be on
// the allow-list, and the name must not be a program's or script's and
// must agree with the type; the size is limited by MaxAttachmentBytes.
func (s *Service) AddAttachment(ctx context.Context, actor *auth.User, changeID int64, filename string, data []byte) (*Attachment, error) {
	filename = strings.TrimSpace(filepath.Base(strings.ReplaceAll(filename, "\\", "/")))
	// Windows drops trailing dots and spaces: "evil.exe." saves as evil.exe.
	filename = strings.TrimRight(filename, ". ")
	if filename == "" || filename == "/" {
		return nil, invalid("file", "a file name is required")
	}
	if len(data) == 0 {
		return nil, invalid("file", "%s is empty", filename)
	}
	if int64(len(data)) > s.MaxAttachmentBytes {
		// Callers read at most one byte over the limit, so len(data) is not
		// the file's size: say only that it is too big.
		return nil, invalid("file", "%s is larger than the %d MB limit", filename, s.MaxAttachmentBytes>>20)
	}
	if err := refusedName(filename); err != nil {
		return nil, err
	}
	ct, ok := SniffContentType(filename, data)
	if !ok {
		return nil, invalid("file", "%s is not an accepted type: PDF, images (PNG, JPEG, GIF, WebP), Office documents, text or CSV", filename)
	}
	if err := mismatchedName(filename, ct); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	var id int64
	err := s.changeTx(ctx, actor, changeID, ActAttach, func(tx *sql.Tx, d *Detail) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO change_attachments (change_id, filename, content_type, size, sha256, data,
			uploaded_by, uploaded_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING id`, changeID, filename, ct, len(data),
			hex.EncodeToString(sum[:]), data, actor.ID, s.now()).Scan(&id); err != nil {
			return fmt.Errorf("store attachment: %w", err)
		}
		return s.audit(ctx, tx, changeID, actor, "", "attachment_added", fmt.Sprintf("attachment %d", id), "",
			fmt.Sprintf("%s (%s, %d bytes, sha256 %s)", filename, ct, len(data), hex.EncodeToString(sum[:])))
	})
	if err != nil {
		return nil, err
	}
	as, err := s.attachments(ctx, s.DB.SQL, changeID)
	if err != nil {
		return nil, err
	}
	for i := range as {
		if as[i].ID == id {
			return &as[i], nil
		}
	}
	return nil, fmt.Errorf("attachment %d vanished", id)
}

// AttachmentData returns an attachment and its bytes, if actor may see the change.
func (s *Service) AttachmentData(ctx context.Context, actor *auth.User, changeID, attachmentID int64) (*Attachment, []byte, error) {
	c, err := loadChange(ctx, s.DB.SQL, changeID)
	if err != nil {
		return nil, nil, err
	}
	if !actor.OnSite(c.SiteID) {
		return nil, nil, notFound("change %d not found", changeID)
	}
	a := &Attachment{}
	var data []byte
	err = s.DB.SQL.QueryRowContext(ctx, `SELECT id, change_id, filename, content_type, size, sha256, uploaded_by, uploaded_at, data
		FROM change_attachments WHERE id = $1 AND change_id = $2`, attachmentID, changeID).
		Scan(&a.ID, &a.ChangeID, &a.Filename, &a.ContentType, &a.Size, &a.SHA256, &a.UploadedBy, &a.UploadedAt, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, notFound("attachment %d not found on %s", attachmentID, c.Number)
	}
	if err != nil {
		return nil, nil, err
	}
	return a, data, nil
}
