//book:file namespaces

package main

import (
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/mydocker-book/mydocker/mydocker/container"
)

// initCommand is not for users: "mydocker run" re-executes its own binary
// as "mydocker init" inside the new namespaces.
func initCommand() *cli.Command {
	return &cli.Command{
		Name:   "init",
		Hidden: true,
		//book:replace namespaces proc
		// Flags:  []cli.Flag{&cli.StringFlag{Name: "hostname"}},
		//book:end
		Action: runInit,
	}
}

//book:replace namespaces proc
// func runInit(ctx *cli.Context) error {
// 	logrus.SetFormatter(&traceFormatter{who: "mydocker init"})
// 	status, err := container.Init(ctx.String("hostname"), ctx.Args().Slice())
// 	if err != nil {
// 		return err
// 	}
// 	return silentExit(status)
// }
//book:end

//book:add proc

func runInit(*cli.Context) error {
	logrus.SetFormatter(&traceFormatter{who: "mydocker init"})
	//book:add detach
	container.TraceToMonitor()
	//book:end detach
	// Init only returns if it could not exec the user's command; the
	// parent prints why, so the init exits quietly.
	return silentExit(container.Init())
}

//book:end proc
