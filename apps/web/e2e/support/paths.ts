import { fileURLToPath } from "node:url";

/** The repository root (this file is apps/web/e2e/support/paths.ts). */
export const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
/** Where screenshots and server logs go; `/artifacts/` is gitignored. */
export const ARTIFACTS_DIR = fileURLToPath(new URL("../../../../artifacts/e2e/", import.meta.url));
