// Which failures are retried, and how long to wait. Rules:
//  - 429 TooManyRequests: every verb (the apiserver rejected the request before doing anything), waiting
//    `Retry-After` when given.
//  - connect-phase network failures (refused, DNS, connect timeout, TLS handshake cut): every verb — no
//    byte of the request reached the server.
//  - other transient network failures (reset, socket closed, timeouts) and 500/502/503/504: idempotent
//    requests only (GET, HEAD, and the connect phase of a watch). A write that may have reached the
//    server is never replayed: a second create would fail with AlreadyExists, a second delete NotFound.
// Waits grow exponentially with jitter; `Retry-After` (capped) takes precedence when the server sent one.
import { ApiError, type NetworkError } from "./errors.ts";

/** The retry policy of requests: how often and how long to wait between attempts (exponential with jitter). */
export interface RetryOptions {
  /** Total attempts including the first (1 disables retries). Default 5. */
  readonly maxAttempts: number;
  /** Wait before the first retry. Default 200 ms. */
  readonly initialDelayMs: number;
  /** Upper bound of the exponential wait. Default 10 s. */
  readonly maxDelayMs: number;
  /** Up to this fraction of the wait is added at random (0 disables jitter). Default 0.5. */
  readonly jitter: number;
  /** Longest `Retry-After` honoured; a longer one is waited for only this long. Default 60 s. */
  readonly maxRetryAfterMs: number;
}

/** The default {@link RetryOptions}. */
export const defaultRetryOptions: RetryOptions = {
  maxAttempts: 5,
  initialDelayMs: 200,
  maxDelayMs: 10_000,
  jitter: 0.5,
  maxRetryAfterMs: 60_000,
};

/** `retry: false` turns retries off; a partial object overrides the defaults. */
export type RetrySetting = Partial<RetryOptions> | false;

export function resolveRetryOptions(base: RetryOptions, override: RetrySetting | undefined): RetryOptions {
  if (override === false) return { ...base, maxAttempts: 1 };
  return override === undefined ? base : { ...base, ...override };
}

/** Exponential backoff with jitter for retry number `retry` (1 = first retry). */
export function backoffDelay(options: RetryOptions, retry: number, random: () => number): number {
  const exp = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.round(Math.min(options.maxDelayMs, exp * (1 + options.jitter * random())));
}

/** Network error codes that are worth another try. */
const transientCodes: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EAI_AGAIN",
  "EPROTO",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_RES_CONTENT_LENGTH_MISMATCH",
  "ERR_HTTP2_STREAM_ERROR",
  "ERR_HTTP2_GOAWAY_SESSION",
  "ERR_HTTP2_SESSION_ERROR",
]);

/** Codes that can only happen before the request was written (safe to replay any verb). */
export const connectPhaseCodes: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EADDRNOTAVAIL",
  "UND_ERR_CONNECT_TIMEOUT",
]);

export interface RetryDecision {
  readonly retry: boolean;
  /** Why (for the observer): `429`, `503`, `ECONNRESET`, … */
  readonly reason: string;
  /** The server's `Retry-After`, in ms, when it sent one. */
  readonly retryAfterMs?: number | undefined;
}

/** Should a failed attempt be retried (ignoring the attempt budget)? */
export function classifyFailure(err: unknown, idempotent: boolean): RetryDecision {
  if (err instanceof ApiError) {
    const reason = String(err.code);
    const retryAfterMs = err.retryAfterSeconds === undefined ? undefined : err.retryAfterSeconds * 1000;
    if (err.code === 429) return { retry: true, reason, retryAfterMs };
    if (idempotent && (err.code === 500 || err.code === 502 || err.code === 503 || err.code === 504)) {
      return { retry: true, reason, retryAfterMs };
    }
    return { retry: false, reason };
  }
  const ne = err as Partial<NetworkError> | null;
  const code = typeof ne?.code === "string" ? ne.code : "network";
  if (ne?.beforeRequestSent === true && transientCodes.has(code)) return { retry: true, reason: code };
  if (ne?.beforeRequestSent === true && connectPhaseCodes.has(code)) return { retry: true, reason: code };
  if (idempotent && transientCodes.has(code)) return { retry: true, reason: code };
  return { retry: false, reason: code };
}

/** The wait before retry number `retry`, honouring the server's `Retry-After` when present. */
export function retryDelay(
  options: RetryOptions,
  retry: number,
  decision: RetryDecision,
  random: () => number,
): number {
  if (decision.retryAfterMs !== undefined) {
    return Math.min(options.maxRetryAfterMs, Math.max(0, decision.retryAfterMs));
  }
  return backoffDelay(options, retry, random);
}
