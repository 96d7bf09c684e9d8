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
	"strings"

	"github.com/mocpcr/mocpcr/internal/auth"
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

// officeTypes maps Office file extensions to their content types. OOXML
// files are zip archives with a [Content_Types].xml entry; the legacy
// formats are OLE compound files.
var officeTypes = map[string]string{
	".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	".doc":  "application/msword",
	".xls":  "application/vnd.ms-excel",
	".ppt":  "application/vnd.ms-powerpoint",
}

var oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}

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
		if !ok || !strings.HasSuffix(ext, "x") {
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
	if bytes.HasPrefix(data, oleMagic) {
		if ct, ok := officeTypes[ext]; ok && !strings.HasSuffix(ext, "x") {
			return ct, true
		}
	}
	return "", false
}

// AddAttachment stores a file on the change (in the database, so every
// replica serves it). The type is sniffed from the bytes and must be on
// the allow-list; the size is limited by MaxAttachmentBytes.
func (s *Service) AddAttachment(ctx context.Context, actor *auth.User, changeID int64, filename string, data []byte) (*Attachment, error) {
	filename = strings.TrimSpace(filepath.Base(strings.ReplaceAll(filename, "\\", "/")))
	if filename == "" || filename == "." || filename == "/" {
		return nil, invalid("file", "a file name is required")
	}
	if len(data) == 0 {
		return nil, invalid("file", "%s is empty", filename)
	}
	if int64(len(data)) > s.MaxAttachmentBytes {
		return nil, invalid("file", "%s is %d bytes: the limit is %d MB", filename, len(data), s.MaxAttachmentBytes>>20)
	}
	ct, ok := SniffContentType(filename, data)
	if !ok {
		return nil, invalid("file", "%s is not an accepted type: PDF, images (PNG, JPEG, GIF, WebP), Office documents, text or CSV", filename)
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
