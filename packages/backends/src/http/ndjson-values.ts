/**
 * Newline-delimited JSON values from a stream of text chunks (Ollama's
 * streaming format). A line split across chunks is joined. A complete line
 * that is not JSON becomes `malformed(...)`; a truncated last line (the
 * connection dropped mid-line) is left for the caller, which then finds no
 * terminal value and reports a disconnection.
 */
export async function* readNdjsonValues(
  chunks: AsyncIterable<string>,
  malformed: (detail: string, sample?: string) => Error,
): AsyncGenerator<unknown> {
  let buffer = "";
  for await (const chunk of chunks) {
    buffer += chunk;
    let newline = buffer.indexOf("\n");
    while (newline >= 0) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (line !== "") yield parseLine(line, malformed);
      newline = buffer.indexOf("\n");
    }
  }
  const last = buffer.trim();
  if (last === "") return;
  try {
    yield JSON.parse(last) as unknown;
  } catch {
    // Truncated by a dropped connection: the caller reports it.
  }
}

function parseLine(line: string, malformed: (detail: string, sample?: string) => Error): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    throw malformed("a line is not JSON", line.slice(0, 200));
  }
}
