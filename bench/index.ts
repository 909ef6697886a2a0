/**
 * `npm run bench [-- NAME...]`: runs the benchmarks and prints their figures.
 * Targets are stated beside each figure; nothing here asserts, because speed
 * on a shared 2-core machine is a measurement, not a pass/fail test.
 */
const benchmarks: Record<string, () => Promise<{ run: () => Promise<void> }>> = {
  engine: () => import("./engine-throughput.ts"),
  embedded: () => import("../packages/backends/bench/embedded-bench.ts"),
  proxy: () => import("./proxy-overhead.ts"),
  classroom: () => import("./classroom-load.ts"),
  page: () => import("./page-streaming.ts"),
  hostile: () => import("./hostile-client.ts"),
  methods: () => import("./methods-comparison.ts"),
  fork: () => import("./fork-cost.ts"),
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !(name in benchmarks));
if (unknown.length > 0) {
  console.error(
    `Unknown benchmark(s): ${unknown.join(", ")}. Available: ${Object.keys(benchmarks).join(", ")}.`,
  );
  process.exit(2);
}
for (const name of wanted.length > 0 ? wanted : Object.keys(benchmarks)) {
  console.log(`\n== ${name} ==`);
  const { run } = await benchmarks[name]!();
  await run();
}
