/**
 * metav1.Status bodies shaped as kube-apiserver writes them, and the error type routes throw to
 * answer with one.
 */

export interface StatusCause {
  reason: string;
  message: string;
  field: string;
}

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string; causes?: StatusCause[] };
  code: number;
}

/** The group/resource/kind triple the real server uses in its messages. */
export interface ResourceInfo {
  group: string;
  /** Plural, lower case: `leases`. */
  resource: string;
  kind: string;
  namespaced: boolean;
}

/** `leases.coordination.k8s.io`, or `nodes` for the core group: the real messages' spelling. */
export function qualifiedResource(info: ResourceInfo): string {
  return info.group === '' ? info.resource : `${info.resource}.${info.group}`;
}

export class ApiError extends Error {
  constructor(readonly status: StatusBody) {
    super(status.message);
  }
}

function failure(
  code: number,
  reason: string,
  message: string,
  details?: StatusBody['details'],
): ApiError {
  return new ApiError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details === undefined ? {} : { details }),
    code,
  });
}

function details(info: ResourceInfo, name: string): StatusBody['details'] {
  return { name, ...(info.group === '' ? {} : { group: info.group }), kind: info.resource };
}

export const unauthorized = (): ApiError => failure(401, 'Unauthorized', 'Unauthorized');

export const badRequest = (message: string): ApiError => failure(400, 'BadRequest', message);

export const notFound = (info: ResourceInfo, name: string): ApiError =>
  failure(404, 'NotFound', `${qualifiedResource(info)} "${name}" not found`, details(info, name));

/** What the real server answers for a path it has no handler for. */
export const noRoute = (): ApiError =>
  failure(404, 'NotFound', 'the server could not find the requested resource', {
    causes: [{ reason: 'UnexpectedServerResponse', message: '404 page not found', field: '' }],
  });

export const methodNotAllowed = (method: string): ApiError =>
  failure(
    405,
    'MethodNotAllowed',
    `the server does not allow this method on the requested resource`,
    {
      causes: [{ reason: 'UnexpectedServerResponse', message: method, field: '' }],
    },
  );

export const alreadyExists = (info: ResourceInfo, name: string): ApiError =>
  failure(
    409,
    'AlreadyExists',
    `${qualifiedResource(info)} "${name}" already exists`,
    details(info, name),
  );

export const conflict = (info: ResourceInfo, name: string): ApiError =>
  failure(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedResource(info)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    details(info, name),
  );

export const unsupportedMediaType = (accepted: readonly string[]): ApiError =>
  failure(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
  );

/** A field error as field.ErrorList renders it: `path: Invalid value: "x": detail`. */
export interface FieldError {
  type: 'FieldValueRequired' | 'FieldValueInvalid' | 'FieldValueTooLong' | 'FieldValueNotSupported';
  field: string;
  message: string;
}

export function required(field: string): FieldError {
  return { type: 'FieldValueRequired', field, message: 'Required value' };
}

export function invalid(field: string, value: unknown, detail: string): FieldError {
  return {
    type: 'FieldValueInvalid',
    field,
    message: `Invalid value: ${JSON.stringify(value)}: ${detail}`,
  };
}

export function tooLong(field: string, limit: number): FieldError {
  return {
    type: 'FieldValueTooLong',
    field,
    message: `Too long: must have at most ${limit} bytes`,
  };
}

/** 422 Invalid: `Kind "name" is invalid: [a, b]` (brackets only with several errors). */
export function invalidObject(info: ResourceInfo, name: string, errors: FieldError[]): ApiError {
  const rendered = errors.map((e) => `${e.field}: ${e.message}`);
  const list = rendered.length === 1 ? (rendered[0] ?? '') : `[${rendered.join(', ')}]`;
  return failure(422, 'Invalid', `${info.kind} "${name}" is invalid: ${list}`, {
    ...details(info, name),
    causes: errors.map((e) => ({ reason: e.type, message: e.message, field: e.field })),
  });
}

/** The Status a failNext(n, code) answers with; reasons as the real server names them. */
export function statusForCode(code: number): ApiError {
  const reasons: Record<number, [string, string]> = {
    409: ['Conflict', 'Operation cannot be fulfilled: injected conflict'],
    429: ['TooManyRequests', 'Too many requests, please try again later.'],
    500: ['InternalError', 'Internal error occurred: injected failure'],
    503: ['ServiceUnavailable', 'The server is currently unable to handle the request'],
    504: ['Timeout', 'Timeout: request did not complete within the allotted timeout'],
  };
  const [reason, message] = reasons[code] ?? ['Unknown', `injected status ${code}`];
  return failure(code, reason, message);
}
