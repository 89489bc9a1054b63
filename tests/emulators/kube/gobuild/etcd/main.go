// etcd's own main (go.etcd.io/etcd/v3's main.go calls the same function), built from the pinned server module.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
