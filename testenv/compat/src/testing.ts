// @minitask/testenv/testing is @minitask/envtest/testing (the helpers of this repository's cluster tests).
export * from "@minitask/envtest/testing";
