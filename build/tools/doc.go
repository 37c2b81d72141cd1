// Package tools pins the test tools in a module of their own, apart from the
// project's module graph: wasmbrowsertest (runs GOOS=js tests in Chromium; its
// chromedp does not build beside the project's) and safejs's jsguard, built
// with a golang.org/x/tools new enough to read Go 1.26 export data.
// go run ./build test builds them into .cache/bin.
package tools
