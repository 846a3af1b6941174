import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// The backend serves dist/ at / and the API at /graphql on the same origin; in dev, proxy to it.
// Routes are lazy chunks: the initial JavaScript (entry + its preloads) stays under the budget
// checked by scripts/bundle-budget.mjs after every build.
export default defineConfig({
  plugins: [react(), tailwindcss()],
  base: "/",
  resolve: { alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) } },
  server: {
    proxy: { "/graphql": { target: "http://127.0.0.1:8000", ws: true } },
  },
  build: { target: "es2022", sourcemap: false, chunkSizeWarningLimit: 400 },
  test: {
    environment: "node",
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test/setup.ts"],
    // Form dialogs driven by user-event type key by key; on a busy 2-core machine (CI) one took
    // 5.6 s, past Vitest's 5 s default, without anything being wrong.
    testTimeout: 20_000,
  },
} as import("vite").UserConfig);
