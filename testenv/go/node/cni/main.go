// Command minitask-cni is the real node's CNI plugin. It gives every pod sandbox an address in
// 127.244.0.0/16 (derived from the container id, so it keeps no state) and creates no interface: the
// pod's network namespace holds only `lo`, so nothing a step does can reach another host. Installed
// also under the name `loopback`, it is the plugin containerd runs for the sandbox's `lo`, which it
// brings up.
package main

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"unsafe"
)

var supported = []string{"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"}

type netConf struct {
	CNIVersion string `json:"cniVersion"`
	Name       string `json:"name"`
	Type       string `json:"type"`
}

type ipConfig struct {
	Version   string `json:"version,omitempty"`
	Address   string `json:"address"`
	Interface *int   `json:"interface,omitempty"`
}

type iface struct {
	Name    string `json:"name"`
	Mac     string `json:"mac,omitempty"`
	Sandbox string `json:"sandbox,omitempty"`
}

type result struct {
	CNIVersion string     `json:"cniVersion"`
	Interfaces []iface    `json:"interfaces,omitempty"`
	IPs        []ipConfig `json:"ips"`
	DNS        struct{}   `json:"dns"`
}

func fail(version string, code int, format string, args ...any) {
	if version == "" {
		version = "1.0.0"
	}
	_ = json.NewEncoder(os.Stdout).Encode(map[string]any{
		"cniVersion": version,
		"code":       code,
		"msg":        fmt.Sprintf(format, args...),
	})
	os.Exit(1)
}

// podAddress maps a container id onto 127.244.1.1 … 127.244.254.254.
func podAddress(id string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	v := h.Sum32()
	return fmt.Sprintf("127.244.%d.%d/16", 1+(v>>8)%254, 1+v%254)
}

// loUp brings `lo` up inside the network namespace at path.
func loUp(path string) error {
	ns, err := os.Open(path)
	if err != nil {
		return err
	}
	defer ns.Close()
	runtime.LockOSThread() // this thread stays in the pod's namespace; the process exits right after
	if _, _, e := syscall.RawSyscall(sysSetns, ns.Fd(), syscall.CLONE_NEWNET, 0); e != 0 {
		return fmt.Errorf("setns %s: %w", path, e)
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	var req struct {
		name  [syscall.IFNAMSIZ]byte
		flags uint16
		_     [22]byte
	}
	copy(req.name[:], "lo")
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.SIOCGIFFLAGS, uintptr(unsafe.Pointer(&req))); e != 0 {
		return fmt.Errorf("SIOCGIFFLAGS lo: %w", e)
	}
	req.flags |= syscall.IFF_UP | syscall.IFF_RUNNING
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.SIOCSIFFLAGS, uintptr(unsafe.Pointer(&req))); e != 0 {
		return fmt.Errorf("SIOCSIFFLAGS lo: %w", e)
	}
	return nil
}

func main() {
	cmd := os.Getenv("CNI_COMMAND")
	if cmd == "VERSION" {
		_ = json.NewEncoder(os.Stdout).Encode(map[string]any{"cniVersion": "1.0.0", "supportedVersions": supported})
		return
	}
	raw, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail("", 100, "reading the network configuration: %v", err)
	}
	var conf netConf
	if err := json.Unmarshal(raw, &conf); err != nil {
		fail("", 6, "decoding the network configuration: %v", err)
	}
	switch cmd {
	case "ADD":
	case "DEL", "CHECK", "GC", "STATUS":
		return // nothing was created, so nothing to delete or check
	default:
		fail(conf.CNIVersion, 4, "unknown CNI_COMMAND %q", cmd)
	}
	netns := os.Getenv("CNI_NETNS")
	legacy := conf.CNIVersion != "" && conf.CNIVersion < "1.0.0"
	ipVersion := ""
	if legacy {
		ipVersion = "4"
	}
	res := result{CNIVersion: conf.CNIVersion}
	if conf.Type == "loopback" || filepath.Base(os.Args[0]) == "loopback" {
		if netns != "" {
			if err := loUp(netns); err != nil {
				fail(conf.CNIVersion, 11, "bringing lo up: %v", err)
			}
		}
		zero := 0
		res.Interfaces = []iface{{Name: "lo", Mac: "00:00:00:00:00:00", Sandbox: netns}}
		res.IPs = []ipConfig{{Version: ipVersion, Address: "127.0.0.1/8", Interface: &zero}}
	} else {
		res.IPs = []ipConfig{{Version: ipVersion, Address: podAddress(os.Getenv("CNI_CONTAINERID"))}}
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		fail(conf.CNIVersion, 100, "writing the result: %v", err)
	}
}
