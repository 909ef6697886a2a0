import { createParser, type EventSourceMessage } from "eventsource-parser";

/**
 * Server-sent events from a stream of text chunks, in batches: every event
 * completed by one chunk comes out together, so a reader that fell behind a
 * fast server can handle its backlog at once (and nothing is held back: a
 * reader that keeps up gets one event a batch). An event split across
 * chunks is joined; comments (keep-alive pings) are skipped. A line that is
 * not SSE at all becomes `malformed(...)`. llama.cpp's server reports some
 * errors on a non-standard `error:` field: that becomes an event named
 * `error` so the caller can report what the server said.
 */
export async function* readSseBatches(
  chunks: AsyncIterable<string>,
  malformed: (detail: string, sample?: string) => Error,
): AsyncGenerator<EventSourceMessage[]> {
  let ready: EventSourceMessage[] = [];
  let failure: Error | undefined;
  const parser = createParser({
    onEvent: (event) => ready.push(event),
    onError: (error) => {
      if (error.type === "unknown-field" && error.field === "error") {
        ready.push({ event: "error", data: error.value ?? "" });
        return;
      }
      failure ??= malformed("the stream is not server-sent events", error.line ?? error.message);
    },
  });
  for await (const chunk of chunks) {
    parser.feed(chunk);
    if (failure) throw failure;
    if (ready.length === 0) continue;
    const batch = ready;
    ready = [];
    yield batch;
  }
}

/** The same events one at a time, for readers that handle each on its own. */
export async function* readSseEvents(
  chunks: AsyncIterable<string>,
  malformed: (detail: string, sample?: string) => Error,
): AsyncGenerator<EventSourceMessage> {
  for await (const batch of readSseBatches(chunks, malformed)) yield* batch;
}
