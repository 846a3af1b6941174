import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The backend serves dist/ at / and the API at /graphql on the same origin; in dev, proxy to it.
export default defineConfig({
  plugins: [react()],
  base: "/",
  server: {
    proxy: { "/graphql": { target: "http://127.0.0.1:8000", ws: true } },
  },
  test: { environment: "node" },
} as import("vite").UserConfig);
