#!/usr/bin/env node
// The `thinkscope` command. The project runs its TypeScript through tsx (no
// separate build step), so the shim registers the loader, then hands over.
import { register } from "tsx/esm/api";

register();
await import("../src/cli/main.ts");
