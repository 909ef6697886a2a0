import { defineConfig } from "vitest/config";

// One command runs every workspace's unit and integration tests; browser tests
// live in vitest.e2e.config.ts because they need Chromium and a built page.
export default defineConfig({
  test: {
    // Vitest's default is one worker per core less one: a single worker on a
    // two-core CI machine, idle while its tests wait on child processes and sockets.
    maxWorkers: 2,
    projects: [
      { test: { name: "protocol", root: "packages/protocol", include: ["test/**/*.test.ts"] } },
      { test: { name: "core", root: "packages/core", include: ["test/**/*.test.ts"] } },
      {
        test: {
          name: "backends",
          root: "packages/backends",
          include: ["test/**/*.test.ts"],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "server",
          root: "apps/server",
          include: ["test/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      "apps/web/vitest.config.{ts,mts}",
      // Checks of the repository as a whole: deployment files, docs, scripts.
      { test: { name: "repo", root: ".", include: ["test/**/*.test.ts"], testTimeout: 60_000 } },
    ],
  },
});
