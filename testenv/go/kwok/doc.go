// Package kwok only pins sigs.k8s.io/kwok; the binary is built from its cmd/kwok tool.
package kwok
