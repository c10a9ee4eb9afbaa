//book:file security

package report

import (
	"bufio"
	"os"
	"strings"
)

// Security is what the kernel says about the process's privileges, from
// /proc/self/status: the capability sets as hexadecimal masks, whether
// no_new_privs is set, and the seccomp mode (0 none, 2 filter).
type Security struct {
	CapInh     string `json:"cap_inh"`
	CapPrm     string `json:"cap_prm"`
	CapEff     string `json:"cap_eff"`
	CapBnd     string `json:"cap_bnd"`
	CapAmb     string `json:"cap_amb"`
	NoNewPrivs string `json:"no_new_privs"`
	Seccomp    string `json:"seccomp"`
}

// ReadSecurity reads the fields of Security from a status file.
func ReadSecurity(statusFile string) (Security, error) {
	f, err := os.Open(statusFile)
	if err != nil {
		return Security{}, err
	}
	defer f.Close()
	var s Security
	fields := map[string]*string{
		"CapInh": &s.CapInh, "CapPrm": &s.CapPrm, "CapEff": &s.CapEff, "CapBnd": &s.CapBnd,
		"CapAmb": &s.CapAmb, "NoNewPrivs": &s.NoNewPrivs, "Seccomp": &s.Seccomp,
	}
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		name, value, ok := strings.Cut(scanner.Text(), ":")
		if field, known := fields[name]; ok && known {
			*field = strings.TrimSpace(value)
		}
	}
	return s, scanner.Err()
}
