export * from "./backend.ts";
export * from "./errors.ts";
export * from "./events.ts";
export * from "./formats.ts";
export * from "./settings.ts";
export * from "./delimiter-matcher.ts";
export * from "./engine.ts";
export * from "./run-transcript.ts";
