// Pinned versions of the upstream components the local control plane is built from, and where the
// built binaries are cached. Bump a version here and in the matching testenv/go/*/go.mod together.
import { homedir } from "node:os";
import { join } from "node:path";

export const KUBERNETES_VERSION = "v1.36.3";
export const ETCD_VERSION = "v3.6.16";
export const KWOK_VERSION = "v0.8.0";
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
  readonly module: "etcd" | "kube" | "kwok";
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
