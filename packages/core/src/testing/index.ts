export * from "./scripted-backend.ts";
