/// <reference types="vitest/config" />
import { defineConfig } from "vite";

// Plain Vite: Preact's JSX through the automatic runtime, no framework plugin (nothing in
// the pages needs hot-reload glue or compat). The build is what `tale serve` serves at `/`
// and what terraform uploads to the web bucket: hashed assets under /assets, no inline script
// or style (the content security policy allows only 'self').
export default defineConfig({
  base: "/",
  oxc: {
    jsx: { runtime: "automatic", importSource: "preact" },
  },
  build: {
    outDir: "dist",
    target: "es2022",
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  test: {
    environment: "happy-dom",
    include: ["test/**/*.test.{ts,tsx}"],
  },
});
