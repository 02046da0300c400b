// The admission guard for spec.serviceAccountName (deploy/admission-policy.yaml), against the real
// apiserver: users are impersonated (`kubectl --as=<user>`, the harness's admin may impersonate anyone)
// and get their rights from Roles in the test's namespace, so the policy's CEL `authorizer` asks RBAC
// about exactly those users. No controller runs here: admission alone decides.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createTestNamespace, eventually, kubectl } from "@minitask/testenv/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { ROOT } from "./kubectl-task.support.ts";

const POLICY_FILE = join(ROOT, "deploy", "admission-policy.yaml");
const POLICY = "minitask-taskrun-serviceaccount";

interface Outcome {
  readonly ok: boolean;
  /** stdout when ok, stderr otherwise. */
  readonly out: string;
}

/** kubectl as `user` (impersonated); never throws. */
async function as(user: string, args: readonly string[], input?: string): Promise<Outcome> {
  try {
    return { ok: true, out: await kubectl([`--as=${user}`, ...args], input) };
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    return { ok: false, out: (e.stderr || e.message).trim() };
  }
}

function taskRun(ns: string, name: string, serviceAccountName?: string, group = "minitask.myorg.dev"): string {
  return JSON.stringify({
    apiVersion: `${group}/v1`,
    kind: "TaskRun",
    metadata: { name, namespace: ns },
    spec: { taskRef: "build", ...(serviceAccountName ? { serviceAccountName } : {}) },
  });
}

/** The message the policy gives `user` for TaskRun `ns/name` naming `sa`. */
const denial = (ns: string, name: string, user: string, sa: string) =>
  `TaskRun ${ns}/${name} names serviceAccountName "${sa}"; user ${user} may not create pods in ${ns} nor ` +
  `impersonate serviceaccount ${ns}/${sa}: ask for one of those (RBAC: verb create on pods in ${ns}, or verb ` +
  `impersonate on serviceaccounts resourceNames ["${sa}"]), or leave serviceAccountName unset`;

async function role(ns: string, name: string, rules: readonly object[], users: readonly string[]): Promise<void> {
  const docs = [
    { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name, namespace: ns }, rules },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name, namespace: ns },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
      subjects: users.map((u) => ({ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: u })),
    },
  ];
  await kubectl(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: docs }));
}

const taskRunRights = (group: string) => ({
  apiGroups: [group],
  resources: ["taskruns"],
  verbs: ["create", "get", "update", "patch"],
});

/** Waits until `policy` denies alice a TaskRun naming `deployer` (policies load asynchronously). */
async function policyActive(ns: string, group: string, policy: string): Promise<void> {
  await eventually(
    `ValidatingAdmissionPolicy ${policy} in force`,
    async () => {
      const r = await as("alice", ["create", "--dry-run=server", "-f", "-"], taskRun(ns, "probe", "deployer", group));
      return !r.ok && r.out.includes(`ValidatingAdmissionPolicy '${policy}'`) ? true : undefined;
    },
    30_000,
  );
}

let ns: string;

beforeAll(async () => {
  await kubectl(["apply", "-f", join(ROOT, "crds")]);
  await kubectl(["wait", "--for=condition=Established", "crd/taskruns.minitask.myorg.dev"]);
  // The control plane applies it at start-up; applied again for a cluster started before it existed.
  await kubectl(["apply", "-f", POLICY_FILE]);
  ns = await createTestNamespace("admission");
  await kubectl(["create", "serviceaccount", "deployer", "-n", ns]);
  await kubectl(["create", "serviceaccount", "other", "-n", ns]);
  const group = "minitask.myorg.dev";
  // alice: TaskRuns only. bob: TaskRuns and pods. carol: TaskRuns and impersonating deployer.
  // dave: TaskRuns and impersonating a different ServiceAccount.
  await role(ns, "taskrun-user", [taskRunRights(group)], ["alice", "bob", "carol", "dave"]);
  await role(ns, "pod-creator", [{ apiGroups: [""], resources: ["pods"], verbs: ["create"] }], ["bob"]);
  const impersonate = (sa: string) => ({
    apiGroups: [""],
    resources: ["serviceaccounts"],
    resourceNames: [sa],
    verbs: ["impersonate"],
  });
  await role(ns, "deployer-impersonator", [impersonate("deployer")], ["carol"]);
  await role(ns, "other-impersonator", [impersonate("other")], ["dave"]);
  await policyActive(ns, group, POLICY);
});

describe("the serviceAccountName admission policy", () => {
  it("rejects a TaskRun naming a ServiceAccount from a user who may only create TaskRuns, saying what is missing", async () => {
    const r = await as("alice", ["create", "-f", "-"], taskRun(ns, "alice-sa", "deployer"));
    expect(r.ok).toBe(false);
    expect(r.out).toContain("Forbidden");
    expect(r.out).toContain(`ValidatingAdmissionPolicy '${POLICY}' with binding '${POLICY}' denied request`);
    expect(r.out).toContain(denial(ns, "alice-sa", "alice", "deployer"));
    expect((await as("alice", ["get", "taskrun", "alice-sa", "-n", ns])).ok).toBe(false);
  });

  it("accepts the same TaskRun without serviceAccountName", async () => {
    const r = await as("alice", ["create", "-f", "-"], taskRun(ns, "alice-plain"));
    expect(r).toEqual({ ok: true, out: expect.stringContaining("alice-plain created") });
  });

  it("accepts it from a user who may create pods in the namespace", async () => {
    const r = await as("bob", ["create", "-f", "-"], taskRun(ns, "bob-sa", "deployer"));
    expect(r).toEqual({ ok: true, out: expect.stringContaining("bob-sa created") });
    const sa = await kubectl(["get", "taskrun", "bob-sa", "-n", ns, "-o", "jsonpath={.spec.serviceAccountName}"]);
    expect(sa).toBe("deployer");
  });

  it("accepts it from a user who may impersonate that ServiceAccount, and only that one", async () => {
    const carol = await as("carol", ["create", "-f", "-"], taskRun(ns, "carol-sa", "deployer"));
    expect(carol).toEqual({ ok: true, out: expect.stringContaining("carol-sa created") });
    const dave = await as("dave", ["create", "-f", "-"], taskRun(ns, "dave-sa", "deployer"));
    expect(dave.ok).toBe(false);
    expect(dave.out).toContain(denial(ns, "dave-sa", "dave", "deployer"));
    const daveOwn = await as("dave", ["create", "-f", "-"], taskRun(ns, "dave-other", "other"));
    expect(daveOwn.ok).toBe(true);
  });

  it("rejects an update that adds a ServiceAccount (the CRD's immutability rule answers first)", async () => {
    expect((await as("alice", ["create", "-f", "-"], taskRun(ns, "alice-later"))).ok).toBe(true);
    const patch = JSON.stringify({ spec: { serviceAccountName: "deployer" } });
    const r = await as("alice", ["patch", "taskrun", "alice-later", "-n", ns, "--type=merge", "-p", patch]);
    expect(r.ok).toBe(false);
    // The apiserver validates the object against its schema (x-kubernetes-validations) before it runs
    // admission policies, so this update never reaches the policy; the next test shows the policy
    // rejects it too where the schema allows the change.
    expect(r.out).toContain("spec is immutable once created");
    const sa = await kubectl(["get", "taskrun", "alice-later", "-n", ns, "-o", "jsonpath={.spec.serviceAccountName}"]);
    expect(sa).toBe("");
  });

  it("lets a user who may only update TaskRuns cancel a run that names a ServiceAccount (an unchanged name is not checked again)", async () => {
    const patch = JSON.stringify({ spec: { cancelled: true } });
    const r = await as("alice", ["patch", "taskrun", "bob-sa", "-n", ns, "--type=merge", "-p", patch]);
    expect(r).toEqual({ ok: true, out: expect.stringContaining("patched") });
  });
});

describe("the policy's UPDATE rule, on a twin of the TaskRun CRD without the immutability rule", () => {
  // The same policy (deploy/admission-policy.yaml, read from the file) bound to a throw-away copy of the
  // TaskRun CRD in its own API group, whose spec lets serviceAccountName be added later.
  const suffix = randomBytes(3).toString("hex");
  const group = `twin${suffix}.minitask.test`;
  const crdName = `taskruns.${group}`;
  const policy = `${POLICY}-twin${suffix}`;

  beforeAll(async () => {
    const crd = parse(readFileSync(join(ROOT, "crds", "taskrun.yaml"), "utf8")) as {
      metadata: { name: string };
      spec: {
        group: string;
        versions: { schema: { openAPIV3Schema: { properties: { spec: { "x-kubernetes-validations"?: unknown } } } } }[];
      };
    };
    crd.metadata.name = crdName;
    crd.spec.group = group;
    for (const v of crd.spec.versions) delete v.schema.openAPIV3Schema.properties.spec["x-kubernetes-validations"];
    await kubectl(["apply", "-f", "-"], JSON.stringify(crd));
    await kubectl(["wait", "--for=condition=Established", `crd/${crdName}`]);
    const [vap, binding] = parseAllDocuments(readFileSync(POLICY_FILE, "utf8")).map(
      (d) => d.toJS() as { metadata: { name: string }; spec: Record<string, unknown> },
    );
    if (!vap || !binding) throw new Error(`${POLICY_FILE} should hold a policy and a binding`);
    const match = vap.spec.matchConstraints as { resourceRules: { apiGroups: string[] }[] };
    for (const r of match.resourceRules) r.apiGroups = [group];
    vap.metadata.name = policy;
    binding.metadata.name = policy;
    binding.spec.policyName = policy;
    await kubectl(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: [vap, binding] }));
    await role(ns, `twin${suffix}`, [taskRunRights(group)], ["alice", "bob"]);
    await policyActive(ns, group, policy);
  });

  afterAll(async () => {
    await kubectl([
      "delete",
      "validatingadmissionpolicybinding,validatingadmissionpolicy",
      policy,
      "--ignore-not-found",
    ]);
    await kubectl(["delete", "crd", crdName, "--ignore-not-found", "--wait=false"]);
  });

  it("rejects an update that adds a ServiceAccount the same way as a create", async () => {
    expect((await as("alice", ["create", "-f", "-"], taskRun(ns, "later", undefined, group))).ok).toBe(true);
    const patch = JSON.stringify({ spec: { serviceAccountName: "deployer" } });
    const r = await as("alice", ["patch", `taskruns.${group}`, "later", "-n", ns, "--type=merge", "-p", patch]);
    expect(r.ok).toBe(false);
    expect(r.out).toContain(`ValidatingAdmissionPolicy '${policy}'`);
    expect(r.out).toContain(denial(ns, "later", "alice", "deployer"));
  });

  it("accepts that update from a user who may create pods, and a later update that keeps the name", async () => {
    const add = JSON.stringify({ spec: { serviceAccountName: "deployer" } });
    expect((await as("bob", ["patch", `taskruns.${group}`, "later", "-n", ns, "--type=merge", "-p", add])).ok).toBe(
      true,
    );
    const keep = JSON.stringify({ metadata: { labels: { touched: "yes" } } });
    const r = await as("alice", ["patch", `taskruns.${group}`, "later", "-n", ns, "--type=merge", "-p", keep]);
    expect(r.ok).toBe(true);
  });
});
