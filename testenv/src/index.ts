// @minitask/envtest — a real local control plane for tests, fault tests and benchmarks, with kwok
// (simulated) nodes and a real node (kubelet + containerd) that runs containers. (This repository's own
// tests import it under its former name, @minitask/testenv, which testenv/compat keeps.)
//
// startControlPlane / connectControlPlane are the API for tests; ControlPlane is the lower level (start,
// attach, stop and restart single components, compact etcd, import images into the real node).
export { TestEnvError } from "./build.ts";
export {
  type ClusterState,
  COMPONENTS,
  type ComponentName,
  type ComponentState,
  ControlPlane,
  type ControlPlaneComponent,
  componentsFor,
  DEFAULT_MANIFESTS,
  NODE_COMPONENTS,
  type NodeComponent,
  type StartOptions,
} from "./controlplane.ts";
export {
  type ControlPlaneOptions,
  connectControlPlane,
  type NamespaceOptions,
  startControlPlane,
  type TestControlPlane,
} from "./envtest.ts";
export {
  type BuildImageOptions,
  buildImage,
  ensureDebianPackages,
  ensureNodeArtifacts,
  type ImageLayer,
  type NodeArtifacts,
  nodeArtifactPaths,
} from "./node-build.ts";
export { freePort, releasePorts } from "./ports.ts";
export {
  liveRealNodes,
  type NodeKind,
  type NodeScope,
  type RealNodeState,
  type RealNodeSupport,
  realNodeLeftovers,
  realNodeSupport,
} from "./realnode.ts";
export { cacheRoot, NODE_KIND_LABEL, PAUSE_IMAGE, REAL_NODE_NAME, STEP_IMAGE_TAGS } from "./versions.ts";
