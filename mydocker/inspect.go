//book:file detach

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mydocker-book/mydocker/mydocker/container"
	"github.com/mydocker-book/mydocker/mydocker/network"
	"github.com/mydocker-book/mydocker/mydocker/state"
)

func inspectCommand() *cli.Command {
	return &cli.Command{
		Name:         "inspect",
		Usage:        "show what mydocker knows of containers, as JSON or through a Go template",
		ArgsUsage:    "CONTAINER [CONTAINER...]",
		OnUsageError: usageError,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "a Go template, such as '{{.State.Pid}}'"},
		},
		Action: inspectContainers,
	}
}

// The fields have Docker's names, so that `docker inspect`'s templates
// work here for what mydocker has.
type inspected struct {
	ID          string `json:"Id"`
	Created     string
	Path        string
	Args        []string
	State       inspectedState
	Image       string
	LogPath     string
	Name        string
	HostConfig  inspectedHostConfig
	GraphDriver inspectedGraphDriver
	Mounts      []inspectedMount
	Config      inspectedConfig
	//book:add netns
	NetworkSettings inspectedNetworkSettings
	//book:end
}

type inspectedState struct {
	Status     string // created, running or exited, as Docker names them
	Running    bool
	Paused     bool
	Pid        int
	ExitCode   int
	Error      string
	StartedAt  string
	FinishedAt string
}

type inspectedHostConfig struct {
	Memory         int64
	MemorySwap     int64
	NanoCpus       int64
	CpuShares      int64
	CpusetCpus     string
	PidsLimit      int64
	CgroupParent   string
	AutoRemove     bool
	Privileged     bool
	ReadonlyRootfs bool
	//book:add lifecycle
	Init bool
	//book:end
	//book:add netns
	NetworkMode string
	//book:end
	//book:add bridge
	PortBindings portMap
	//book:end
}

//book:add netns

// inspectedNetworkSettings has Docker's top-level fields, those of the
// default network, and the same under Networks, by network name.
type inspectedNetworkSettings struct {
	inspectedEndpoint
	Networks map[string]inspectedEndpoint
	//book:add bridge
	Ports portMap // while the container runs
	//book:end bridge
}

type inspectedEndpoint struct {
	IPAddress   string
	IPPrefixLen int
	Gateway     string
	MacAddress  string
}

// networkSettings shows a running container's address; a stopped one
// has none, as in Docker.
func networkSettings(ep *network.Endpoint) inspectedNetworkSettings {
	settings := inspectedNetworkSettings{Networks: map[string]inspectedEndpoint{}}
	//book:add bridge
	settings.Ports = portMap{}
	//book:end bridge
	if ep == nil {
		return settings
	}
	e := inspectedEndpoint{IPAddress: ep.IP.String(), IPPrefixLen: ep.Subnet.Bits(), Gateway: ep.Gateway.String(), MacAddress: ep.MAC}
	//book:replace netns bridge
	// settings.inspectedEndpoint = e
	//book:end netns bridge
	//book:add bridge
	if ep.Network == "bridge" {
		settings.inspectedEndpoint = e
	}
	//book:end bridge
	settings.Networks[ep.Network] = e
	//book:add bridge
	settings.Ports = portsOf(ep.Ports)
	//book:end bridge
	return settings
}

//book:add bridge

// portMap is Docker's shape of published ports: "80/tcp" to the host's
// addresses and ports that lead to it.
type portMap map[string][]portBinding

type portBinding struct {
	HostIp   string //nolint:revive // Docker's spelling
	HostPort string
}

func portsOf(ports []network.PortMapping) portMap {
	m := portMap{}
	for _, p := range ports {
		key := fmt.Sprintf("%d/%s", p.ContainerPort, p.Protocol)
		m[key] = append(m[key], portBinding{HostIp: p.HostAddr(), HostPort: strconv.Itoa(p.HostPort)})
	}
	return m
}

//book:end bridge

//book:end netns

type inspectedGraphDriver struct {
	Name string
	Data map[string]string
}

type inspectedMount struct {
	Type        string
	Source      string
	Destination string
	RW          bool
}

type inspectedConfig struct {
	Hostname  string
	Env       []string
	Cmd       []string
	Image     string
	Tty       bool
	OpenStdin bool
	//book:add lifecycle
	StopSignal  string `json:",omitempty"`
	StopTimeout *int   `json:",omitempty"`
	WorkingDir  string
	Entrypoint  []string
	//book:end
}

func inspectContainers(ctx *cli.Context) error {
	if ctx.NArg() == 0 {
		return commandFailed(errors.New("inspect needs at least one container: mydocker inspect [-f FORMAT] CONTAINER [CONTAINER...]"))
	}
	tmpl, err := parseFormat(ctx.String("format"))
	if err != nil {
		return commandFailed(err)
	}
	var all []inspected
	var failures []error
	for _, ref := range ctx.Args().Slice() {
		r, err := container.FindRecord(ctx.String("root"), ref)
		if err != nil {
			failures = append(failures, err)
			continue
		}
		all = append(all, inspect(r))
	}
	if err := printInspected(all, tmpl); err != nil {
		return commandFailed(err)
	}
	return commandFailed(errors.Join(failures...))
}

// parseFormat parses -f's Go template, if there is one.
func parseFormat(format string) (*template.Template, error) {
	if format == "" {
		return nil, nil
	}
	tmpl, err := template.New("format").Funcs(templateFuncs).Parse(format)
	if err != nil {
		return nil, fmt.Errorf("invalid --format: %w", err)
	}
	return tmpl, nil
}

func printInspected[T any](all []T, tmpl *template.Template) error {
	if tmpl == nil {
		data, err := json.MarshalIndent(all, "", "    ")
		if err != nil {
			return err
		}
		if all == nil {
			data = []byte("[]")
		}
		_, err = fmt.Printf("%s\n", data)
		return err
	}
	for _, c := range all {
		fields, err := asJSONFields(c)
		if err != nil {
			return err
		}
		if err := tmpl.Execute(os.Stdout, fields); err != nil {
			return fmt.Errorf("executing --format: %w", err)
		}
		fmt.Println()
	}
	return nil
}

// asJSONFields is what a template sees: the JSON's fields, by the names
// the JSON shows (Id, as in Docker's templates), numbers printed as they
// are written (not 6.7108864e+07).
func asJSONFields(c any) (map[string]any, error) {
	data, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var fields map[string]any
	return fields, dec.Decode(&fields)
}

// templateFuncs are the template functions Docker's -f has that scripts
// use most.
var templateFuncs = template.FuncMap{
	"json": func(v any) (string, error) {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false) // a command's "&&" stays as typed
		err := enc.Encode(v)
		return strings.TrimSuffix(b.String(), "\n"), err
	},
	"join":  strings.Join,
	"upper": strings.ToUpper,
	"lower": strings.ToLower,
}

func inspect(r container.Record) inspected {
	st := r.State
	c := inspected{
		ID:      r.ID,
		Created: dockerTime(&st.Created),
		Image:   r.Image,
		LogPath: r.LogPath(),
		State: inspectedState{
			Status:     dockerStatus(st.Status),
			Running:    st.Status == state.Running,
			Pid:        st.Pid,
			Error:      st.Error,
			StartedAt:  dockerTime(st.Started),
			FinishedAt: dockerTime(st.Finished),
		},
		HostConfig: inspectedHostConfig{
			Memory:         r.Resources.Memory,
			MemorySwap:     r.Resources.MemorySwap,
			NanoCpus:       r.Resources.NanoCPUs,
			CpuShares:      r.Resources.CPUShares,
			CpusetCpus:     r.Resources.CpusetCpus,
			PidsLimit:      r.Resources.PidsLimit,
			CgroupParent:   r.CgroupParent,
			AutoRemove:     r.AutoRemove,
			Privileged:     r.Privileged,
			ReadonlyRootfs: r.ReadOnly,
		},
		GraphDriver: inspectedGraphDriver{Name: "overlay", Data: map[string]string{
			"UpperDir":  filepath.Join(r.Dir, "upper"),
			"WorkDir":   filepath.Join(r.Dir, "work"),
			"MergedDir": filepath.Join(r.Dir, "rootfs"),
		}},
		Mounts: []inspectedMount{},
		Config: inspectedConfig{
			Hostname:  r.Hostname,
			Env:       container.Environment(r.Config),
			Cmd:       r.Args,
			Image:     r.Image,
			Tty:       r.TTY,
			OpenStdin: r.Interactive,
		},
	}
	if r.Name != "" {
		c.Name = "/" + r.Name
	}
	if len(r.Args) > 0 {
		c.Path, c.Args = r.Args[0], r.Args[1:]
	}
	if st.ExitCode != nil {
		c.State.ExitCode = *st.ExitCode
	}
	//book:add lifecycle
	if r.Paused {
		c.State.Status, c.State.Paused = "paused", true
	}
	c.HostConfig.Init = r.Init
	c.Config.StopSignal = r.StopSignal
	c.Config.StopTimeout = r.StopTimeout
	c.Config.WorkingDir = r.WorkDir
	c.Config.Entrypoint = r.Entrypoint
	c.Config.Cmd = r.Args[len(r.Entrypoint):]
	//book:end
	//book:add netns
	c.HostConfig.NetworkMode = r.Network
	c.NetworkSettings = networkSettings(st.Endpoint)
	//book:end
	//book:add bridge
	c.HostConfig.PortBindings = portsOf(r.Ports)
	//book:end
	if !r.Detach {
		c.LogPath = ""
	}
	for _, v := range r.Volumes {
		c.Mounts = append(c.Mounts, inspectedMount{Type: "bind", Source: v.Source, Destination: v.Destination, RW: !v.ReadOnly})
	}
	return c
}

// dockerStatus is Docker's name for a state: the OCI's "stopped" is
// Docker's "exited".
func dockerStatus(s state.Status) string {
	if s == state.Stopped {
		return "exited"
	}
	return string(s)
}

// dockerTime formats a time as Docker does, the zero time for none.
func dockerTime(t *time.Time) string {
	if t == nil {
		return time.Time{}.Format(time.RFC3339Nano)
	}
	return t.UTC().Format(time.RFC3339Nano)
}
