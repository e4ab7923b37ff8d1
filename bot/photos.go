package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/koehq/koe"
	"github.com/koehq/koe/internal/atomicfile"
)

// ContentGetter fetches the bytes of a picture a customer sent on a
// channel (bot/line.Client.GetContent).
type ContentGetter interface {
	GetContent(ctx context.Context, messageID string, maxBytes int64) ([]byte, string, error)
}

// PhotoFetcher keeps customers' pictures under DataDir/photos. It is
// idempotent by (user, content id): a picture already kept is not fetched
// again. It implements dialogs/accident.PhotoFetcher.
type PhotoFetcher struct {
	DataDir string
	// Channels fetch content by the user's channel.
	Channels map[koe.Channel]ContentGetter
	// MaxBytes caps one picture (default 10 MiB).
	MaxBytes int64
}

// FetchPhoto fetches and stores one picture and returns it with a path
// relative to DataDir. Errors never contain the content id's owner.
func (f *PhotoFetcher) FetchPhoto(ctx context.Context, user koe.UserID, contentID string) (koe.Photo, error) {
	max := f.MaxBytes
	if max <= 0 {
		max = 10 << 20
	}
	sum := sha256.Sum256([]byte(string(user) + "\x00" + contentID))
	base := path.Join("photos", user.Hash(), hex.EncodeToString(sum[:10]))
	for _, ext := range []string{".jpg", ".png", ".gif", ".webp", ".bin"} { // already kept?
		if st, err := os.Stat(filepath.Join(f.DataDir, filepath.FromSlash(base+ext))); err == nil {
			return koe.Photo{Path: base + ext, ContentID: contentID, ContentType: typeOfExt(ext), Size: st.Size()}, nil
		}
	}
	var data []byte
	var ctype string
	if local, ok := strings.CutPrefix(contentID, koe.LocalContentPrefix); ok {
		file, err := os.Open(local)
		if err != nil {
			return koe.Photo{}, fmt.Errorf("photos: open local picture: %w", koe.ErrInvalid)
		}
		data, err = io.ReadAll(io.LimitReader(file, max+1))
		file.Close()
		if err != nil || int64(len(data)) > max {
			return koe.Photo{}, fmt.Errorf("photos: local picture unreadable or over %d bytes: %w", max, koe.ErrInvalid)
		}
		ctype = http.DetectContentType(data)
	} else {
		g := f.Channels[user.Channel()]
		if g == nil {
			return koe.Photo{}, fmt.Errorf("photos: no content source for channel %q: %w", user.Channel(), koe.ErrInvalid)
		}
		var err error
		if data, ctype, err = g.GetContent(ctx, contentID, max); err != nil {
			return koe.Photo{}, fmt.Errorf("photos: fetch: %w", err)
		}
	}
	ext := extOfType(ctype)
	rel := base + ext
	full := filepath.Join(f.DataDir, filepath.FromSlash(rel))
	if err := atomicfile.Write(full, data); err != nil {
		return koe.Photo{}, fmt.Errorf("photos: write: %w", err)
	}
	return koe.Photo{Path: rel, ContentID: contentID, ContentType: typeOfExt(ext), Size: int64(len(data))}, nil
}

func extOfType(ctype string) string {
	switch strings.ToLower(strings.TrimSpace(strings.Split(ctype, ";")[0])) {
	case "image/jpeg":
		return ".jpg"
	case "image/png":
		return ".png"
	case "image/gif":
		return ".gif"
	case "image/webp":
		return ".webp"
	}
	return ".bin"
}

func typeOfExt(ext string) string {
	switch ext {
	case ".jpg":
		return "image/jpeg"
	case ".png":
		return "image/png"
	case ".gif":
		return "image/gif"
	case ".webp":
		return "image/webp"
	}
	return "application/octet-stream"
}
