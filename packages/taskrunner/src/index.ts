// @minitask/taskrunner — Mini Task Runner: the Task/TaskRun API (generated from crds/), the contract the
// controller, the plugin and the dashboard share, and the controller's composition root.
export * from "./contract.ts";
export { type ControllerConfig, type RunningController, startController } from "./controller/start.ts";
export {
  type TaskClient,
  type TaskRunClient,
  taskClient,
  taskInformer,
  taskLister,
  taskRunClient,
  taskRunInformer,
  taskRunLister,
} from "./generated/minitask.myorg.dev/v1/index.ts";
