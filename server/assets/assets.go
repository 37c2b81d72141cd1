// Package assets holds the built site (go run ./build writes dist/) embedded
// in the server binary.
package assets

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// FS returns the built files, rooted at the site root. It holds only
// dist/.gitkeep until the build has run.
func FS() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // "dist" is a valid path: cannot happen
	}
	return sub
}
