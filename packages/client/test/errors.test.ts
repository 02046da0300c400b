import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { apiErrorFromResponse, isResourceExpired, parseRetryAfter } from "../src/errors.ts";
import {
  AlreadyExistsError,
  ApiError,
  apiErrorFromStatus,
  BadRequestError,
  ConflictError,
  GoneError,
  InternalError,
  InvalidError,
  isAlreadyExists,
  isConflict,
  isForbidden,
  isGone,
  isInvalid,
  isNotFound,
  isServerTimeout,
  isServiceUnavailable,
  isTimeout,
  isTooManyRequests,
  isUnauthorized,
  NotFoundError,
  ServerTimeoutError,
  ServiceUnavailableError,
  TimeoutError,
  TooManyRequestsError,
  UnauthorizedError,
  VERSION,
} from "../src/index.ts";
import { USER_AGENT } from "../src/version.ts";
import { statusBody } from "./helpers.ts";

const req = { method: "GET", url: "https://h/api/v1/namespaces/ns/configmaps/x" };

function fromBody(code: number, body: unknown, retryAfter?: string): ApiError {
  return apiErrorFromResponse(code, typeof body === "string" ? body : JSON.stringify(body), retryAfter, req);
}

describe("errors from Status bodies", () => {
  it("maps NotFound with details", () => {
    const err = fromBody(
      404,
      statusBody(404, "NotFound", 'configmaps "x" not found', { name: "x", kind: "configmaps" }),
    );
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toBeInstanceOf(Error);
    expect(isNotFound(err)).toBe(true);
    expect(isConflict(err)).toBe(false);
    expect(err.code).toBe(404);
    expect(err.reason).toBe("NotFound");
    expect(err.details).toEqual({ name: "x", kind: "configmaps" });
    expect(err.status.message).toBe('configmaps "x" not found');
    expect(err.message).toContain('configmaps "x" not found');
    expect(err.message).toContain(req.url);
    expect(err.name).toBe("NotFoundError");
    expect(err.request).toEqual(req);
  });

  it("tells AlreadyExists and Conflict apart (both 409) by reason", () => {
    const exists = fromBody(409, statusBody(409, "AlreadyExists", "exists"));
    const conflict = fromBody(409, statusBody(409, "Conflict", "the object has been modified"));
    expect(exists).toBeInstanceOf(AlreadyExistsError);
    expect(isAlreadyExists(exists)).toBe(true);
    expect(isConflict(exists)).toBe(false);
    expect(conflict).toBeInstanceOf(ConflictError);
    expect(isConflict(conflict)).toBe(true);
  });

  it.each(["Gone", "Expired", "ResourceExpired"])("maps 410 reason %s to GoneError", (reason) => {
    const err = fromBody(410, statusBody(410, reason, "too old resource version: 1 (200)"));
    expect(err).toBeInstanceOf(GoneError);
    expect(isGone(err)).toBe(true);
    expect(isResourceExpired(err)).toBe(true);
    expect(err.reason).toBe(reason);
  });

  it("maps Invalid with its causes", () => {
    const causes = [{ reason: "FieldValueRequired", message: "Required value", field: "metadata.name" }];
    const err = fromBody(422, statusBody(422, "Invalid", "ConfigMap is invalid", { causes, kind: "ConfigMap" }));
    expect(err).toBeInstanceOf(InvalidError);
    expect(isInvalid(err)).toBe(true);
    expect(err.causes).toEqual(causes);
  });

  it("maps TooManyRequests with Retry-After from the header, else from details", () => {
    const a = fromBody(429, statusBody(429, "TooManyRequests", "slow down", { retryAfterSeconds: 7 }), "3");
    expect(a).toBeInstanceOf(TooManyRequestsError);
    expect(isTooManyRequests(a)).toBe(true);
    expect(a.retryAfterSeconds).toBe(3);
    const b = fromBody(429, statusBody(429, "TooManyRequests", "slow down", { retryAfterSeconds: 7 }));
    expect(b.retryAfterSeconds).toBe(7);
  });

  it("maps ServerTimeout (500), Timeout (504), InternalError, ServiceUnavailable, Forbidden, Unauthorized", () => {
    expect(fromBody(500, statusBody(500, "ServerTimeout", "try again"))).toBeInstanceOf(ServerTimeoutError);
    expect(isServerTimeout(fromBody(500, statusBody(500, "ServerTimeout", "x")))).toBe(true);
    expect(fromBody(504, statusBody(504, "Timeout", "timed out"))).toBeInstanceOf(TimeoutError);
    expect(isTimeout(fromBody(504, statusBody(504, "Timeout", "timed out")))).toBe(true);
    expect(fromBody(500, statusBody(500, "InternalError", "boom"))).toBeInstanceOf(InternalError);
    expect(isServiceUnavailable(fromBody(503, statusBody(503, "ServiceUnavailable", "x")))).toBe(true);
    expect(isForbidden(fromBody(403, statusBody(403, "Forbidden", "no")))).toBe(true);
    expect(isUnauthorized(fromBody(401, statusBody(401, "Unauthorized", "Unauthorized")))).toBe(true);
  });

  it("falls back to the HTTP code when the body is not a Status", () => {
    const html = fromBody(503, "<html><body>Service Unavailable</body></html>");
    expect(html).toBeInstanceOf(ServiceUnavailableError);
    expect(html.code).toBe(503);
    expect(html.reason).toBe("ServiceUnavailable");
    expect(html.message).toContain("Service Unavailable");
    const empty = fromBody(401, "");
    expect(empty).toBeInstanceOf(UnauthorizedError);
    expect(fromBody(400, "bad")).toBeInstanceOf(BadRequestError);
    const json = fromBody(404, { not: "a status" });
    expect(json).toBeInstanceOf(NotFoundError);
    const teapot = fromBody(418, "I'm a teapot");
    expect(teapot.constructor).toBe(ApiError);
    expect(teapot.code).toBe(418);
  });

  it("falls back to the code when the Status has an empty or unknown reason", () => {
    expect(fromBody(404, statusBody(404, "", "gone missing"))).toBeInstanceOf(NotFoundError);
    expect(fromBody(409, statusBody(409, "SomethingNew", "x"))).toBeInstanceOf(ConflictError);
  });

  it("builds errors from an in-stream Status (watch ERROR event)", () => {
    const err = apiErrorFromStatus(statusBody(410, "Expired", "too old resource version: 5 (90)"), {
      fromWatchEvent: true,
    });
    expect(err).toBeInstanceOf(GoneError);
    expect(err.code).toBe(410);
    expect(err.fromWatchEvent).toBe(true);
    expect(apiErrorFromStatus({ kind: "Status", code: 500, reason: "InternalError" })).toBeInstanceOf(InternalError);
  });
});

describe("parseRetryAfter", () => {
  it("parses seconds and HTTP dates", () => {
    expect(parseRetryAfter("5")).toBe(5);
    expect(parseRetryAfter(" 0 ")).toBe(0);
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(parseRetryAfter("Wed, 01 Jan 2025 00:00:10 GMT", now)).toBe(10);
    expect(parseRetryAfter("Tue, 31 Dec 2024 00:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});

describe("version", () => {
  it("matches package.json and forms the user agent", () => {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
    expect(VERSION).toBe(pkg.version);
    expect(USER_AGENT).toBe(`minitask/${pkg.version}`);
  });
});
