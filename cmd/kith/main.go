// Command kith is the kith daemon and its command-line client.
package main

import (
	"os"

	"github.com/kith-p2p/kith/cmd/kith/cli"
)

func main() {
	os.Exit(cli.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
