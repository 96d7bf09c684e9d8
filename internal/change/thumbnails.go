package change

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"net/http"

	"github.com/mocpcr/mocpcr/internal/auth"
)

// ThumbnailSize is the longest side of an attachment's thumbnail, in pixels.
const ThumbnailSize = 240

// maxThumbnailPixels bounds the pictures a thumbnail is made of: a phone
// photo is 12 to 50 megapixels; a decompression bomb claiming more is
// refused before it is decoded.
const maxThumbnailPixels = 80_000_000

// HasThumbnail reports whether a thumbnail can be made of an attachment
// of this content type (the standard library decodes these).
func HasThumbnail(contentType string) bool {
	switch contentType {
	case "image/jpeg", "image/png", "image/gif":
		return true
	}
	return false
}

// PreviewType is the type to show attachment data inline as, or "" when
// it is not to be shown: only the pictures a thumbnail is made of, and
// only when the bytes are that picture (a file stored as image/png whose
// content is something else is downloaded, never rendered).
func PreviewType(contentType string, data []byte) string {
	if !HasThumbnail(contentType) || http.DetectContentType(data) != contentType {
		return ""
	}
	return contentType
}

// AttachmentThumbnail returns a small JPEG of an image attachment, for a
// walkdown page's evidence. It is made on the first request and kept, so
// the full photo is decoded once.
func (s *Service) AttachmentThumbnail(ctx context.Context, actor *auth.User, changeID, attachmentID int64) ([]byte, error) {
	c, err := loadChange(ctx, s.DB.SQL, changeID)
	if err != nil {
		return nil, err
	}
	if !actor.OnSite(c.SiteID) {
		return nil, notFound("change %d not found", changeID)
	}
	var thumb []byte
	var ct string
	err = s.DB.SQL.QueryRowContext(ctx, `SELECT content_type, thumbnail FROM change_attachments WHERE id = $1 AND change_id = $2`,
		attachmentID, changeID).Scan(&ct, &thumb)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("attachment %d not found on %s", attachmentID, c.Number)
	}
	if err != nil {
		return nil, err
	}
	if len(thumb) > 0 {
		return thumb, nil
	}
	if !HasThumbnail(ct) {
		return nil, notFound("attachment %d of %s is not a picture with a thumbnail", attachmentID, c.Number)
	}
	_, data, err := s.AttachmentData(ctx, actor, changeID, attachmentID)
	if err != nil {
		return nil, err
	}
	if thumb, err = makeThumbnail(data); err != nil {
		return nil, notFound("attachment %d of %s: no thumbnail (%v)", attachmentID, c.Number, err)
	}
	if _, err := s.DB.SQL.ExecContext(ctx, `UPDATE change_attachments SET thumbnail = $1 WHERE id = $2`, thumb, attachmentID); err != nil {
		return nil, fmt.Errorf("keep thumbnail of attachment %d: %w", attachmentID, err)
	}
	return thumb, nil
}

// makeThumbnail scales a JPEG, PNG or GIF down to ThumbnailSize on its
// longest side (box filter: each thumbnail pixel averages the pixels it
// covers) and encodes it as JPEG.
func makeThumbnail(data []byte) ([]byte, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > maxThumbnailPixels {
		return nil, fmt.Errorf("%dx%d pixels is too large to show", cfg.Width, cfg.Height)
	}
	var src image.Image
	switch format {
	case "jpeg":
		src, err = jpeg.Decode(bytes.NewReader(data))
	case "png":
		src, err = png.Decode(bytes.NewReader(data))
	case "gif":
		src, err = gif.Decode(bytes.NewReader(data))
	default:
		return nil, fmt.Errorf("%s pictures have no thumbnail", format)
	}
	if err != nil {
		return nil, err
	}
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	tw, th := w, h
	if w > ThumbnailSize || h > ThumbnailSize {
		if w >= h {
			tw, th = ThumbnailSize, max(1, h*ThumbnailSize/w)
		} else {
			tw, th = max(1, w*ThumbnailSize/h), ThumbnailSize
		}
	}
	dst := image.NewRGBA(image.Rect(0, 0, tw, th))
	for y := 0; y < th; y++ {
		y0, y1 := b.Min.Y+y*h/th, b.Min.Y+max((y+1)*h/th, y*h/th+1)
		for x := 0; x < tw; x++ {
			x0, x1 := b.Min.X+x*w/tw, b.Min.X+max((x+1)*w/tw, x*w/tw+1)
			// Sample at most 4×4 pixels per box: enough for a thumbnail,
			// and a 50-megapixel photo stays quick.
			sx, sy := max(1, (x1-x0)/4), max(1, (y1-y0)/4)
			var r, g, bl, n uint64
			for yy := y0; yy < y1; yy += sy {
				for xx := x0; xx < x1; xx += sx {
					cr, cg, cb, _ := src.At(xx, yy).RGBA()
					r, g, bl, n = r+uint64(cr), g+uint64(cg), bl+uint64(cb), n+1
				}
			}
			dst.SetRGBA(x, y, color.RGBA{uint8(r / n >> 8), uint8(g / n >> 8), uint8(bl / n >> 8), 0xff})
		}
	}
	var out bytes.Buffer
	if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: 80}); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
