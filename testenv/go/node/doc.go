// Package node holds the small programs of the harness's real node, built with the standard library
// only: a CNI plugin (cni/), the pod sandbox's init (pause/) and a docker-archive image writer (image/).
package node
