/** metav1.Status failure bodies, as the API server sends them. */

export interface StatusBody {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Failure";
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string; causes?: { message: string; field?: string }[] };
  code: number;
}

export class ApiError extends Error {
  constructor(readonly body: StatusBody) {
    super(body.message);
  }
}

function failure(code: number, reason: string, message: string, details?: StatusBody["details"]): ApiError {
  return new ApiError({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, details, code });
}

export const notFound = (group: string, resource: string, name: string) =>
  failure(404, "NotFound", `${resource}${group ? `.${group}` : ""} "${name}" not found`, { name, group, kind: resource });
export const alreadyExists = (group: string, resource: string, name: string) =>
  failure(409, "AlreadyExists", `${resource}${group ? `.${group}` : ""} "${name}" already exists`, { name, group, kind: resource });
export const invalid = (kind: string, name: string, causes: { message: string; field?: string }[]) =>
  failure(422, "Invalid", `${kind} "${name}" is invalid: ${causes.map((c) => `${c.field ?? ""}: ${c.message}`).join(", ")}`, { name, kind, causes });
export const badRequest = (message: string) => failure(400, "BadRequest", message);
export const forbidden = (verb: string, resource: string, ns: string) =>
  failure(403, "Forbidden", `${resource} is forbidden: cannot ${verb} resource "${resource}" in the namespace "${ns}"`);
export const gone = (message: string) => failure(410, "Expired", message);
export const internal = (message: string) => failure(500, "InternalError", message);
