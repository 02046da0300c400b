// Command etcd is a minimal wrapper around the upstream etcd server entry point,
// built from the Go module proxy so the test control plane needs no release tarball.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
