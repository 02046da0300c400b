// @minitask/testenv — a real local control plane for tests, fault tests and benchmarks.
export {
  type ClusterState,
  COMPONENTS,
  type ComponentName,
  type ComponentState,
  ControlPlane,
  freePort,
  type StartOptions,
} from "./controlplane.ts";
