// Pinned versions of the upstream components the local control plane is built from, and where the
// built binaries are cached. Bump a version here and in the matching testenv/go/*/go.mod together.
import { homedir } from "node:os";
import { join } from "node:path";

export const KUBERNETES_VERSION = "v1.36.3";
export const ETCD_VERSION = "v3.6.16";
export const KWOK_VERSION = "v0.8.0";
/** go-containerregistry, whose `crane registry serve` is the real node's local registry. */
export const CRANE_VERSION = "v0.22.1";
/** The Go release the pinned Kubernetes needs (its go.mod says `go 1.26.0`). */
export const MIN_GO = { major: 1, minor: 26 } as const;

/** Root of minitask's caches: `MINITASK_CACHE_DIR`, else `$XDG_CACHE_HOME/minitask`, else `~/.cache/minitask`. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MINITASK_CACHE_DIR) return env.MINITASK_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "minitask");
}

export interface BinarySpec {
  /** File name of the executable. */
  readonly name: string;
  /** Folder under testenv/go holding the wrapper go.mod. */
  readonly module: "etcd" | "kube" | "kwok" | "node" | "crane";
  /** Package to build (relative to the wrapper module). */
  readonly pkg: string;
  /** Cache sub-folder, keyed by version. */
  readonly dir: string;
  readonly ldflags: string;
}

function kubeLdflags(): string {
  const [maj, min] = KUBERNETES_VERSION.slice(1).split(".");
  const vars: Record<string, string> = {
    gitVersion: KUBERNETES_VERSION,
    gitMajor: maj ?? "",
    gitMinor: min ?? "",
    gitTreeState: "clean",
  };
  const parts = ["-s", "-w"];
  for (const pkg of ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"]) {
    for (const [k, v] of Object.entries(vars)) parts.push(`-X ${pkg}.${k}=${v}`);
  }
  return parts.join(" ");
}

export const BINARIES: readonly BinarySpec[] = [
  { name: "etcd", module: "etcd", pkg: ".", dir: `etcd-${ETCD_VERSION}`, ldflags: "-s -w" },
  ...["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl"].map(
    (name): BinarySpec => ({
      name,
      module: "kube",
      pkg: `k8s.io/kubernetes/cmd/${name}`,
      dir: `kube-${KUBERNETES_VERSION}`,
      ldflags: kubeLdflags(),
    }),
  ),
  { name: "kwok", module: "kwok", pkg: "sigs.k8s.io/kwok/cmd/kwok", dir: `kwok-${KWOK_VERSION}`, ldflags: "-s -w" },
];

export type BinaryName = "etcd" | "kube-apiserver" | "kube-controller-manager" | "kube-scheduler" | "kubectl" | "kwok";

// ---- the real node ----

/** Debian packages the real node runs (fetched with `apt-get download`, unpacked with `dpkg-deb -x`). */
export const DEBIAN_PACKAGES = ["containerd", "runc", "busybox-static"] as const;
export type DebianPackage = (typeof DEBIAN_PACKAGES)[number];

/** The real node's name (the kubelet's --hostname-override; its InternalIP is the same address). */
export const REAL_NODE_NAME = "127.0.0.1";
/** Label (and, with `--node both`, NoSchedule taint) that marks the real node: `minitask.dev/node-kind=real`. */
export const NODE_KIND_LABEL = "minitask.dev/node-kind";

/** The pod sandbox image (our own static init), imported into the node's containerd. */
export const PAUSE_IMAGE = "localhost/minitask/pause:1";

/**
 * Names the busybox step image is tagged with. Pods may name any of them; add a name here (any
 * registry, e.g. `ghcr.io/example/tools:1`) and the next `npm run cluster -- build` retags the image.
 */
export const STEP_IMAGE_TAGS: readonly string[] = [
  "docker.io/library/busybox:latest",
  "docker.io/library/busybox:1.36",
];

export type NodeBinaryName = "kubelet" | "minitask-cni" | "minitask-pause" | "minitask-image" | "crane";

/** The real node's Go binaries. `node` tools are keyed by a hash of their sources (see build.ts). */
export function nodeBinarySpecs(nodeToolsKey: string): readonly (BinarySpec & { name: NodeBinaryName })[] {
  return [
    {
      name: "kubelet",
      module: "kube",
      pkg: "k8s.io/kubernetes/cmd/kubelet",
      dir: `kube-${KUBERNETES_VERSION}`,
      ldflags: kubeLdflags(),
    },
    ...(["cni", "pause", "image"] as const).map((p) => ({
      name: `minitask-${p}` as const,
      module: "node" as const,
      pkg: `./${p}`,
      dir: `node-tools-${nodeToolsKey}`,
      ldflags: "-s -w",
    })),
    {
      name: "crane",
      module: "crane",
      pkg: "github.com/google/go-containerregistry/cmd/crane",
      dir: `crane-${CRANE_VERSION}`,
      ldflags: "-s -w",
    },
  ];
}
