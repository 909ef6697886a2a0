import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The page talks to the Thinkscope server on the same origin; in development
// Vite proxies the API, the OpenAI-compatible routes and the WebSocket to it.
const server = process.env.THINKSCOPE_DEV_SERVER ?? "http://127.0.0.1:8787";

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      "/api": { target: server, changeOrigin: true },
      "/v1": { target: server, changeOrigin: true },
      "/ws": { target: server, ws: true, changeOrigin: true },
    },
  },
  build: {
    outDir: "dist",
    // recharts and KaTeX are large; they are split into lazily loaded chunks
    // (see src/app.tsx), so the first paint only needs React, zustand and the run panel.
    chunkSizeWarningLimit: 700,
  },
});
