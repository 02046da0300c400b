import type { KubeObject } from "@minitask/client";
import { describe, expect, it } from "vitest";
import { StringInterner } from "../src/intern.ts";

describe("StringInterner", () => {
  it("keeps one entry per short string, none for long ones, and starts over when full", () => {
    const t = new StringInterner(3);
    for (const s of ["a", "b", "a", "b"]) expect(t.intern(s)).toBe(s);
    expect(t.size).toBe(2);
    expect(t.intern("x".repeat(65))).toBe("x".repeat(65));
    expect(t.size).toBe(2);
    t.intern("c");
    expect(t.size).toBe(3);
    t.intern("d");
    expect(t.size).toBe(1);
  });

  it("interns metadata in place without changing any value, and leaves frozen objects alone", () => {
    const make = (): KubeObject =>
      JSON.parse(
        JSON.stringify({
          apiVersion: "v1",
          kind: "Pod",
          metadata: {
            name: "p",
            namespace: "ns",
            generateName: "p-",
            creationTimestamp: "2026-11-24T10:00:00Z",
            labels: { app: "web", n: 1 },
            annotations: { short: "v", long: "y".repeat(200) },
            ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: "u" }, null],
          },
          spec: { containers: [] },
        }),
      ) as KubeObject;
    const t = new StringInterner();
    const a = make();
    const before = JSON.stringify(a);
    t.internMetadata(a);
    expect(JSON.stringify(a)).toBe(before);
    // namespace, generateName, timestamp, apiVersion, kind, 2 short string values, owner apiVersion/kind
    expect(t.size).toBe(9);
    const frozen = Object.freeze(make());
    t.internMetadata(frozen);
    expect(JSON.stringify(frozen)).toBe(before);
    const noMeta = { apiVersion: "v2" } as KubeObject;
    t.internMetadata(noMeta);
    expect(noMeta).toEqual({ apiVersion: "v2" });
  });
});
