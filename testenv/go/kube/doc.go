// Package kube only pins k8s.io/kubernetes and its staging modules; the binaries are built
// straight from the upstream cmd/* packages listed as tools in go.mod.
package kube
