//book:file security

package main

import "github.com/urfave/cli/v2"

// securityFlags are Docker's flags for what the container may do.
func securityFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "cap-add", Usage: "add a capability to Docker's default set, such as NET_ADMIN, or ALL (repeatable)"},
		&cli.StringSliceFlag{Name: "cap-drop", Usage: "drop a capability from the set, such as CHOWN, or ALL (repeatable)"},
		&cli.BoolFlag{Name: "privileged", Usage: "keep every capability, and leave /proc and /sys unprotected"},
	}
}
