// Typed errors. An `ApiError` carries the apiserver's `Status` (or one synthesised from the HTTP status
// when the body was not a Status, e.g. a proxy's HTML page); the subclass is chosen by `reason` first and
// by HTTP code when the reason is empty or unknown — the same rule as client-go's `ReasonForError` helpers.
import type { Status, StatusCause, StatusDetails } from "./types.ts";

/** The `reason` values the apiserver uses (`metav1.StatusReason`). */
export const StatusReason = {
  Unknown: "",
  Unauthorized: "Unauthorized",
  Forbidden: "Forbidden",
  NotFound: "NotFound",
  AlreadyExists: "AlreadyExists",
  Conflict: "Conflict",
  Gone: "Gone",
  Invalid: "Invalid",
  ServerTimeout: "ServerTimeout",
  StoreReadError: "StorageReadError",
  Timeout: "Timeout",
  TooManyRequests: "TooManyRequests",
  BadRequest: "BadRequest",
  MethodNotAllowed: "MethodNotAllowed",
  NotAcceptable: "NotAcceptable",
  RequestEntityTooLarge: "RequestEntityTooLarge",
  UnsupportedMediaType: "UnsupportedMediaType",
  InternalError: "InternalError",
  Expired: "Expired",
  ServiceUnavailable: "ServiceUnavailable",
} as const;
/** One of the {@link StatusReason} values. */
export type StatusReason = (typeof StatusReason)[keyof typeof StatusReason];

/** Where the request went, for messages and metrics. */
export interface RequestDescription {
  readonly method: string;
  readonly url: string;
}

/** An error response from the API (non-2xx, or an in-stream watch `ERROR` event). */
export class ApiError extends Error {
  /** HTTP status code (or `Status.code` of an in-stream error). */
  readonly code: number;
  /** `Status.reason`, or one derived from `code` when the server gave none. */
  readonly reason: string;
  readonly details: StatusDetails | undefined;
  /** The full `Status` (synthesised when the body was not one). */
  readonly status: Status;
  /** Seconds the server asked us to wait (`Retry-After` header or `details.retryAfterSeconds`). */
  readonly retryAfterSeconds: number | undefined;
  readonly request: RequestDescription | undefined;
  /** True when this came from an `ERROR` event inside a watch stream rather than an HTTP status. */
  readonly fromWatchEvent: boolean;

  constructor(
    status: Status,
    init: {
      code?: number;
      retryAfterSeconds?: number | undefined;
      request?: RequestDescription | undefined;
      fromWatchEvent?: boolean;
    } = {},
  ) {
    const code = init.code ?? status.code ?? 500;
    const reason = status.reason || reasonForCode(code);
    const message = status.message || `${code} ${reason || "Unknown"}`;
    super(init.request ? `${message} (${init.request.method} ${init.request.url})` : message);
    this.name = new.target.name;
    this.code = code;
    this.reason = reason;
    this.details = status.details;
    this.status = status;
    this.retryAfterSeconds = init.retryAfterSeconds ?? status.details?.retryAfterSeconds;
    this.request = init.request;
    this.fromWatchEvent = init.fromWatchEvent ?? false;
  }

  /** `details.causes` (field errors of an Invalid response, …); empty when absent. */
  get causes(): readonly StatusCause[] {
    return this.details?.causes ?? [];
  }
}

/** 400 / reason `BadRequest`: the request was malformed. */
export class BadRequestError extends ApiError {}
/** 401 / reason `Unauthorized`: no valid credentials. */
export class UnauthorizedError extends ApiError {}
/** 403 / reason `Forbidden`: the credentials may not do this (RBAC, admission). */
export class ForbiddenError extends ApiError {}
/** 404 / reason `NotFound`: the object (or resource) does not exist. */
export class NotFoundError extends ApiError {}
/** 405 / reason `MethodNotAllowed`: the resource does not support this verb. */
export class MethodNotAllowedError extends ApiError {}
/** 406 / reason `NotAcceptable`: no representation matches the `Accept` header. */
export class NotAcceptableError extends ApiError {}
/** 409 with reason `AlreadyExists`: a create found an object of that name. */
export class AlreadyExistsError extends ApiError {}
/** 409 / reason `Conflict`: the write lost an optimistic-concurrency race (stale resourceVersion); read and retry. */
export class ConflictError extends ApiError {}
/** 410: reason `Gone` (too old resource version) or `Expired` (continue token / RV compacted). */
export class GoneError extends ApiError {}
/** 413 / reason `RequestEntityTooLarge`: the request body is too large. */
export class RequestEntityTooLargeError extends ApiError {}
/** 415 / reason `UnsupportedMediaType`: the content type (e.g. a patch type) is not accepted. */
export class UnsupportedMediaTypeError extends ApiError {}
/** 422: validation failed; see `causes` for the field errors. */
export class InvalidError extends ApiError {}
/** 429: `retryAfterSeconds` says how long to wait. */
export class TooManyRequestsError extends ApiError {}
/** Reason `ServerTimeout` (HTTP 500 with a retry hint): the server could not complete in time. */
export class ServerTimeoutError extends ApiError {}
/** Reason `Timeout` (HTTP 504): the request timed out (e.g. a `timeoutSeconds` list). */
export class TimeoutError extends ApiError {}
/** 500 / reason `InternalError`: the server failed. */
export class InternalError extends ApiError {}
/** 503 / reason `ServiceUnavailable`: the server (or an aggregated API) is not available now. */
export class ServiceUnavailableError extends ApiError {}

function reasonForCode(code: number): string {
  switch (code) {
    case 400:
      return StatusReason.BadRequest;
    case 401:
      return StatusReason.Unauthorized;
    case 403:
      return StatusReason.Forbidden;
    case 404:
      return StatusReason.NotFound;
    case 405:
      return StatusReason.MethodNotAllowed;
    case 406:
      return StatusReason.NotAcceptable;
    case 409:
      return StatusReason.Conflict;
    case 410:
      return StatusReason.Gone;
    case 413:
      return StatusReason.RequestEntityTooLarge;
    case 415:
      return StatusReason.UnsupportedMediaType;
    case 422:
      return StatusReason.Invalid;
    case 429:
      return StatusReason.TooManyRequests;
    case 500:
      return StatusReason.InternalError;
    case 503:
      return StatusReason.ServiceUnavailable;
    case 504:
      return StatusReason.Timeout;
    default:
      return StatusReason.Unknown;
  }
}

type ApiErrorClass = new (status: Status, init?: ConstructorParameters<typeof ApiError>[1]) => ApiError;

const classByReason: Readonly<Record<string, ApiErrorClass>> = {
  [StatusReason.BadRequest]: BadRequestError,
  [StatusReason.Unauthorized]: UnauthorizedError,
  [StatusReason.Forbidden]: ForbiddenError,
  [StatusReason.NotFound]: NotFoundError,
  [StatusReason.MethodNotAllowed]: MethodNotAllowedError,
  [StatusReason.NotAcceptable]: NotAcceptableError,
  [StatusReason.AlreadyExists]: AlreadyExistsError,
  [StatusReason.Conflict]: ConflictError,
  [StatusReason.Gone]: GoneError,
  [StatusReason.Expired]: GoneError,
  ResourceExpired: GoneError,
  [StatusReason.RequestEntityTooLarge]: RequestEntityTooLargeError,
  [StatusReason.UnsupportedMediaType]: UnsupportedMediaTypeError,
  [StatusReason.Invalid]: InvalidError,
  [StatusReason.TooManyRequests]: TooManyRequestsError,
  [StatusReason.ServerTimeout]: ServerTimeoutError,
  [StatusReason.Timeout]: TimeoutError,
  [StatusReason.InternalError]: InternalError,
  [StatusReason.ServiceUnavailable]: ServiceUnavailableError,
};

const classByCode: Readonly<Record<number, ApiErrorClass>> = {
  400: BadRequestError,
  401: UnauthorizedError,
  403: ForbiddenError,
  404: NotFoundError,
  405: MethodNotAllowedError,
  406: NotAcceptableError,
  409: ConflictError,
  410: GoneError,
  413: RequestEntityTooLargeError,
  415: UnsupportedMediaTypeError,
  422: InvalidError,
  429: TooManyRequestsError,
  500: InternalError,
  503: ServiceUnavailableError,
  504: TimeoutError,
};

/**
 * Builds the typed error for a `Status`. `code` defaults to `status.code`; pass the HTTP status when the
 * error came from a response.
 */
export function apiErrorFromStatus(status: Status, init: ConstructorParameters<typeof ApiError>[1] = {}): ApiError {
  const code = init.code ?? status.code ?? 500;
  const byReason = status.reason ? classByReason[status.reason] : undefined;
  const Cls = byReason ?? classByCode[code] ?? ApiError;
  return new Cls(status, { ...init, code });
}

/**
 * Builds the typed error for an HTTP error response. `body` is the raw response text; a `Status` body is
 * used as is, anything else becomes the message of a synthesised `Status`.
 */
export function apiErrorFromResponse(
  statusCode: number,
  body: string,
  retryAfterHeader: string | undefined,
  request?: RequestDescription,
  now: number = Date.now(),
): ApiError {
  let status: Status | undefined;
  const trimmed = body.trim();
  if (trimmed.startsWith("{")) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (typeof parsed === "object" && parsed !== null && (parsed as Status).kind === "Status") {
        status = parsed as Status;
      }
    } catch {
      // not JSON: handled below
    }
  }
  if (status === undefined) {
    const reason = reasonForCode(statusCode);
    status = {
      kind: "Status",
      apiVersion: "v1",
      status: "Failure",
      code: statusCode,
      reason,
      message:
        trimmed.length > 0
          ? `the server responded with ${statusCode}: ${truncate(trimmed, 512)}`
          : `the server responded with ${statusCode} ${reason || "and no body"}`,
    };
  }
  return apiErrorFromStatus(status, {
    code: statusCode,
    retryAfterSeconds: parseRetryAfter(retryAfterHeader, now) ?? status.details?.retryAfterSeconds,
    request,
  });
}

/** Parses `Retry-After` (delta seconds or an HTTP date) into whole seconds ≥ 0. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number.parseInt(v, 10);
  const date = Date.parse(v);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}

/** A request that failed below HTTP: DNS, connect, TLS, reset, a timeout, a stream cut short. */
export class NetworkError extends Error {
  /** The underlying error code (`ECONNREFUSED`, `ECONNRESET`, `UND_ERR_SOCKET`, …) when known. */
  readonly code: string | undefined;
  readonly request: RequestDescription | undefined;
  /**
   * True when the failure happened while connecting (refused, DNS, connect timeout), so no byte of the
   * request reached the server and even a write may be retried.
   */
  readonly beforeRequestSent: boolean;

  constructor(
    message: string,
    init: { cause: unknown; code?: string | undefined; request?: RequestDescription; beforeRequestSent?: boolean },
  ) {
    super(init.request ? `${message} (${init.request.method} ${init.request.url})` : message, { cause: init.cause });
    this.name = new.target.name;
    this.code = init.code;
    this.request = init.request;
    this.beforeRequestSent = init.beforeRequestSent ?? false;
  }
}

/** A watch (or other stream) received no bytes for longer than its `idleTimeoutMs`. */
export class IdleTimeoutError extends NetworkError {}

/** What was wrong with a watch stream line. */
export type WatchDecodeErrorKind = "invalid-json" | "invalid-event" | "truncated" | "line-too-long";

/**
 * A watch stream carried something that is not a watch event: a non-JSON line, JSON that is not
 * `{type, object}`, an unknown event type, a last line cut off at the end of the stream, or a line longer
 * than the decoder allows. It ends the watch; the caller re-watches from its last resource version.
 */
export class WatchDecodeError extends Error {
  readonly kind: WatchDecodeErrorKind;
  /** The start of the offending line (at most 256 characters). */
  readonly excerpt: string;
  /** 1-based line number within the stream. */
  readonly line: number;

  constructor(kind: WatchDecodeErrorKind, message: string, init: { excerpt: string; line: number; cause?: unknown }) {
    super(`${message} (line ${init.line}: ${JSON.stringify(truncate(init.excerpt, 256))})`, { cause: init.cause });
    this.name = "WatchDecodeError";
    this.kind = kind;
    this.excerpt = truncate(init.excerpt, 256);
    this.line = init.line;
  }
}

// Helpers in the style of k8s.io/apimachinery/pkg/api/errors.

/** True when `err` is a {@link ApiError} (any error response from the API). */
export function isApiError(err: unknown): err is ApiError {
  return err instanceof ApiError;
}
/** True when `err` is a {@link NotFoundError} (404: the object does not exist). */
export function isNotFound(err: unknown): err is NotFoundError {
  return err instanceof NotFoundError;
}
/** True when `err` is a {@link AlreadyExistsError} (a create found an object of that name). */
export function isAlreadyExists(err: unknown): err is AlreadyExistsError {
  return err instanceof AlreadyExistsError;
}
/** True when `err` is a {@link ConflictError} (a stale write; read again and retry). */
export function isConflict(err: unknown): err is ConflictError {
  return err instanceof ConflictError;
}
/** Any 410 (`Gone` or `Expired`): the resource version or continue token is too old; relist. */
export function isGone(err: unknown): err is GoneError {
  return err instanceof GoneError;
}
/** Alias of {@link isGone}, named after client-go's `IsResourceExpired`. */
export const isResourceExpired: (err: unknown) => err is GoneError = isGone;
/** True when `err` is a {@link ForbiddenError} (403: not allowed). */
export function isForbidden(err: unknown): err is ForbiddenError {
  return err instanceof ForbiddenError;
}
/** True when `err` is a {@link UnauthorizedError} (401: no valid credentials). */
export function isUnauthorized(err: unknown): err is UnauthorizedError {
  return err instanceof UnauthorizedError;
}
/** True when `err` is a {@link InvalidError} (422: validation failed). */
export function isInvalid(err: unknown): err is InvalidError {
  return err instanceof InvalidError;
}
/** True when `err` is a {@link BadRequestError} (400). */
export function isBadRequest(err: unknown): err is BadRequestError {
  return err instanceof BadRequestError;
}
/** True when `err` is a {@link TooManyRequestsError} (429: throttled). */
export function isTooManyRequests(err: unknown): err is TooManyRequestsError {
  return err instanceof TooManyRequestsError;
}
/** True when `err` is a {@link ServerTimeoutError} (reason `ServerTimeout`). */
export function isServerTimeout(err: unknown): err is ServerTimeoutError {
  return err instanceof ServerTimeoutError;
}
/** True when `err` is a {@link TimeoutError} (reason `Timeout` / 504). */
export function isTimeout(err: unknown): err is TimeoutError {
  return err instanceof TimeoutError;
}
/** True when `err` is a {@link InternalError} (500). */
export function isInternalError(err: unknown): err is InternalError {
  return err instanceof InternalError;
}
/** True when `err` is a {@link ServiceUnavailableError} (503). */
export function isServiceUnavailable(err: unknown): err is ServiceUnavailableError {
  return err instanceof ServiceUnavailableError;
}
/** True when `err` is a {@link MethodNotAllowedError} (405). */
export function isMethodNotAllowed(err: unknown): err is MethodNotAllowedError {
  return err instanceof MethodNotAllowedError;
}
/** True when `err` is a {@link UnsupportedMediaTypeError} (415). */
export function isUnsupportedMediaType(err: unknown): err is UnsupportedMediaTypeError {
  return err instanceof UnsupportedMediaTypeError;
}
/** True when `err` is a {@link NetworkError} (a failure below HTTP). */
export function isNetworkError(err: unknown): err is NetworkError {
  return err instanceof NetworkError;
}
/** True when `err` is a {@link WatchDecodeError} (a watch stream that could not be decoded). */
export function isWatchDecodeError(err: unknown): err is WatchDecodeError {
  return err instanceof WatchDecodeError;
}
