// @minitask/client — one HTTP transport (undici) for the Kubernetes API: kubeconfig and credentials,
// typed REST verbs, watch decoding, typed errors, retries, rate limiting and metrics hooks.
// biome-ignore-all assist/source/organizeImports: the exports are grouped by topic, several statements per module

// The client, its resource verbs and their options.
export { KubeClient, type KubeClientOptions, ResourceClient, type WatchStream, type Writable } from "./client.ts";
export type { CallOptions, GetOptions, ListOptions, WatchOptions, WriteOptions, PatchOptions } from "./client.ts";
export type { ApplyOptions, DeleteOptions, DeleteCollectionOptions, PropagationPolicy } from "./client.ts";
export type { PatchType, JsonPatchOperation, DeepPartialObject, PodLogOptions } from "./client.ts";
export type { Selector, SelectorOptions, ResourceVersionMatch } from "./client.ts";
export type { VersionInfo, ApiGroup, ApiGroupList, ApiResource, ApiResourceList } from "./client.ts";

// Objects, lists, resources and Status.
export type { KubeObject, ObjectMeta, OwnerReference, ManagedFieldsEntry, KubeList, ListMeta } from "./types.ts";
export type { DeepReadonly, GroupVersionResource, ResourceDescriptor, Status, StatusCause } from "./types.ts";
export { builtinResources, apiVersionOf, isStatus, type StatusDetails } from "./types.ts";

// Configuration (kubeconfig, in-cluster) and credentials.
export { loadKubeConfig, type LoadKubeConfigOptions, type LoadedKubeConfig, KubeConfigError } from "./config.ts";
export { resolveKubeConfig, type ResolvedKubeConfig, type KubeConfigSource, selectKubeConfig } from "./config.ts";
export { kubeConfigCredentials, type KubeConfigCredentialsOptions, type KubeConfig } from "./config.ts";
export type { ConfigSelection } from "./kubeconfig-static.ts";
export { staticCredentials, type CredentialProvider, type Credentials, type TlsMaterial } from "./credentials.ts";

// Watch events.
export { decodeWatchStream, parseWatchEvent, INITIAL_EVENTS_END_ANNOTATION } from "./decoder.ts";
export type { WatchEvent, ObjectWatchEvent, WatchEventType, BookmarkObject } from "./decoder.ts";

// Errors: ApiError (one subclass per Status reason, each with a guard), network and watch-decoding errors.
export { ApiError, isApiError, apiErrorFromStatus, StatusReason, type RequestDescription } from "./errors.ts";
export { BadRequestError, UnauthorizedError, ForbiddenError, NotFoundError, MethodNotAllowedError } from "./errors.ts";
export { NotAcceptableError, AlreadyExistsError, ConflictError, GoneError, InvalidError } from "./errors.ts";
export { RequestEntityTooLargeError, UnsupportedMediaTypeError, TooManyRequestsError } from "./errors.ts";
export { ServerTimeoutError, TimeoutError, InternalError, ServiceUnavailableError } from "./errors.ts";
export { isBadRequest, isUnauthorized, isForbidden, isNotFound, isMethodNotAllowed } from "./errors.ts";
export { isAlreadyExists, isConflict, isGone, isInvalid, isUnsupportedMediaType, isTooManyRequests } from "./errors.ts";
export { isServerTimeout, isTimeout, isInternalError, isServiceUnavailable } from "./errors.ts";
export { NetworkError, IdleTimeoutError, isNetworkError } from "./errors.ts";
export { WatchDecodeError, type WatchDecodeErrorKind, isWatchDecodeError } from "./errors.ts";

// The transport underneath, retries, rate limiting and metrics hooks.
export { Transport, type TransportOptions, type AgentOptions, type HttpRequest } from "./transport.ts";
export type { RequestObserver, RequestMetric, RetryEvent } from "./transport.ts";
export type { RetryOptions, RetrySetting } from "./retry.ts";
export { TokenBucket, type TokenBucketOptions, type RateLimiter } from "./ratelimit.ts";
export { VERSION } from "./version.ts";
