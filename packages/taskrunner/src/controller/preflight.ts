// Start-up checks that turn the common ways a controller cannot work into one clear line and an exit
// code: the cluster is unreachable, the CRDs are not installed, or RBAC denies something we need.
import { isApiError, isNotFound, type KubeClient, NetworkError } from "@minitask/client";

export const ExitCode = {
  Ok: 0,
  Error: 1,
  Usage: 2,
  Unreachable: 3,
  CrdsMissing: 4,
  Forbidden: 5,
} as const;

export class PreflightError extends Error {
  override readonly name = "PreflightError";
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.exitCode = exitCode;
  }
}

export interface Permission {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly subresource?: string;
  /** Cluster-scoped: asked without a namespace. */
  readonly cluster?: boolean;
}

/** Everything the TaskRun controller does to the API. Keep deploy/rbac.yaml in step with this list. */
export function requiredPermissions(opts: {
  leaderElection: boolean;
  sharding?: boolean;
  metricsSecure?: boolean;
  dashboard?: boolean;
}): Permission[] {
  const g = "minitask.myorg.dev";
  const perms: Permission[] = [
    ...["get", "list", "watch", "update", "patch", "delete"].map((verb) => ({ verb, group: g, resource: "taskruns" })),
    { verb: "update", group: g, resource: "taskruns", subresource: "status" },
    ...["get", "list", "watch"].map((verb) => ({ verb, group: g, resource: "tasks" })),
    ...["get", "list", "watch", "create", "patch", "delete"].map((verb) => ({ verb, group: "", resource: "pods" })),
    ...["create", "patch"].map((verb) => ({ verb, group: "events.k8s.io", resource: "events" })),
    // Which namespaces enforce Pod Security `restricted`.
    ...["get", "list", "watch"].map((verb) => ({ verb, group: "", resource: "namespaces", cluster: true })),
  ];
  if (opts.leaderElection) {
    for (const verb of ["get", "create", "update"])
      perms.push({ verb, group: "coordination.k8s.io", resource: "leases" });
  }
  if (opts.sharding) {
    // Bucket and member Leases: listed each round, taken and renewed, a member's deleted when it stops.
    for (const verb of ["list", "create", "update", "delete"])
      perms.push({ verb, group: "coordination.k8s.io", resource: "leases" });
  }
  if (opts.dashboard) {
    // A run's page: its step and sidecar logs, and the Events of the run and its pods.
    perms.push({ verb: "get", group: "", resource: "pods", subresource: "log" });
    for (const verb of ["list", "watch"]) perms.push({ verb, group: "", resource: "events" });
  }
  if (opts.metricsSecure) {
    // Who is asking for /metrics, and may they.
    perms.push({ verb: "create", group: "authentication.k8s.io", resource: "tokenreviews", cluster: true });
    perms.push({ verb: "create", group: "authorization.k8s.io", resource: "subjectaccessreviews", cluster: true });
  }
  return perms;
}

function describePermission(p: Permission, namespace: string | undefined): string {
  const res = `${p.resource}${p.subresource ? `/${p.subresource}` : ""}${p.group ? `.${p.group}` : ""}`;
  if (p.cluster) return `${p.verb} ${res}`;
  return `${p.verb} ${res} ${namespace ? `in namespace ${namespace}` : "in all namespaces"}`;
}

interface AccessReview {
  status?: { allowed?: boolean; reason?: string };
}

/** Runs the checks in order; throws PreflightError with an actionable one-line message. */
export async function preflight(
  client: KubeClient,
  opts: {
    namespace?: string | undefined;
    leaderElectionNamespace?: string | undefined;
    leaderElection: boolean;
    sharding?: boolean;
    metricsSecure?: boolean;
    dashboard?: boolean;
  },
): Promise<void> {
  const server = client.transport.server;
  try {
    await client.version({ retry: false });
  } catch (err) {
    if (err instanceof NetworkError || !isApiError(err)) {
      const cause = err instanceof NetworkError ? (err.code ?? err.message) : (err as Error).message;
      throw new PreflightError(`cannot reach the Kubernetes API server at ${server}: ${cause}`, ExitCode.Unreachable);
    }
    if (err.code === 401) {
      throw new PreflightError(
        `the API server at ${server} rejected our credentials (401 Unauthorized)`,
        ExitCode.Forbidden,
      );
    }
  }
  try {
    const list = await client.apiResources("minitask.myorg.dev/v1");
    const names = new Set(list.resources.map((r) => r.name));
    const missing = ["tasks", "taskruns"].filter((n) => !names.has(n));
    if (missing.length) throw Object.assign(new Error("missing"), { missing });
  } catch (err) {
    if (isNotFound(err) || (err as { missing?: string[] }).missing) {
      throw new PreflightError(
        "the Task/TaskRun CRDs (minitask.myorg.dev/v1) are not installed; install them with: kubectl apply -f crds/",
        ExitCode.CrdsMissing,
      );
    }
    if (isApiError(err) && err.code === 403) {
      throw new PreflightError(
        `RBAC denies API discovery of minitask.myorg.dev/v1: ${err.message}`,
        ExitCode.Forbidden,
      );
    }
    throw err;
  }
  for (const p of requiredPermissions(opts)) {
    const ns = p.cluster ? undefined : p.resource === "leases" ? opts.leaderElectionNamespace : opts.namespace;
    const review = await client.requestJson<AccessReview>({
      method: "POST",
      path: "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
      body: JSON.stringify({
        apiVersion: "authorization.k8s.io/v1",
        kind: "SelfSubjectAccessReview",
        spec: {
          resourceAttributes: {
            verb: p.verb,
            group: p.group,
            resource: p.resource,
            ...(p.subresource ? { subresource: p.subresource } : {}),
            ...(ns ? { namespace: ns } : {}),
          },
        },
      }),
      contentType: "application/json",
    });
    if (!review.status?.allowed) {
      throw new PreflightError(
        `RBAC: this identity may not ${describePermission(p, ns)} (see deploy/rbac.yaml)`,
        ExitCode.Forbidden,
      );
    }
  }
}
