// Package consent is the domain of the consent and policy-notice module:
// policy versions and their manifest, the consent state and its cookie codec,
// the site's categories and texts, the notice views, and the receipt.
//
// It imports only the standard library, so every side of the project uses it:
// the browser module (wasm/), the server (server/) and the build tool
// (build/). Everything the browser pays for is here; keep it small.
package consent
