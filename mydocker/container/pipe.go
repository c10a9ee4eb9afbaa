//book:file proc

package container

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"

	"github.com/sirupsen/logrus"
)

// initPipeFD is where the init finds the read end of its pipe: the first of
// exec.Cmd.ExtraFiles is always descriptor 3 in the child.
const initPipeFD = 3

// sendConfig writes the configuration to the init as JSON, then closes the
// pipe: the end of file is what tells the init to go on.
func sendConfig(pipe *os.File, cfg Config) error {
	defer pipe.Close()
	logrus.Debugf("sending the command %q to the init over its pipe", cfg.Args)
	if err := json.NewEncoder(pipe).Encode(cfg); err != nil {
		return fmt.Errorf("sending the configuration to the init: %w", err)
	}
	return nil
}

// readConfig is the init's side: it blocks until the parent has written the
// whole configuration and closed its end.
func readConfig() (Config, error) {
	pipe := os.NewFile(initPipeFD, "init-pipe")
	defer pipe.Close()
	var cfg Config
	if err := json.NewDecoder(pipe).Decode(&cfg); err != nil {
		return cfg, fmt.Errorf("reading the configuration from the parent: %w", err)
	}
	return cfg, nil
}

// killInit stops an init that will never get its configuration.
func killInit(cmd *exec.Cmd) {
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}
