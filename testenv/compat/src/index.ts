// @minitask/testenv is @minitask/envtest under the name this repository's tests and tools have always
// imported: everything is re-exported, nothing is added.
export * from "@minitask/envtest";
