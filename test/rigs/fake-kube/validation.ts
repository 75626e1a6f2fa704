/**
 * The checks kube-apiserver makes on what this agent sends, in the order it makes them: decoding
 * (400 BadRequest) before validation (422 Invalid). Messages follow apimachinery's wording so a
 * test failure reads like the production log line would.
 */
import {
  type ApiError,
  badRequest,
  type FieldError,
  invalid,
  invalidObject,
  required,
  type ResourceInfo,
  tooLong,
} from './status.js';

export type KubeObject = Record<string, unknown> & { metadata?: Record<string, unknown> };

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Go's encoding/json names a JSON value's kind this way in "cannot unmarshal X into ..." */
export function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'object' : typeof value;
}

export function cannotBeHandled(info: ResourceInfo, detail: string): ApiError {
  return badRequest(`${info.kind} in version "v1" cannot be handled as a ${info.kind}: ${detail}`);
}

// metav1.MicroTime unmarshals with time.Parse(RFC3339Micro), whose fixed ".000000" element
// accepts exactly six fractional digits: Date#toISOString's three are refused.
const RFC3339_MICRO = '2006-01-02T15:04:05.000000Z07:00';
const MICRO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$/;

/** Decoding a MicroTime field; null/absent is an unset time and fine. */
export function checkMicroTime(info: ResourceInfo, value: unknown): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'string') {
    throw cannotBeHandled(
      info,
      `json: cannot unmarshal ${jsonKind(value)} into Go value of type string`,
    );
  }
  if (!MICRO_TIME.test(value)) {
    throw cannotBeHandled(
      info,
      `parsing time "${value}" as "${RFC3339_MICRO}": cannot parse "${value.slice(19)}" as ".000000"`,
    );
  }
}

/** labels and annotations decode into map[string]string: a number or bool is a decode error. */
export function checkStringMaps(info: ResourceInfo, obj: KubeObject): void {
  for (const field of ['labels', 'annotations'] as const) {
    const map = obj.metadata?.[field];
    if (map === undefined || map === null) continue;
    if (!isPlainObject(map)) {
      throw cannotBeHandled(
        info,
        `json: cannot unmarshal ${jsonKind(map)} into Go struct field ObjectMeta.metadata.${field} of type map[string]string`,
      );
    }
    for (const value of Object.values(map)) {
      if (typeof value !== 'string') {
        throw cannotBeHandled(
          info,
          `json: cannot unmarshal ${jsonKind(value)} into Go struct field ObjectMeta.metadata.${field} of type string`,
        );
      }
    }
  }
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const QUALIFIED_NAME_MSG =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
/** apimachinery's TotalAnnotationSizeLimitB: keys plus values, all annotations together. */
const ANNOTATIONS_MAX_BYTES = 256 * 1024;

function dns1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 253) errs.push('must be no more than 253 characters');
  if (!DNS1123_SUBDOMAIN.test(value)) errs.push(DNS1123_SUBDOMAIN_MSG);
  return errs;
}

/** validation.IsQualifiedName: `[prefix/]name`, the grammar of label and annotation keys. */
export function qualifiedName(value: string): string[] {
  const parts = value.split('/');
  const name = parts.length === 2 ? (parts[1] ?? '') : (parts[0] ?? '');
  if (parts.length > 2) {
    return [
      `a qualified name ${QUALIFIED_NAME_MSG.replace('name part ', '')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  const errs: string[] = [];
  if (parts.length === 2) {
    const prefix = parts[0] ?? '';
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else errs.push(...dns1123Subdomain(prefix).map((m) => `prefix part ${m}`));
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push('name part must be no more than 63 characters');
  if (name.length > 0 && !QUALIFIED_NAME.test(name)) errs.push(QUALIFIED_NAME_MSG);
  return errs;
}

function labelValue(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push('must be no more than 63 characters');
  if (!LABEL_VALUE.test(value)) errs.push(LABEL_VALUE_MSG);
  return errs;
}

/** ValidateObjectMeta's share that applies here: name, label keys/values, annotation keys/size. */
export function objectMetaErrors(obj: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  const meta = obj.metadata ?? {};
  const name = meta.name;
  if (typeof name !== 'string' || name === '') {
    errors.push({
      ...required('metadata.name'),
      message: 'Required value: name or generateName is required',
    });
  } else {
    errors.push(...dns1123Subdomain(name).map((m) => invalid('metadata.name', name, m)));
  }
  const labels = (meta.labels ?? {}) as Record<string, string>;
  for (const [key, value] of Object.entries(labels)) {
    errors.push(...qualifiedName(key).map((m) => invalid('metadata.labels', key, m)));
    errors.push(...labelValue(value).map((m) => invalid('metadata.labels', value, m)));
  }
  const annotations = (meta.annotations ?? {}) as Record<string, string>;
  let size = 0;
  for (const [key, value] of Object.entries(annotations)) {
    errors.push(
      ...qualifiedName(key.toLowerCase()).map((m) => invalid('metadata.annotations', key, m)),
    );
    size += Buffer.byteLength(key) + Buffer.byteLength(value);
  }
  if (size > ANNOTATIONS_MAX_BYTES)
    errors.push(tooLong('metadata.annotations', ANNOTATIONS_MAX_BYTES));
  return errors;
}

/** A request body's apiVersion/kind may be omitted (the URL says), but may not contradict it. */
export function checkTypeMeta(info: ResourceInfo, obj: KubeObject): void {
  const apiVersion = info.group === '' ? 'v1' : `${info.group}/v1`;
  const kind = obj.kind ?? info.kind;
  const version = obj.apiVersion ?? apiVersion;
  if (kind !== info.kind || version !== apiVersion) {
    throw cannotBeHandled(
      info,
      `no kind "${String(kind)}" is registered for version "${String(version)}"`,
    );
  }
}

function throwIfAny(info: ResourceInfo, obj: KubeObject, errors: FieldError[]): void {
  if (errors.length > 0) throw invalidObject(info, String(obj.metadata?.name ?? ''), errors);
}

/** Decode + validate a Lease (coordination.k8s.io/v1) as create and update do. */
export function validateLease(info: ResourceInfo, lease: KubeObject): void {
  const spec = isPlainObject(lease.spec) ? lease.spec : {};
  checkMicroTime(info, spec.acquireTime);
  checkMicroTime(info, spec.renewTime);
  checkStringMaps(info, lease);
  const errors = objectMetaErrors(lease);
  const duration = spec.leaseDurationSeconds;
  if (typeof duration === 'number' && duration <= 0) {
    errors.push(invalid('spec.leaseDurationSeconds', duration, 'must be greater than 0'));
  }
  const transitions = spec.leaseTransitions;
  if (typeof transitions === 'number' && transitions < 0) {
    errors.push(
      invalid('spec.leaseTransitions', transitions, 'must be greater than or equal to 0'),
    );
  }
  throwIfAny(info, lease, errors);
}

/** A Node after a patch: only metadata rules matter to this agent. */
export function validateNode(info: ResourceInfo, node: KubeObject): void {
  checkStringMaps(info, node);
  throwIfAny(info, node, objectMetaErrors(node));
}

// metav1.Time unmarshals with time.Parse(RFC3339): whole seconds or any fraction.
const RFC3339 = '2006-01-02T15:04:05Z07:00';
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const CONDITION_STRINGS = ['type', 'status', 'reason', 'message'] as const;
const CONDITION_TIMES = ['lastHeartbeatTime', 'lastTransitionTime'] as const;

/**
 * A Node's status as it decodes: every condition a NodeCondition (string fields, metav1.Time
 * times; a wrong type or time is a 400 decode error). The API server validates no more of a
 * Node's conditions than that.
 */
export function validateNodeStatus(info: ResourceInfo, node: KubeObject): void {
  validateNode(info, node);
  const status = node['status'];
  if (!isPlainObject(status) || status['conditions'] === undefined) return;
  const conditions = status['conditions'];
  if (!Array.isArray(conditions)) {
    throw cannotBeHandled(
      info,
      `json: cannot unmarshal ${jsonKind(conditions)} into Go struct field NodeStatus.status.conditions of type []v1.NodeCondition`,
    );
  }
  for (const condition of conditions) {
    if (!isPlainObject(condition)) {
      throw cannotBeHandled(
        info,
        `json: cannot unmarshal ${jsonKind(condition)} into Go value of type v1.NodeCondition`,
      );
    }
    for (const field of CONDITION_STRINGS) {
      const value = condition[field];
      if (value !== undefined && typeof value !== 'string') {
        throw cannotBeHandled(
          info,
          `json: cannot unmarshal ${jsonKind(value)} into Go struct field NodeCondition.status.conditions.${field} of type string`,
        );
      }
    }
    for (const field of CONDITION_TIMES) {
      const value = condition[field];
      if (value === undefined || value === null) continue;
      if (typeof value !== 'string' || !TIME.test(value)) {
        throw cannotBeHandled(
          info,
          `parsing time ${JSON.stringify(String(value))} as "${RFC3339}": cannot parse`,
        );
      }
    }
  }
}

const EVENT_FIELD_LIMIT = 128;
const NOTE_LIMIT = 1024;

/**
 * ValidateEventCreate for events.k8s.io/v1 (legacy checks plus the strict ones). Field paths are
 * those of the internal core Event the server converts to: regarding is `involvedObject`, note
 * is `message`. `regarding` itself is not required by the real server.
 */
export function validateEvent(info: ResourceInfo, event: KubeObject, namespace: string): void {
  const series = isPlainObject(event.series) ? event.series : undefined;
  checkMicroTime(info, event.eventTime);
  checkMicroTime(info, series?.lastObservedTime);
  checkStringMaps(info, event);
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  const regarding = isPlainObject(event.regarding) ? event.regarding : {};
  const regardingNs = str(regarding.namespace);
  const errors: FieldError[] = [];
  const hasTime = str(event.eventTime) !== '';
  if (!hasTime) {
    if (regardingNs === '' ? namespace !== 'default' : namespace !== regardingNs) {
      errors.push(
        invalid('involvedObject.namespace', regardingNs, 'does not match event.namespace'),
      );
    }
  } else {
    // A cluster-scoped object (a Node) has no namespace: its new-style Events must live in
    // `default` or `kube-system`, whatever namespace the reporter runs in.
    if (regardingNs === '' && namespace !== 'default' && namespace !== 'kube-system') {
      errors.push(
        invalid('involvedObject.namespace', regardingNs, 'does not match event.namespace'),
      );
    }
    const controller = str(event.reportingController);
    if (controller === '') errors.push(required('reportingController'));
    errors.push(
      ...qualifiedName(controller).map((m) => invalid('reportingController', controller, m)),
    );
    for (const field of ['reportingInstance', 'action', 'reason'] as const) {
      const value = str(event[field]);
      if (value === '') errors.push(required(field));
      if (value.length > EVENT_FIELD_LIMIT) {
        errors.push(invalid(field, '', `can have at most ${EVENT_FIELD_LIMIT} characters`));
      }
    }
    if (str(event.note).length > NOTE_LIMIT) {
      errors.push(invalid('message', '', `can have at most ${NOTE_LIMIT} characters`));
    }
  }
  errors.push(...objectMetaErrors(event));
  if (series !== undefined) {
    if (typeof series.count !== 'number' || series.count < 2) {
      errors.push(invalid('series.count', '', 'should be at least 2'));
    }
    if (str(series.lastObservedTime) === '') errors.push(required('series.lastObservedTime'));
  }
  if (!hasTime) errors.push(required('eventTime'));
  if (event.type !== 'Normal' && event.type !== 'Warning') {
    errors.push(invalid('type', '', `has invalid value: ${str(event.type)}`));
  }
  for (const field of ['deprecatedFirstTimestamp', 'deprecatedLastTimestamp', 'deprecatedSource']) {
    if (event[field] !== undefined && event[field] !== null) {
      errors.push(invalid(field, '', 'needs to be unset'));
    }
  }
  if (typeof event.deprecatedCount === 'number' && event.deprecatedCount !== 0) {
    errors.push(invalid('deprecatedCount', '', 'needs to be unset'));
  }
  throwIfAny(info, event, errors);
}
