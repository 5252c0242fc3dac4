package api

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/web"
)

// appCSP is the Content-Security-Policy of the web app's pages: only its
// own scripts, and connections to this origin (REST and WebSockets).
const appCSP = "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self' ws: wss:; " +
	"style-src 'self' 'unsafe-inline'; script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// asset is one file of the web app, read once at start.
type asset struct {
	body  []byte
	ctype string
	etag  string
}

// assets loads the embedded web app into memory (it is small: tens of KB).
func assets() (map[string]asset, error) {
	out := map[string]asset{}
	err := fs.WalkDir(web.Static(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(web.Static(), p)
		if err != nil {
			return err
		}
		ct := mime.TypeByExtension(path.Ext(p))
		switch path.Ext(p) {
		case ".js":
			ct = "text/javascript; charset=utf-8"
		case ".webmanifest":
			ct = "application/manifest+json"
		case ".html":
			ct = fiber.MIMETextHTMLCharsetUTF8
		}
		sum := sha256.Sum256(b)
		out[p] = asset{body: b, ctype: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	return out, err
}

// sendAsset answers with one web app file; browsers revalidate with its
// ETag (304) so a new release shows at once.
func (s *Server) sendAsset(c *fiber.Ctx, name string) error {
	a, ok := s.assets[name]
	if !ok {
		return perch.Errorf(perch.ENOTFOUND, "No such file.")
	}
	c.Set(fiber.HeaderETag, a.etag)
	c.Set(fiber.HeaderCacheControl, "no-cache")
	if strings.HasSuffix(name, ".html") || name == "sw.js" {
		c.Set("Content-Security-Policy", appCSP)
	}
	if c.Get(fiber.HeaderIfNoneMatch) == a.etag {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, a.ctype)
	return c.Send(a.body)
}

// page serves one of the app's pages.
func (s *Server) page(name string) fiber.Handler {
	return func(c *fiber.Ctx) error { return s.sendAsset(c, name) }
}

// staticFile serves GET /static/*.
func (s *Server) staticFile(c *fiber.Ctx) error {
	name := path.Clean(c.Params("*"))
	if name == "." || strings.HasPrefix(name, "..") {
		return perch.Errorf(perch.ENOTFOUND, "No such file.")
	}
	return s.sendAsset(c, name)
}
