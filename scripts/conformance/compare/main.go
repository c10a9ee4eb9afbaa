// Command compare checks a mydocker container against a Docker container
// started from the same image with the same flags: it reads the probe's two
// JSON reports (and the host's, to tell shared namespaces and cgroups from
// new ones), turns each into a flat list of facts, such as
// "security.cap_eff", "mount /proc/sys flags" or "dev null mode", and
// compares them one by one.
//
// Every difference must be listed, with its reason, in the differences
// file, one a line: "FACT | REASON" (a * in FACT matches anything). It
// fails on a difference the file does not list, and on a line of the file
// that matches no difference, so that the file stays true.
//
//	compare -host host.json -differences differences.txt docker.json mydocker.json
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/mydocker-book/mydocker/mydocker/probe/report"
)

func main() {
	hostFile := flag.String("host", "", "the probe's report from the host itself")
	listFile := flag.String("differences", "", "the known differences, FACT | REASON a line")
	flag.Parse()
	if flag.NArg() != 2 || *hostFile == "" || *listFile == "" {
		fmt.Fprintln(os.Stderr, "usage: compare -host host.json -differences differences.txt docker.json mydocker.json")
		os.Exit(2)
	}
	ok, err := run(os.Stdout, *hostFile, *listFile, flag.Arg(0), flag.Arg(1))
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

func run(out io.Writer, hostFile, listFile, dockerFile, mydockerFile string) (bool, error) {
	var host, docker, mydocker report.Report
	for _, r := range []struct {
		file string
		into *report.Report
	}{{hostFile, &host}, {dockerFile, &docker}, {mydockerFile, &mydocker}} {
		if err := readReport(r.file, r.into); err != nil {
			return false, err
		}
	}
	data, err := os.ReadFile(listFile)
	if err != nil {
		return false, err
	}
	known, err := parseKnown(string(data))
	if err != nil {
		return false, fmt.Errorf("%s: %w", listFile, err)
	}
	diffs := Compare(Flatten(docker, host), Flatten(mydocker, host))
	return Check(out, diffs, known, listFile), nil
}

func readReport(file string, r *report.Report) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, r); err != nil {
		return fmt.Errorf("%s is not the probe's report: %w", file, err)
	}
	return nil
}
