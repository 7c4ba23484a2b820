// Package archtest holds the test that keeps the import graph layered as
// docs/architecture.md describes: every package of the module sits on one
// layer and imports only packages on lower layers (a few same-layer edges
// are listed with their reason). It has no non-test code.
package archtest
