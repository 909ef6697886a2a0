/** Parse one event's (or line's) JSON object; anything else becomes `malformed(...)`. */
export function parseJsonObject<T>(
  data: string,
  malformed: (detail: string, sample?: string) => Error,
): T {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    throw malformed("an event is not JSON", data.slice(0, 200));
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw malformed("an event is not a JSON object", data.slice(0, 200));
  }
  return value as T;
}
