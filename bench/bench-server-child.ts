/**
 * The Thinkscope server as the benchmarks run it: the real app (buildApp,
 * configured from the environment like `npm start`) in a process of its
 * own, so its CPU and memory are its own. Reports its address and, on
 * request, its memory (after a full GC when asked) and CPU time over the IPC channel.
 */
import type { AddressInfo } from "node:net";
import { buildApp } from "@thinkscope/server";

type Request = { type: "memory"; gc: boolean } | { type: "stop" };

const app = await buildApp();
await app.listen({ host: "127.0.0.1", port: 0 });
const { port } = app.server.address() as AddressInfo;
process.send!({ type: "ready", url: `http://127.0.0.1:${port}` });

process.on("message", (message: Request) => {
  if (message.type === "memory") {
    if (message.gc) (globalThis as { gc?: () => void }).gc?.();
    process.send!({ type: "memory", usage: process.memoryUsage(), cpu: process.cpuUsage() });
  } else if (message.type === "stop") {
    void app.close().then(() => process.exit(0));
  }
});
// The parent went away: do not linger.
process.on("disconnect", () => process.exit(0));
