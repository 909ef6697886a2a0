/** The parts of an Ajv/TypeBox validation error this module reads. */
export interface SchemaError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

/**
 * Validation errors as one readable line, one clause per wrong field (at most
 * three): a union's branch errors say more than "must match a schema in
 * anyOf", and a set of allowed constants is listed as such. `name` turns an
 * instance path (`/budget_forcing/num_waits`) into the name shown.
 */
export function describeSchemaErrors(
  errors: readonly SchemaError[],
  name: (instancePath: string) => string,
): string {
  const byPath = new Map<string, SchemaError[]>();
  for (const error of errors) {
    const list = byPath.get(error.instancePath) ?? [];
    list.push(error);
    byPath.set(error.instancePath, list);
  }
  const clauses = [...byPath].slice(0, 3).map(([path, list]) => {
    const branches = list.filter((e) => e.keyword !== "anyOf");
    const allowed = branches
      .filter((e) => e.keyword === "const")
      .map((e) => JSON.stringify(e.params.allowedValue));
    if (allowed.length > 0 && allowed.length === branches.length) {
      return `${name(path)} must be one of ${allowed.join(", ")}`;
    }
    const specific = branches.filter((e) => e.keyword !== "boolean");
    const messages = [...new Set((specific.length > 0 ? specific : list).map(describeOne))];
    return `${name(path)} ${messages.join(" or ")}`;
  });
  return clauses.join("; ");
}

function describeOne(error: SchemaError): string {
  if (error.keyword === "multipleOf" && error.params.multipleOf === 1) return "must be an integer";
  const extra = error.params.additionalProperties;
  const message = error.message ?? "is invalid";
  return Array.isArray(extra) ? `${message}: ${extra.join(", ")}` : message;
}

/** `/spec/budget_forcing/num_waits` as `spec.budget_forcing.num_waits`. */
export function dottedPath(instancePath: string, root: string): string {
  return instancePath === "" ? root : instancePath.slice(1).replaceAll("/", ".");
}
