// Package crane only pins github.com/google/go-containerregistry; the real node's local registry is
// `crane registry serve`, built from its cmd/crane tool.
package crane
