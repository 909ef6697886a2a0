/**
 * Last line of defence for what must not leave the server. Adapters should
 * never put the upstream API key in a message, but an upstream may echo it
 * back (a 401 body quoting the header), so every error message sent or
 * stored, and every log line, passes through a scrubber. The client-facing
 * one also hides addresses: an upstream's URL tells a student nothing they
 * need and tells an attacker where the inference server is; the log keeps
 * them for the operator.
 */
import { Transform } from "node:stream";
import { StringDecoder } from "node:string_decoder";

export interface Scrubber {
  (text: string): string;
  /**
   * How many characters at the end of `text` could be the start of a secret
   * that the next piece of a stream completes (0 almost always).
   */
  pendingLength(text: string): number;
}

export const REDACTED = "[redacted]";
export const HIDDEN_ADDRESS = "[upstream]";

export interface ScrubberOptions {
  /** Replace every `http(s)://` address with `[upstream]` (what clients see; not the log). */
  hideAddresses?: boolean;
}

const ADDRESS = /\bhttps?:\/\/[^\s"'<>`]+/gi;

export function createScrubber(
  secrets: ReadonlyArray<string | undefined>,
  options: ScrubberOptions = {},
): Scrubber {
  const forms = new Set<string>();
  for (const secret of secrets) {
    // Short values would redact ordinary words; a real key is long.
    if (!secret || secret.length < 6) continue;
    forms.add(secret);
    // As it appears inside a JSON string (log lines are JSON).
    forms.add(JSON.stringify(secret).slice(1, -1));
    forms.add(encodeURIComponent(secret));
  }
  const patterns = [...forms].sort((a, b) => b.length - a.length);
  const scrub = (text: string): string => {
    let out = text;
    for (const pattern of patterns) {
      if (out.includes(pattern)) out = out.split(pattern).join(REDACTED);
    }
    return options.hideAddresses ? out.replace(ADDRESS, HIDDEN_ADDRESS) : out;
  };
  const pendingLength = (text: string): number => {
    let longest = 0;
    for (const pattern of patterns) {
      for (let k = Math.min(pattern.length - 1, text.length); k > longest; k--) {
        if (text.endsWith(pattern.slice(0, k))) {
          longest = k;
          break;
        }
      }
    }
    return longest;
  };
  return Object.assign(scrub, { pendingLength });
}

/**
 * A byte stream scrubbed on its way through (an upstream's streamed answer
 * passed to a client). A secret split across two chunks is still found: the
 * few characters that could begin one wait for the next chunk; everything
 * else leaves at once, so a stream is never held back.
 */
export function scrubbingStream(scrub: Scrubber): Transform {
  const decoder = new StringDecoder("utf8");
  let pending = "";
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const text = scrub(pending + decoder.write(chunk));
      const hold = scrub.pendingLength(text);
      pending = text.slice(text.length - hold);
      done(null, text.slice(0, text.length - hold));
    },
    flush(done) {
      done(null, scrub(pending + decoder.end()));
    },
  });
}
