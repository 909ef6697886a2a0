/**
 * Last line of defence for the upstream API key: adapters should never put it
 * in a message, but an upstream may echo it back (a 401 body quoting the
 * header), so every error message sent or stored, and every log line, passes
 * through here.
 */
export type Scrubber = (text: string) => string;

export const REDACTED = "[redacted]";

export function createScrubber(secrets: ReadonlyArray<string | undefined>): Scrubber {
  const forms = new Set<string>();
  for (const secret of secrets) {
    // Short values would redact ordinary words; a real key is long.
    if (!secret || secret.length < 6) continue;
    forms.add(secret);
    // As it appears inside a JSON string (log lines are JSON).
    forms.add(JSON.stringify(secret).slice(1, -1));
    forms.add(encodeURIComponent(secret));
  }
  if (forms.size === 0) return (text) => text;
  const patterns = [...forms].sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const pattern of patterns) {
      if (out.includes(pattern)) out = out.split(pattern).join(REDACTED);
    }
    return out;
  };
}
