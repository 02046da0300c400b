// Shared model types of generated code: the standard condition and embedded objects.
// (Copied verbatim into the root of every codegen output folder.)
import type { ObjectMeta } from "@minitask/client";

/** Status of a {@link Condition}. */
export type ConditionStatus = "True" | "False" | "Unknown";

/**
 * The standard Kubernetes condition (`metav1.Condition`). Every schema of exactly this shape (in a
 * `conditions` list) is generated as this type.
 */
export interface Condition {
  /** Type of the condition, in CamelCase or `foo.example.com/CamelCase`. */
  type: string;
  /** Whether the condition holds: `True`, `False` or `Unknown`. */
  status: ConditionStatus;
  /** The `metadata.generation` the condition was set for. */
  observedGeneration?: number;
  /** When the condition last changed status; an RFC 3339 date-time string. */
  lastTransitionTime: string;
  /** A programmatic CamelCase reason for the last transition. */
  reason: string;
  /** A human-readable message about the transition; may be empty. */
  message: string;
}

/** A Kubernetes object embedded in another (`x-kubernetes-embedded-resource`). */
export interface EmbeddedObject {
  apiVersion: string;
  kind: string;
  metadata?: ObjectMeta;
}

/** An embedded Kubernetes object whose other fields are kept as they are (`x-kubernetes-preserve-unknown-fields`). */
export interface EmbeddedResource extends EmbeddedObject {
  [key: string]: unknown;
}
