/**
 * A plain SSE reader for the benchmarks: what any client of an
 * OpenAI-compatible stream does (split events, parse each `data:` JSON).
 * Enough for vLLM's and Thinkscope's streams, which send one `data:` line
 * per event; not a general EventSource implementation.
 */
export async function readSse(
  response: Response,
  onData: (data: Record<string, unknown>) => void,
): Promise<{ done: boolean }> {
  if (!response.body) throw new Error(`no body (status ${response.status})`);
  const decoder = new TextDecoder();
  let buffer = "";
  let done = false;
  for await (const part of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(part, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) !== -1) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (!event.startsWith("data: ")) continue;
      const data = event.slice(6);
      if (data === "[DONE]") done = true;
      else onData(JSON.parse(data) as Record<string, unknown>);
    }
  }
  return { done };
}
