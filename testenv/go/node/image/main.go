// Command minitask-image writes a container image as a docker-archive tarball (what `docker save`
// writes and `ctr images import` / `crane push` read): one uncompressed layer tar per --layer, the
// image config JSON and manifest.json. Files go in owned by root (unless --owner says otherwise),
// with a fixed modification time, in sorted order, so the same input gives the same image id.
//
//	minitask-image -o out.tar -t docker.io/library/busybox:latest [-t …] \
//	  --config '{"Cmd":["sh"],"Env":["PATH=/bin"]}' --layer DIR[=/prefix] [--layer …] [--owner 0:0]
package main

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

var epoch = time.Unix(0, 0).UTC()

type layerSpec struct{ src, prefix string }

func parseLayer(v string) layerSpec {
	if i := strings.LastIndex(v, "="); i > 0 {
		return layerSpec{src: v[:i], prefix: strings.Trim(v[i+1:], "/")}
	}
	return layerSpec{src: v}
}

// writeLayer tars the tree at l.src (symlinks kept as links) into w; returns nothing but errors.
func writeLayer(w io.Writer, l layerSpec, uid, gid int) error {
	tw := tar.NewWriter(w)
	var names []string
	err := filepath.WalkDir(l.src, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		names = append(names, p)
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(names)
	// Parent folders of the prefix first.
	if l.prefix != "" {
		parts := strings.Split(l.prefix, "/")
		for i := 1; i < len(parts); i++ {
			dir := strings.Join(parts[:i], "/") + "/"
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755, ModTime: epoch, Uid: uid, Gid: gid}); err != nil {
				return err
			}
		}
	}
	for _, p := range names {
		rel, err := filepath.Rel(l.src, p)
		if err != nil {
			return err
		}
		name := path.Join(l.prefix, filepath.ToSlash(rel))
		if name == "." || name == "" {
			continue
		}
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		hdr.Name = name
		if info.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = uid, gid, "", ""
		hdr.ModTime, hdr.AccessTime, hdr.ChangeTime = epoch, time.Time{}, time.Time{}
		hdr.Format = tar.FormatPAX
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, f)
			f.Close()
			if err != nil {
				return err
			}
		}
	}
	return tw.Close()
}

func addFile(tw *tar.Writer, name string, data []byte) error {
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: epoch}); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

func run() error {
	var tags, layers list
	out := flag.String("o", "", "output docker-archive tarball")
	configJSON := flag.String("config", "{}", "the image's container config (Cmd, Entrypoint, Env, User, WorkingDir, …) as JSON")
	owner := flag.String("owner", "0:0", "uid:gid of every file in the layers")
	flag.Var(&tags, "t", "a tag (repeatable), e.g. docker.io/library/busybox:latest")
	flag.Var(&layers, "layer", "a folder to add as a layer, optionally DIR=/prefix (repeatable)")
	flag.Parse()
	if *out == "" || len(tags) == 0 || len(layers) == 0 {
		return errors.New("-o, at least one -t and at least one --layer are needed")
	}
	ids := strings.SplitN(*owner, ":", 2)
	uid, err1 := strconv.Atoi(ids[0])
	gid, err2 := strconv.Atoi(ids[len(ids)-1])
	if err1 != nil || err2 != nil {
		return fmt.Errorf("--owner %q is not uid:gid", *owner)
	}
	var cfg map[string]any
	if err := json.Unmarshal([]byte(*configJSON), &cfg); err != nil {
		return fmt.Errorf("--config: %w", err)
	}

	tmpDir, err := os.MkdirTemp(filepath.Dir(*out), ".minitask-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmpDir)
	var diffIDs, layerFiles []string
	for i, v := range layers {
		f, err := os.Create(filepath.Join(tmpDir, strconv.Itoa(i)))
		if err != nil {
			return err
		}
		h := sha256.New()
		err = writeLayer(io.MultiWriter(f, h), parseLayer(v), uid, gid)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("layer %s: %w", v, err)
		}
		diffIDs = append(diffIDs, "sha256:"+hex.EncodeToString(h.Sum(nil)))
		layerFiles = append(layerFiles, f.Name())
	}
	history := make([]map[string]any, len(layers))
	for i := range layers {
		history[i] = map[string]any{"created": epoch.Format(time.RFC3339), "created_by": "minitask-image --layer " + filepath.Base(parseLayer(layers[i]).src)}
	}
	config, err := json.Marshal(map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"created":      epoch.Format(time.RFC3339),
		"config":       cfg,
		"rootfs":       map[string]any{"type": "layers", "diff_ids": diffIDs},
		"history":      history,
	})
	if err != nil {
		return err
	}
	configSum := sha256.Sum256(config)
	configName := hex.EncodeToString(configSum[:]) + ".json"

	tmpOut := *out + ".tmp"
	o, err := os.Create(tmpOut)
	if err != nil {
		return err
	}
	defer os.Remove(tmpOut)
	tw := tar.NewWriter(o)
	var layerNames []string
	for i, lf := range layerFiles {
		name := strings.TrimPrefix(diffIDs[i], "sha256:") + "/layer.tar"
		layerNames = append(layerNames, name)
		st, err := os.Stat(lf)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: st.Size(), ModTime: epoch}); err != nil {
			return err
		}
		f, err := os.Open(lf)
		if err != nil {
			return err
		}
		_, err = io.Copy(tw, f)
		f.Close()
		if err != nil {
			return err
		}
	}
	if err := addFile(tw, configName, config); err != nil {
		return err
	}
	manifest, err := json.Marshal([]map[string]any{{"Config": configName, "RepoTags": []string(tags), "Layers": layerNames}})
	if err != nil {
		return err
	}
	if err := addFile(tw, "manifest.json", manifest); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := o.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmpOut, *out); err != nil {
		return err
	}
	fmt.Println("sha256:" + hex.EncodeToString(configSum[:]))
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "minitask-image:", err)
		os.Exit(1)
	}
}
