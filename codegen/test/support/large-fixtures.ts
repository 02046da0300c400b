// Builds the large, real-world-style CRD fixtures in codegen/test/fixtures/large/ (committed; rerun with
// `node --conditions=minitask-source codegen/test/support/large-fixtures.ts` after changing this file):
//  - workloads: a Deployment/StatefulSet-like resource with a full pod template (three versions);
//  - pipelines: an Argo-Workflows-like resource with templates, DAGs, steps and artifacts (two versions);
//  - managedclusters: a Crossplane/Cluster-API-like cluster-scoped resource (four versions).
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";

type Schema = Record<string, unknown>;

const s = (description?: string, extra: Schema = {}): Schema => ({
  type: "string",
  ...(description ? { description } : {}),
  ...extra,
});
const int = (description?: string, extra: Schema = {}): Schema => ({
  type: "integer",
  format: "int32",
  ...(description ? { description } : {}),
  ...extra,
});
const int64 = (description?: string): Schema => ({
  type: "integer",
  format: "int64",
  ...(description ? { description } : {}),
});
const bool = (description?: string): Schema => ({ type: "boolean", ...(description ? { description } : {}) });
const time = (description?: string): Schema => ({
  type: "string",
  format: "date-time",
  ...(description ? { description } : {}),
});
const ios = (description?: string): Schema => ({
  "x-kubernetes-int-or-string": true,
  anyOf: [{ type: "integer" }, { type: "string" }],
  ...(description ? { description } : {}),
});
const enumOf = (values: string[], description?: string): Schema => ({ ...s(description), enum: values });
const obj = (properties: Record<string, Schema>, required: string[] = [], extra: Schema = {}): Schema => ({
  type: "object",
  ...extra,
  ...(required.length > 0 ? { required } : {}),
  properties,
});
const arr = (items: Schema, extra: Schema = {}): Schema => ({ type: "array", ...extra, items });
const mapList = (items: Schema, keys: string[], extra: Schema = {}): Schema =>
  arr(items, { "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": keys, ...extra });
const setOf = (items: Schema): Schema => arr(items, { "x-kubernetes-list-type": "set" });
const strMap = (description?: string): Schema => ({
  type: "object",
  ...(description ? { description } : {}),
  additionalProperties: { type: "string" },
});
const quantityMap = (description: string): Schema => ({
  type: "object",
  description,
  additionalProperties: ios(),
});
const preserve = (description: string): Schema => ({
  type: "object",
  description,
  "x-kubernetes-preserve-unknown-fields": true,
});

const conditions = mapList(
  obj(
    {
      type: s("Type of condition in CamelCase."),
      status: enumOf(["True", "False", "Unknown"], "Status of the condition."),
      observedGeneration: int64("The generation the condition was set for."),
      lastTransitionTime: time("Last time the condition transitioned."),
      reason: s("A programmatic reason.", { maxLength: 1024 }),
      message: s("A human-readable message.", { maxLength: 32768 }),
    },
    ["type", "status", "lastTransitionTime", "reason", "message"],
  ),
  ["type"],
  { description: "The latest available observations of the object's state." },
);

const localRef = (what: string) => obj({ name: s(`Name of the ${what}.`) }, [], { "x-kubernetes-map-type": "atomic" });
const keyRef = (what: string) =>
  obj({ name: s(`Name of the ${what}.`), key: s("The key to select."), optional: bool("Whether it may be missing.") }, [
    "key",
  ]);

const labelSelector = obj(
  {
    matchLabels: strMap("Exact label matches."),
    matchExpressions: arr(
      obj(
        {
          key: s("The label key."),
          operator: enumOf(["In", "NotIn", "Exists", "DoesNotExist"]),
          values: arr(s()),
        },
        ["key", "operator"],
      ),
    ),
  },
  [],
  { "x-kubernetes-map-type": "atomic", description: "A label query over a set of resources." },
);

const nodeSelectorTerm = obj({
  matchExpressions: arr(
    obj({ key: s(), operator: enumOf(["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]), values: arr(s()) }, [
      "key",
      "operator",
    ]),
  ),
  matchFields: arr(obj({ key: s(), operator: s(), values: arr(s()) }, ["key", "operator"])),
});

const podAffinityTerm = obj(
  {
    labelSelector,
    namespaceSelector: labelSelector,
    namespaces: arr(s()),
    topologyKey: s("The node label key of the topology domain."),
    matchLabelKeys: setOf(s()),
    mismatchLabelKeys: setOf(s()),
  },
  ["topologyKey"],
);

const weighted = (term: Schema, key: string) =>
  obj({ weight: int("Weight, 1-100.", { minimum: 1, maximum: 100 }), [key]: term }, ["weight", key]);

const affinity = obj({
  nodeAffinity: obj({
    requiredDuringSchedulingIgnoredDuringExecution: obj({ nodeSelectorTerms: arr(nodeSelectorTerm) }, [
      "nodeSelectorTerms",
    ]),
    preferredDuringSchedulingIgnoredDuringExecution: arr(weighted(nodeSelectorTerm, "preference")),
  }),
  podAffinity: obj({
    requiredDuringSchedulingIgnoredDuringExecution: arr(podAffinityTerm),
    preferredDuringSchedulingIgnoredDuringExecution: arr(weighted(podAffinityTerm, "podAffinityTerm")),
  }),
  podAntiAffinity: obj({
    requiredDuringSchedulingIgnoredDuringExecution: arr(podAffinityTerm),
    preferredDuringSchedulingIgnoredDuringExecution: arr(weighted(podAffinityTerm, "podAffinityTerm")),
  }),
});

const handler = obj({
  exec: obj({ command: arr(s()) }),
  httpGet: obj(
    {
      host: s(),
      httpHeaders: arr(obj({ name: s(), value: s() }, ["name", "value"])),
      path: s(),
      port: ios("Port number or name."),
      scheme: enumOf(["HTTP", "HTTPS"]),
    },
    ["port"],
  ),
  tcpSocket: obj({ host: s(), port: ios() }, ["port"]),
  grpc: obj({ port: int(), service: s() }, ["port"]),
  sleep: obj({ seconds: int64() }, ["seconds"]),
});

const probe = obj({
  ...(handler.properties as Record<string, Schema>),
  initialDelaySeconds: int(),
  timeoutSeconds: int(),
  periodSeconds: int(),
  successThreshold: int(),
  failureThreshold: int(),
  terminationGracePeriodSeconds: int64(),
});

const seccompProfile = obj({ type: enumOf(["Localhost", "RuntimeDefault", "Unconfined"]), localhostProfile: s() }, [
  "type",
]);

const securityContext = obj({
  allowPrivilegeEscalation: bool(),
  appArmorProfile: obj({ type: enumOf(["Localhost", "RuntimeDefault", "Unconfined"]), localhostProfile: s() }, [
    "type",
  ]),
  capabilities: obj({ add: arr(s()), drop: arr(s()) }),
  privileged: bool(),
  procMount: s(),
  readOnlyRootFilesystem: bool(),
  runAsGroup: int64(),
  runAsNonRoot: bool(),
  runAsUser: int64(),
  seLinuxOptions: obj({ level: s(), role: s(), type: s(), user: s() }),
  seccompProfile,
  windowsOptions: obj({
    gmsaCredentialSpec: s(),
    gmsaCredentialSpecName: s(),
    hostProcess: bool(),
    runAsUserName: s(),
  }),
});

const resources = obj({
  claims: mapList(obj({ name: s(), request: s() }, ["name"]), ["name"]),
  limits: quantityMap("Maximum compute resources allowed."),
  requests: quantityMap("Minimum compute resources required."),
});

const envVar = obj(
  {
    name: s("Name of the environment variable."),
    value: s("Value, with $(VAR) references expanded."),
    valueFrom: obj({
      configMapKeyRef: keyRef("ConfigMap"),
      fieldRef: obj({ apiVersion: s(), fieldPath: s() }, ["fieldPath"]),
      fileKeyRef: obj({ key: s(), optional: bool(), path: s(), volumeName: s() }, ["key", "path", "volumeName"]),
      resourceFieldRef: obj({ containerName: s(), divisor: ios(), resource: s() }, ["resource"]),
      secretKeyRef: keyRef("Secret"),
    }),
  },
  ["name"],
);

const container = (description: string) =>
  obj(
    {
      name: s("Name of the container (a DNS label)."),
      image: s("Container image name."),
      imagePullPolicy: enumOf(["Always", "Never", "IfNotPresent"]),
      command: arr(s(), { "x-kubernetes-list-type": "atomic" }),
      args: arr(s(), { "x-kubernetes-list-type": "atomic" }),
      workingDir: s(),
      env: mapList(envVar, ["name"]),
      envFrom: arr(obj({ configMapRef: localRef("ConfigMap"), prefix: s(), secretRef: localRef("Secret") }), {
        "x-kubernetes-list-type": "atomic",
      }),
      ports: mapList(
        obj(
          {
            containerPort: int("Port number on the pod's IP."),
            hostIP: s(),
            hostPort: int(),
            name: s(),
            protocol: { ...enumOf(["TCP", "UDP", "SCTP"]), default: "TCP" },
          },
          ["containerPort"],
        ),
        ["containerPort", "protocol"],
      ),
      resources,
      resizePolicy: arr(obj({ resourceName: s(), restartPolicy: s() }, ["resourceName", "restartPolicy"])),
      restartPolicy: s(),
      volumeMounts: mapList(
        obj(
          {
            mountPath: s(),
            mountPropagation: s(),
            name: s(),
            readOnly: bool(),
            recursiveReadOnly: s(),
            subPath: s(),
            subPathExpr: s(),
          },
          ["mountPath", "name"],
        ),
        ["mountPath"],
      ),
      volumeDevices: mapList(obj({ devicePath: s(), name: s() }, ["devicePath", "name"]), ["devicePath"]),
      livenessProbe: probe,
      readinessProbe: probe,
      startupProbe: probe,
      lifecycle: obj({ postStart: handler, preStop: handler, stopSignal: s() }),
      terminationMessagePath: s(),
      terminationMessagePolicy: enumOf(["File", "FallbackToLogsOnError"]),
      securityContext,
      stdin: bool(),
      stdinOnce: bool(),
      tty: bool(),
    },
    ["name"],
    { description },
  );

const keyToPath = arr(obj({ key: s(), mode: int(), path: s() }, ["key", "path"]));

const volume = obj(
  {
    name: s("Name of the volume."),
    configMap: obj({ defaultMode: int(), items: keyToPath, name: s(), optional: bool() }),
    secret: obj({ defaultMode: int(), items: keyToPath, optional: bool(), secretName: s() }),
    emptyDir: obj({ medium: s(), sizeLimit: ios() }),
    hostPath: obj({ path: s(), type: s() }, ["path"]),
    persistentVolumeClaim: obj({ claimName: s(), readOnly: bool() }, ["claimName"]),
    csi: obj(
      {
        driver: s(),
        fsType: s(),
        nodePublishSecretRef: localRef("Secret"),
        readOnly: bool(),
        volumeAttributes: strMap(),
      },
      ["driver"],
    ),
    downwardAPI: obj({
      defaultMode: int(),
      items: arr(
        obj(
          {
            fieldRef: obj({ apiVersion: s(), fieldPath: s() }, ["fieldPath"]),
            mode: int(),
            path: s(),
            resourceFieldRef: obj({ containerName: s(), divisor: ios(), resource: s() }, ["resource"]),
          },
          ["path"],
        ),
      ),
    }),
    projected: obj({
      defaultMode: int(),
      sources: arr(
        obj({
          clusterTrustBundle: obj({ labelSelector, name: s(), optional: bool(), path: s(), signerName: s() }, ["path"]),
          configMap: obj({ items: keyToPath, name: s(), optional: bool() }),
          secret: obj({ items: keyToPath, name: s(), optional: bool() }),
          serviceAccountToken: obj({ audience: s(), expirationSeconds: int64(), path: s() }, ["path"]),
        }),
      ),
    }),
    ephemeral: obj({
      volumeClaimTemplate: obj(
        {
          metadata: { type: "object", description: "Labels and annotations of the claim." },
          spec: obj({
            accessModes: arr(s()),
            dataSource: obj({ apiGroup: s(), kind: s(), name: s() }, ["kind", "name"]),
            resources: obj({ limits: quantityMap("Limits."), requests: quantityMap("Requests.") }),
            selector: labelSelector,
            storageClassName: s(),
            volumeMode: s(),
          }),
        },
        ["spec"],
      ),
    }),
  },
  ["name"],
);

const podSpec = (version: number) =>
  obj(
    {
      activeDeadlineSeconds: int64(),
      affinity,
      automountServiceAccountToken: bool(),
      containers: mapList(container("A container of the pod."), ["name"], { minItems: 1 }),
      initContainers: mapList(container("An init container, run before the containers."), ["name"]),
      ...(version >= 2 ? { ephemeralContainers: mapList(container("An ephemeral debug container."), ["name"]) } : {}),
      dnsConfig: obj({
        nameservers: arr(s()),
        options: arr(obj({ name: s(), value: s() })),
        searches: arr(s()),
      }),
      dnsPolicy: enumOf(["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"]),
      enableServiceLinks: bool(),
      hostAliases: mapList(obj({ hostnames: arr(s()), ip: s() }, ["ip"]), ["ip"]),
      hostIPC: bool(),
      hostNetwork: bool(),
      hostPID: bool(),
      hostUsers: bool(),
      hostname: s(),
      imagePullSecrets: mapList(localRef("Secret"), ["name"]),
      nodeName: s(),
      nodeSelector: { ...strMap("Labels a node must have."), "x-kubernetes-map-type": "atomic" },
      os: obj({ name: s() }, ["name"]),
      overhead: quantityMap("Resource overhead of the pod."),
      preemptionPolicy: s(),
      priority: int(),
      priorityClassName: s(),
      readinessGates: arr(obj({ conditionType: s() }, ["conditionType"])),
      restartPolicy: enumOf(["Always", "OnFailure", "Never"]),
      runtimeClassName: s(),
      schedulerName: s(),
      schedulingGates: mapList(obj({ name: s() }, ["name"]), ["name"]),
      securityContext: obj({
        fsGroup: int64(),
        fsGroupChangePolicy: s(),
        runAsGroup: int64(),
        runAsNonRoot: bool(),
        runAsUser: int64(),
        seccompProfile,
        supplementalGroups: arr(int64()),
        sysctls: arr(obj({ name: s(), value: s() }, ["name", "value"])),
      }),
      serviceAccountName: s(),
      setHostnameAsFQDN: bool(),
      shareProcessNamespace: bool(),
      subdomain: s(),
      terminationGracePeriodSeconds: int64(),
      tolerations: arr(
        obj({
          effect: enumOf(["NoSchedule", "PreferNoSchedule", "NoExecute"]),
          key: s(),
          operator: enumOf(["Exists", "Equal"]),
          tolerationSeconds: int64(),
          value: s(),
        }),
      ),
      topologySpreadConstraints: mapList(
        obj(
          {
            labelSelector,
            matchLabelKeys: arr(s(), { "x-kubernetes-list-type": "atomic" }),
            maxSkew: int(),
            minDomains: int(),
            nodeAffinityPolicy: s(),
            nodeTaintsPolicy: s(),
            topologyKey: s(),
            whenUnsatisfiable: enumOf(["DoNotSchedule", "ScheduleAnyway"]),
          },
          ["maxSkew", "topologyKey", "whenUnsatisfiable"],
        ),
        ["topologyKey", "whenUnsatisfiable"],
      ),
      volumes: mapList(volume, ["name"]),
    },
    ["containers"],
  );

const podTemplate = (version: number) =>
  obj(
    {
      metadata: obj({ labels: strMap(), annotations: strMap() }, [], {
        description: "Labels and annotations of the pods.",
      }),
      spec: podSpec(version),
    },
    [],
    { description: "The pods to create." },
  );

function crd(
  group: string,
  kind: string,
  plural: string,
  scope: "Namespaced" | "Cluster",
  versions: {
    name: string;
    storage?: boolean;
    deprecated?: boolean;
    schema: Schema;
    status?: boolean;
    scale?: boolean;
  }[],
): Schema {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope,
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase() },
      versions: versions.map((v) => ({
        name: v.name,
        served: true,
        storage: v.storage ?? false,
        ...(v.deprecated ? { deprecated: true } : {}),
        ...(v.status || v.scale
          ? {
              subresources: {
                ...(v.status ? { status: {} } : {}),
                ...(v.scale
                  ? {
                      scale: {
                        specReplicasPath: ".spec.replicas",
                        statusReplicasPath: ".status.replicas",
                        labelSelectorPath: ".status.selector",
                      },
                    }
                  : {}),
              },
            }
          : {}),
        schema: { openAPIV3Schema: v.schema },
      })),
    },
  };
}

const root = (description: string, spec: Schema, status?: Schema): Schema =>
  obj(
    {
      apiVersion: s(),
      kind: s(),
      metadata: { type: "object" },
      spec,
      ...(status ? { status } : {}),
    },
    ["spec"],
    { description },
  );

function workloads(): Schema {
  const spec = (version: number) =>
    obj(
      {
        replicas: int("Desired number of pods.", { default: 1, minimum: 0 }),
        selector: labelSelector,
        template: podTemplate(version),
        strategy: obj(
          {
            type: enumOf(["RollingUpdate", "Recreate", "OnDelete"]),
            rollingUpdate: obj({ maxSurge: ios(), maxUnavailable: ios(), partition: int() }),
          },
          [],
          {
            "x-kubernetes-validations": [
              {
                rule: "self.type != 'Recreate' || !has(self.rollingUpdate)",
                message: "rollingUpdate needs RollingUpdate",
              },
            ],
          },
        ),
        minReadySeconds: int(),
        revisionHistoryLimit: int(),
        paused: bool(),
        progressDeadlineSeconds: int(),
        ...(version >= 1
          ? {
              volumeClaimTemplates: arr(
                obj(
                  {
                    apiVersion: s(),
                    kind: s(),
                    metadata: obj({ name: s(), labels: strMap(), annotations: strMap() }),
                    spec: obj({
                      accessModes: arr(s()),
                      resources: obj({ requests: quantityMap("Requests.") }),
                      storageClassName: s(),
                    }),
                  },
                  [],
                  { "x-kubernetes-embedded-resource": true },
                ),
              ),
              persistentVolumeClaimRetentionPolicy: obj({
                whenDeleted: enumOf(["Retain", "Delete"]),
                whenScaled: enumOf(["Retain", "Delete"]),
              }),
            }
          : {}),
        ...(version >= 2 ? { ordinals: obj({ start: int() }) } : {}),
      },
      ["selector", "template"],
    );
  const status = obj({
    observedGeneration: int64(),
    replicas: int(),
    readyReplicas: int(),
    updatedReplicas: int(),
    availableReplicas: int(),
    unavailableReplicas: int(),
    collisionCount: int(),
    selector: s("The label selector of the pods, for the scale subresource."),
    conditions,
  });
  return crd("large.codegen.minitask.dev", "Workload", "workloads", "Namespaced", [
    {
      name: "v1alpha1",
      deprecated: true,
      schema: root("A replicated workload (alpha).", spec(0), status),
      status: true,
    },
    { name: "v1beta1", schema: root("A replicated workload (beta).", spec(1), status), status: true, scale: true },
    {
      name: "v1",
      storage: true,
      schema: root("A replicated set of pods.", spec(2), status),
      status: true,
      scale: true,
    },
  ]);
}

function pipelines(): Schema {
  const parameter = obj(
    {
      name: s("Parameter name."),
      value: s(),
      default: s(),
      enum: arr(s()),
      description: s(),
      valueFrom: obj({
        path: s(),
        jsonPath: s(),
        jqFilter: s(),
        expression: s(),
        parameter: s(),
        configMapKeyRef: keyRef("ConfigMap"),
        supplied: obj({}),
      }),
    },
    ["name"],
  );
  const artifactLocation = {
    s3: obj({
      bucket: s(),
      endpoint: s(),
      insecure: bool(),
      key: s(),
      region: s(),
      accessKeySecret: keyRef("Secret"),
      secretKeySecret: keyRef("Secret"),
      encryptionOptions: obj({ enableEncryption: bool(), kmsKeyId: s(), kmsEncryptionContext: s() }),
    }),
    git: obj(
      {
        repo: s(),
        revision: s(),
        depth: int64(),
        fetch: arr(s()),
        insecureIgnoreHostKey: bool(),
        usernameSecret: keyRef("Secret"),
        passwordSecret: keyRef("Secret"),
        sshPrivateKeySecret: keyRef("Secret"),
      },
      ["repo"],
    ),
    http: obj({ url: s(), headers: arr(obj({ name: s(), value: s() }, ["name", "value"])) }, ["url"]),
    raw: obj({ data: s() }, ["data"]),
  };
  const artifact = obj(
    {
      name: s("Artifact name."),
      path: s(),
      mode: int(),
      from: s(),
      optional: bool(),
      archive: obj({ none: obj({}), tar: obj({ compressionLevel: int() }), zip: obj({}) }),
      ...artifactLocation,
    },
    ["name"],
    {
      oneOf: [
        { required: ["s3"] },
        { required: ["git"] },
        { required: ["http"] },
        { required: ["raw"] },
        { required: ["from"] },
      ],
    },
  );
  const io = obj({ parameters: arr(parameter), artifacts: arr(artifact) });
  const args = obj({ parameters: arr(parameter), artifacts: arr(artifact) });
  const workflowStep = obj({
    name: s(),
    template: s(),
    arguments: args,
    when: s("An expression; the step runs when it is true."),
    withItems: arr({ "x-kubernetes-preserve-unknown-fields": true }),
    withParam: s(),
    withSequence: obj({ count: ios(), start: ios(), end: ios(), format: s() }),
    continueOn: obj({ error: bool(), failed: bool() }),
    hooks: { type: "object", additionalProperties: obj({ template: s(), expression: s(), arguments: args }) },
  });
  const retryStrategy = obj({
    limit: ios("Maximum number of retries."),
    retryPolicy: enumOf(["Always", "OnFailure", "OnError", "OnTransientError"]),
    backoff: obj({ duration: s(), factor: ios(), maxDuration: s(), cap: s() }),
    affinity: obj({ nodeAntiAffinity: obj({}) }),
    expression: s(),
  });
  const template = (version: number) =>
    obj(
      {
        name: s("Template name, unique in the pipeline."),
        inputs: io,
        outputs: io,
        metadata: obj({ labels: strMap(), annotations: strMap() }),
        container: container("The container this template runs."),
        script: obj({ ...(container("").properties as Record<string, Schema>), source: s("The script.") }, [
          "image",
          "source",
        ]),
        resource: obj(
          {
            action: enumOf(["get", "create", "apply", "delete", "replace", "patch"]),
            manifest: s(),
            manifestFrom: obj({ artifact }, ["artifact"]),
            mergeStrategy: s(),
            successCondition: s(),
            failureCondition: s(),
            flags: arr(s()),
          },
          ["action"],
        ),
        steps: arr(arr(workflowStep), {
          description: "Groups of steps: the groups run in order, steps within one in parallel.",
        }),
        dag: obj(
          {
            target: s(),
            failFast: bool(),
            tasks: arr(
              obj(
                {
                  name: s(),
                  template: s(),
                  dependencies: arr(s()),
                  depends: s(),
                  arguments: args,
                  when: s(),
                  withItems: arr({ "x-kubernetes-preserve-unknown-fields": true }),
                  withParam: s(),
                  continueOn: obj({ error: bool(), failed: bool() }),
                },
                ["name"],
              ),
            ),
          },
          ["tasks"],
        ),
        suspend: obj({ duration: s() }),
        retryStrategy,
        activeDeadlineSeconds: ios(),
        parallelism: int64(),
        nodeSelector: strMap(),
        affinity,
        tolerations: arr(obj({ key: s(), operator: s(), value: s(), effect: s(), tolerationSeconds: int64() })),
        serviceAccountName: s(),
        timeout: s(),
        memoize: obj({ key: s(), maxAge: s(), cache: obj({ configMap: keyRef("ConfigMap") }, ["configMap"]) }, [
          "key",
          "maxAge",
          "cache",
        ]),
        ...(version >= 1
          ? {
              plugin: preserve("Configuration of an executor plugin."),
              http: obj(
                {
                  method: s(),
                  url: s(),
                  headers: arr(
                    obj({ name: s(), value: s(), valueFrom: obj({ secretKeyRef: keyRef("Secret") }) }, ["name"]),
                  ),
                  timeoutSeconds: int64(),
                  successCondition: s(),
                  body: s(),
                  insecureSkipVerify: bool(),
                },
                ["url"],
              ),
            }
          : {}),
      },
      ["name"],
      {
        "x-kubernetes-validations": [
          {
            rule: "[has(self.container), has(self.script), has(self.resource), has(self.steps), has(self.dag), has(self.suspend)].exists_one(x, x)",
            message: "a template has exactly one of container, script, resource, steps, dag, suspend",
          },
        ],
      },
    );
  const spec = (version: number) =>
    obj(
      {
        entrypoint: s("The template to start with."),
        arguments: args,
        templates: mapList(template(version), ["name"], { minItems: 1 }),
        serviceAccountName: s(),
        volumes: mapList(volume, ["name"]),
        volumeClaimTemplates: arr({
          type: "object",
          "x-kubernetes-embedded-resource": true,
          "x-kubernetes-preserve-unknown-fields": true,
        }),
        parallelism: int64(),
        nodeSelector: strMap(),
        affinity,
        tolerations: arr(obj({ key: s(), operator: s(), value: s(), effect: s() })),
        imagePullSecrets: arr(localRef("Secret")),
        hostNetwork: bool(),
        dnsPolicy: s(),
        onExit: s(),
        ttlStrategy: obj({ secondsAfterCompletion: int(), secondsAfterSuccess: int(), secondsAfterFailure: int() }),
        activeDeadlineSeconds: int64(),
        priority: int(),
        podGC: obj({
          strategy: enumOf(["OnPodCompletion", "OnPodSuccess", "OnWorkflowCompletion", "OnWorkflowSuccess"]),
          labelSelector,
          deleteDelayDuration: s(),
        }),
        podSpecPatch: s("A strategic merge patch applied to every pod."),
        metrics: obj({
          prometheus: arr(
            obj(
              {
                name: s(),
                help: s(),
                labels: arr(obj({ key: s(), value: s() }, ["key", "value"])),
                when: s(),
                gauge: obj({ value: s(), realtime: bool(), operation: s() }, ["value"]),
                histogram: obj({ value: s(), buckets: arr({ type: "number" }) }, ["value", "buckets"]),
                counter: obj({ value: s() }, ["value"]),
              },
              ["name", "help"],
            ),
          ),
        }),
        synchronization: obj({
          semaphores: arr(obj({ configMapKeyRef: keyRef("ConfigMap"), namespace: s() })),
          mutexes: arr(obj({ name: s(), namespace: s() })),
        }),
        retryStrategy,
        archiveLogs: bool(),
        hooks: { type: "object", additionalProperties: obj({ template: s(), expression: s() }) },
      },
      ["entrypoint", "templates"],
    );
  const nodeStatus = obj({
    id: s(),
    name: s(),
    displayName: s(),
    type: enumOf([
      "Pod",
      "Container",
      "Steps",
      "StepGroup",
      "DAG",
      "TaskGroup",
      "Retry",
      "Skipped",
      "Suspend",
      "Plugin",
    ]),
    templateName: s(),
    phase: enumOf(["Pending", "Running", "Succeeded", "Skipped", "Failed", "Error", "Omitted"]),
    boundaryID: s(),
    message: s(),
    startedAt: time(),
    finishedAt: time(),
    estimatedDuration: int(),
    progress: s(),
    resourcesDuration: { type: "object", additionalProperties: int64() },
    podIP: s(),
    daemoned: bool(),
    inputs: io,
    outputs: obj({ ...(io.properties as Record<string, Schema>), result: s(), exitCode: s() }),
    children: arr(s()),
    outboundNodes: arr(s()),
    hostNodeName: s(),
    memoizationStatus: obj({ hit: bool(), key: s(), cacheName: s() }, ["hit", "key", "cacheName"]),
  });
  const status = obj({
    phase: enumOf(["", "Pending", "Running", "Succeeded", "Failed", "Error"]),
    startedAt: time(),
    finishedAt: time(),
    estimatedDuration: int(),
    progress: s(),
    message: s(),
    nodes: { type: "object", description: "Status of every node, by node id.", additionalProperties: nodeStatus },
    storedTemplates: { type: "object", additionalProperties: preserve("A template stored at submission.") },
    persistentVolumeClaims: arr(preserve("A volume claim of the run.")),
    outputs: io,
    resourcesDuration: { type: "object", additionalProperties: int64() },
    conditions,
    taskResultsCompletionStatus: { type: "object", additionalProperties: bool() },
  });
  return crd("large.codegen.minitask.dev", "Pipeline", "pipelines", "Namespaced", [
    { name: "v1alpha1", schema: root("A pipeline of templates (alpha).", spec(0), status), status: true },
    { name: "v1", storage: true, schema: root("A pipeline of templates run as pods.", spec(1), status), status: true },
  ]);
}

function managedClusters(): Schema {
  const ref = obj(
    {
      name: s("Name of the referenced object."),
      policy: obj({ resolution: enumOf(["Required", "Optional"]), resolve: enumOf(["Always", "IfNotPresent"]) }),
    },
    ["name"],
  );
  const selector = obj({
    matchControllerRef: bool(),
    matchLabels: strMap(),
    policy: obj({ resolution: enumOf(["Required", "Optional"]), resolve: enumOf(["Always", "IfNotPresent"]) }),
  });
  const nodePool = (version: number) =>
    obj(
      {
        name: s("Name of the node pool."),
        machineType: s(),
        minCount: int(),
        maxCount: int(),
        count: int(),
        autoscaling: obj({
          enabled: bool(),
          minNodeCount: int(),
          maxNodeCount: int(),
          locationPolicy: enumOf(["BALANCED", "ANY"]),
          profile: obj({ scaleDownUtilizationThreshold: { type: "number" }, expander: s() }),
        }),
        taints: arr(obj({ key: s(), value: s(), effect: enumOf(["NoSchedule", "PreferNoSchedule", "NoExecute"]) })),
        labels: strMap(),
        tags: strMap(),
        diskSizeGb: int(),
        diskType: s(),
        imageType: s(),
        spot: bool(),
        management: obj({ autoRepair: bool(), autoUpgrade: bool() }),
        upgradeSettings: obj({ maxSurge: ios(), maxUnavailable: ios(), strategy: enumOf(["SURGE", "BLUE_GREEN"]) }),
        kubeletConfig: obj({
          cpuManagerPolicy: s(),
          cpuCfsQuota: bool(),
          cpuCfsQuotaPeriod: s(),
          podPidsLimit: int64(),
          imageGcHighThresholdPercent: int(),
          imageGcLowThresholdPercent: int(),
          containerLogMaxSize: s(),
          containerLogMaxFiles: int(),
          allowedUnsafeSysctls: setOf(s()),
          topologyManagerPolicy: s(),
        }),
        linuxOsConfig: obj({
          sysctls: strMap(),
          transparentHugePageEnabled: s(),
          transparentHugePageDefrag: s(),
          swapFileSizeMb: int(),
        }),
        ...(version >= 2
          ? {
              networkConfig: obj({
                podRange: s(),
                podIpv4CidrBlock: s(),
                enablePrivateNodes: bool(),
                podCidrOverprovisionConfig: obj({ disable: bool() }),
              }),
              placementPolicy: obj({ type: s(), tpuTopology: s(), policyName: s() }),
            }
          : {}),
        ...(version >= 3
          ? { accelerators: arr(obj({ type: s(), count: int64(), gpuPartitionSize: s() }, ["type", "count"])) }
          : {}),
      },
      ["name"],
    );
  const networking = obj({
    network: s(),
    subnetwork: s(),
    networkRef: ref,
    networkSelector: selector,
    subnetworkRef: ref,
    subnetworkSelector: selector,
    podCidr: s(),
    serviceCidr: s(),
    dnsServiceIp: s(),
    networkPlugin: enumOf(["azure", "kubenet", "none", "cilium"]),
    networkPolicy: enumOf(["calico", "azure", "cilium"]),
    outboundType: s(),
    loadBalancerProfile: obj({
      managedOutboundIpCount: int(),
      outboundIpAddressIds: setOf(s()),
      idleTimeoutInMinutes: int(),
      allocatedOutboundPorts: int(),
    }),
    privateCluster: obj({
      enabled: bool(),
      masterIpv4CidrBlock: s(),
      privateEndpointSubnetwork: s(),
      masterGlobalAccess: obj({ enabled: bool() }, ["enabled"]),
    }),
    masterAuthorizedNetworks: obj({
      cidrBlocks: arr(obj({ cidrBlock: s(), displayName: s() }, ["cidrBlock"])),
      gcpPublicCidrsAccessEnabled: bool(),
    }),
  });
  const forProvider = (version: number) =>
    obj({
      location: s("Region or zone."),
      kubernetesVersion: s(),
      releaseChannel: obj({ channel: enumOf(["UNSPECIFIED", "RAPID", "REGULAR", "STABLE", "EXTENDED"]) }),
      networking,
      nodePools: mapList(nodePool(version), ["name"]),
      addons: obj({
        httpLoadBalancing: obj({ disabled: bool() }),
        horizontalPodAutoscaling: obj({ disabled: bool() }),
        networkPolicyConfig: obj({ disabled: bool() }),
        dnsCacheConfig: obj({ enabled: bool() }),
        gcePersistentDiskCsiDriverConfig: obj({ enabled: bool() }),
        azureKeyvaultSecretsProvider: obj({ secretRotationEnabled: bool(), secretRotationInterval: s() }),
        omsAgent: obj({ logAnalyticsWorkspaceId: s(), msiAuthForMonitoringEnabled: bool() }),
      }),
      identity: obj({ type: enumOf(["SystemAssigned", "UserAssigned"]), identityIds: setOf(s()) }, ["type"]),
      maintenancePolicy: obj({
        dailyMaintenanceWindow: obj({ startTime: s() }, ["startTime"]),
        recurringWindow: obj({ startTime: time(), endTime: time(), recurrence: s() }),
        maintenanceExclusions: mapList(
          obj({ exclusionName: s(), startTime: time(), endTime: time(), scope: s() }, ["exclusionName"]),
          ["exclusionName"],
        ),
      }),
      loggingConfig: obj({ enableComponents: setOf(enumOf(["SYSTEM_COMPONENTS", "APISERVER", "WORKLOADS"])) }),
      monitoringConfig: obj({
        enableComponents: setOf(s()),
        managedPrometheus: obj({ enabled: bool() }, ["enabled"]),
      }),
      tags: strMap("Cloud tags of the cluster."),
      resourceLabels: strMap(),
      encryption: obj({ state: enumOf(["ENCRYPTED", "DECRYPTED"]), keyName: s() }),
      ...(version >= 1
        ? {
            workloadIdentityConfig: obj({ workloadPool: s() }),
            securityPostureConfig: obj({ mode: s(), vulnerabilityMode: s() }),
          }
        : {}),
      ...(version >= 3 ? { fleet: obj({ project: s(), membership: s() }) } : {}),
    });
  const spec = (version: number) =>
    obj(
      {
        deletionPolicy: { ...enumOf(["Orphan", "Delete"]), default: "Delete" },
        managementPolicies: {
          ...setOf(enumOf(["Observe", "Create", "Update", "Delete", "LateInitialize", "*"])),
          default: ["*"],
        },
        forProvider: forProvider(version),
        initProvider: forProvider(version),
        providerConfigRef: { ...ref, default: { name: "default" } },
        writeConnectionSecretToRef: obj({ name: s(), namespace: s() }, ["name", "namespace"]),
        publishConnectionDetailsTo: obj(
          {
            name: s(),
            configRef: obj({ name: s() }),
            metadata: obj({ annotations: strMap(), labels: strMap(), type: s() }),
          },
          ["name"],
        ),
      },
      ["forProvider"],
      {
        "x-kubernetes-validations": [
          {
            rule: "!('*' in self.managementPolicies || 'Create' in self.managementPolicies) || has(self.forProvider.location)",
            message: "spec.forProvider.location is a required parameter",
          },
        ],
      },
    );
  const status = (version: number) =>
    obj({
      atProvider: obj({
        ...((forProvider(version).properties as Record<string, Schema>) ?? {}),
        id: s(),
        endpoint: s(),
        selfLink: s(),
        status: s(),
        currentMasterVersion: s(),
        currentNodeCount: int(),
        kubeConfig: obj({ clusterCaCertificate: s(), host: s() }),
        nodePoolStatuses: {
          type: "object",
          additionalProperties: obj({ version: s(), status: s(), instanceGroupUrls: arr(s()) }),
        },
      }),
      conditions,
      observedGeneration: int64(),
    });
  return crd("large.codegen.minitask.dev", "ManagedCluster", "managedclusters", "Cluster", [
    {
      name: "v1alpha1",
      deprecated: true,
      schema: root("A managed Kubernetes cluster.", spec(0), status(0)),
      status: true,
    },
    { name: "v1alpha2", schema: root("A managed Kubernetes cluster.", spec(1), status(1)), status: true },
    { name: "v1beta1", schema: root("A managed Kubernetes cluster.", spec(2), status(2)), status: true },
    { name: "v1", storage: true, schema: root("A managed Kubernetes cluster.", spec(3), status(3)), status: true },
  ]);
}

/** The large fixtures by file name. */
export function largeFixtures(): Record<string, Schema> {
  return {
    "workloads.yaml": workloads(),
    "pipelines.yaml": pipelines(),
    "managedclusters.yaml": managedClusters(),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = new URL("../fixtures/large/", import.meta.url);
  for (const [name, value] of Object.entries(largeFixtures())) {
    const header = "# Generated by codegen/test/support/large-fixtures.ts: a large, real-world-style CRD.\n";
    writeFileSync(new URL(name, dir), header + stringify(value, { lineWidth: 0, aliasDuplicateObjects: false }));
  }
}
