// Every failure ends as ONE line on stderr and a non-zero exit code. This module turns the client's typed
// errors into lines a person can act on.
import {
  ApiError,
  isForbidden,
  isInvalid,
  isNetworkError,
  isNotFound,
  isUnauthorized,
  KubeConfigError,
} from "@minitask/client";
import { GROUP, VERSION } from "../contract.ts";
import { CliError } from "./exit.ts";

export { CliError, ExitCode } from "./exit.ts";

/** Where the CLI was talking to, for messages. */
export interface ErrorContext {
  readonly server?: string | undefined;
  readonly context?: string | undefined;
}

export const CRDS_HINT = "kubectl apply -f crds/";

/** True for the 404 of a resource type the server does not serve (no object name in the details). */
export function isMissingResourceType(err: unknown): boolean {
  return isNotFound(err) && err instanceof ApiError && err.details?.name === undefined;
}

function statusMessage(err: ApiError): string {
  return (err.status.message ?? err.message).replace(/\s+/g, " ").trim();
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, " ").trim();
}

/** The line printed for an error (without the `error: ` prefix). */
export function describeError(err: unknown, ctx: ErrorContext = {}): string {
  if (err instanceof CliError) return oneLine(err.message);
  if (err instanceof KubeConfigError) return `kubeconfig: ${oneLine(err.message)}`;
  if (isNetworkError(err)) {
    const where = ctx.server ?? "the cluster";
    const cause = err.cause instanceof Error ? err.cause.message : undefined;
    const why = err.code ?? cause ?? err.message;
    const which = ctx.context ? ` (context "${ctx.context}")` : "";
    return `cannot reach the cluster at ${where}${which}: ${oneLine(why)}; is it running, and are --kubeconfig/--context right?`;
  }
  if (err instanceof ApiError) {
    // The subclasses are structurally equal to ApiError: keep the wide type (type guards would narrow to never).
    const request = err.request;
    if (isUnauthorized(err)) {
      const which = ctx.context ? ` of context "${ctx.context}"` : "";
      return `the cluster rejected the credentials${which} (401 Unauthorized): log in again or check --kubeconfig/--context`;
    }
    if (isForbidden(err)) return `permission denied: ${statusMessage(err)}`;
    if (isMissingResourceType(err) && request?.url.includes(`/apis/${GROUP}/`) === true) {
      return `the Task and TaskRun resources (${GROUP}/${VERSION}) are not installed in this cluster; install the CRDs with: ${CRDS_HINT}`;
    }
    if (isInvalid(err)) return `invalid: ${statusMessage(err)}`;
    return statusMessage(err);
  }
  if (err instanceof Error) {
    if (err.name === "AbortError") return "interrupted";
    return oneLine(err.message);
  }
  return String(err);
}
