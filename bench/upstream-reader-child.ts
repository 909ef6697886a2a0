/**
 * The least any Node proxy of a vLLM stream must spend: in a process of
 * its own, read one streamed `/v1/completions` body with Node's HTTP client
 * (bytes, decoded per read), split its server-sent events and `JSON.parse`
 * each one, and count the token ids. Nothing is kept, checked or sent on.
 * Asked over IPC with `{ url, body }`; answers with the tokens it counted
 * and its CPU time while reading.
 */
import { request } from "node:http";

interface Ask {
  url: string;
  body: string;
}

process.once("message", ({ url, body }: Ask) => {
  const cpuBefore = process.cpuUsage();
  let tokens = 0;
  let pending = "";
  const decoder = new TextDecoder();
  const ask = request(url, {
    method: "POST",
    headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
  });
  ask.on("response", (response) => {
    response.on("data", (bytes: Buffer) => {
      pending += decoder.decode(bytes, { stream: true });
      let end: number;
      let from = 0;
      while ((end = pending.indexOf("\n\n", from)) !== -1) {
        const data = pending.slice(from + "data: ".length, end);
        from = end + 2;
        if (data === "[DONE]") continue;
        const chunk = JSON.parse(data) as { choices?: { token_ids?: number[] }[] };
        tokens += chunk.choices?.[0]?.token_ids?.length ?? 0;
      }
      pending = pending.slice(from);
    });
    response.on("end", () => {
      const cpu = process.cpuUsage(cpuBefore);
      process.send!({ tokens, cpuMicros: cpu.user + cpu.system }, () => process.exit(0));
    });
  });
  ask.end(body);
});
