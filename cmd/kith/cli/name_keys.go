package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kith-p2p/kith/node"
)

func nameKeysCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "The keys this node publishes names with (ls, new, export...)",
		Long: `Each key is one IPNS name. "self" is this node's own (its peer key);
more are made with 'kith name keys new NAME' and kept in the repo
(keys/NAME.key: back it up with the repo, or the name is lost with it).
A key moves to another computer, or to and from Kubo, with export and
import (the files Kubo's 'ipfs key export' and 'ipfs key import' use).`,
	}
	ls := &cobra.Command{
		Use:   "ls",
		Short: "List this node's keys, their names and what each points to",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, stop, err := e.repoClient(cmd.Context(), "name keys ls")
			defer stop()
			if err != nil {
				return err
			}
			keys, err := c.NameKeys(cmd.Context())
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(keys)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "KEY\tNAME\tPOINTS TO")
			for _, k := range keys {
				to := "(nothing published yet)"
				if k.Record != nil {
					to = k.Record.Value
				}
				fmt.Fprintf(tw, "%s\t/ipns/%s\t%s\n", printable(k.Key), k.Name, to)
			}
			return tw.Flush()
		},
	}
	add := &cobra.Command{
		Use:     "new KEY",
		Short:   "Make a key, for one more IPNS name",
		Example: "  kith name keys new site\n  kith name publish --key site bafy...",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, stop, err := e.repoClient(cmd.Context(), "name keys new")
			defer stop()
			if err != nil {
				return err
			}
			k, err := c.NewNameKey(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(k)
			}
			fmt.Fprintf(e.stdout, "made key %s: its name is /ipns/%s ('kith name publish --key %s CID' points it)\n", printable(k.Key), k.Name, printable(k.Key))
			return nil
		},
	}
	rm := &cobra.Command{
		Use:   "rm KEY",
		Short: "Delete a key: its name is published no more",
		Long: `Delete a key and the record published with it: the daemon publishes its
name no more, and peers drop the record once it expires (48 hours after
it was last published, at the most). The key cannot be made again: the
name is gone for good.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, stop, err := e.repoClient(cmd.Context(), "name keys rm")
			defer stop()
			if err != nil {
				return err
			}
			if err := c.RemoveNameKey(cmd.Context(), args[0]); err != nil {
				return err
			}
			if !e.json {
				fmt.Fprintf(e.stdout, "removed key %s\n", printable(args[0]))
			}
			return nil
		},
	}
	rename := &cobra.Command{
		Use:   "rename KEY NEW",
		Short: "Call a key NEW instead: its name and record stay",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, stop, err := e.repoClient(cmd.Context(), "name keys rename")
			defer stop()
			if err != nil {
				return err
			}
			k, err := c.RenameNameKey(cmd.Context(), args[0], args[1])
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(k)
			}
			fmt.Fprintf(e.stdout, "renamed key %s to %s: its name is still /ipns/%s\n", printable(args[0]), printable(k.Key), k.Name)
			return nil
		},
	}
	cmd.AddCommand(ls, add, rename, rm, nameKeyExportCmd(e), nameKeyImportCmd(e))
	return cmd
}

func nameKeyExportCmd(e *env) *cobra.Command {
	var out, format string
	cmd := &cobra.Command{
		Use:   "export KEY",
		Short: "Write a key to a file, to publish its name from elsewhere",
		Long: `Write the key called KEY to a file: ./KEY.key, or -o FILE (-o - writes
it to standard output). It is in libp2p's format, which 'kith name keys
import' and Kubo's 'ipfs key import' read, or with --format
pem-pkcs8-cleartext in PEM (./KEY.pem), which openssl reads. The key is
read from the repo's file, whether or not the daemon runs, never through
the daemon's API. Whoever holds the file can publish under the name:
keep it as secret as the repo. "self", this node's identity, is not
exported.`,
		Example: "  kith name keys export site -o /media/usb/site.key\n" +
			"  kith name keys import site /media/usb/site.key   # on the other computer",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			key := args[0]
			data, err := node.ExportNameKey(e.repo, key, format)
			if err != nil {
				return err
			}
			if out == "-" {
				_, err := e.stdout.Write(data)
				return err
			}
			if out == "" {
				out = key + ".key"
				if format == node.KeyFormatPEM {
					out = key + ".pem"
				}
			}
			if err := writeNewFile(out, data); err != nil {
				return err
			}
			if e.json {
				return e.printJSON(struct {
					Key  string `json:"key"`
					File string `json:"file"`
				}{key, out})
			}
			fmt.Fprintf(e.stdout, "wrote key %s to %s (keep it secret: whoever holds it can publish under its name)\n", printable(key), out)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "the file to write (default ./KEY.key; - for standard output)")
	cmd.Flags().StringVarP(&format, "format", "f", node.KeyFormatLibp2p, "libp2p-protobuf-cleartext or pem-pkcs8-cleartext")
	return cmd
}

// writeNewFile writes data to a file that must not exist yet, readable
// by its owner only.
func writeNewFile(name string, data []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists already: choose another file with -o", name)
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(name)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(name)
		return err
	}
	return f.Close()
}

func nameKeyImportCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "import KEY FILE",
		Short: "Add a key from a file, to publish its name from here",
		Long: `Add the key in FILE (- reads standard input) as the key called KEY:
its name is then published from this node too ('kith name publish --key
KEY CID'), taking the sequence number after the newest record the DHT
holds. FILE is what 'kith name keys export' or Kubo's 'ipfs key export'
wrote, or PEM PKCS #8 ('openssl genpkey -algorithm ed25519'); an
Ed25519 or RSA key, as Kubo takes.`,
		Example: "  kith name keys import site site.key\n  ipfs key export site -o site.key && kith name keys import site site.key",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := readKeyFile(args[1], e.stdin)
			if err != nil {
				return err
			}
			c, stop, err := e.repoClient(cmd.Context(), "name keys import")
			defer stop()
			if err != nil {
				return err
			}
			k, err := c.ImportNameKey(cmd.Context(), args[0], data)
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(k)
			}
			fmt.Fprintf(e.stdout, "imported key %s: its name is /ipns/%s ('kith name publish --key %s CID' points it)\n", printable(k.Key), k.Name, printable(k.Key))
			return nil
		},
	}
}

// readKeyFile reads a key file (- is stdin), refusing one too large to
// be a key before anything is sent.
func readKeyFile(name string, stdin io.Reader) ([]byte, error) {
	r := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	const max = 64 << 10
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > max {
		return nil, fmt.Errorf("%s is over 64 KiB: not a key file", name)
	}
	return data, nil
}
