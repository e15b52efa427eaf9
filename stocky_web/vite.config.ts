import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { Plugin } from "vite";
import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// Stocky serves the bundle from inside its Python package; the built files
// are committed, so the build must give the same bytes every time.
const OUT_DIR = "../stocky/web_dist";

// Precompressed copies of the text assets: Stocky sends `.gz` to browsers that
// accept gzip without compressing on every request. zlib writes no timestamp,
// so the copies are as reproducible as the files.
function precompress(): Plugin {
  return {
    name: "stocky-precompress",
    apply: "build",
    // After every other plugin has had its say, from the files as written.
    writeBundle(options, bundle) {
      for (const name of Object.keys(bundle)) {
        if (!/\.(js|css|svg|html|webmanifest)$/.test(name)) continue;
        const path = join(options.dir ?? OUT_DIR, name);
        writeFileSync(`${path}.gz`, gzipSync(readFileSync(path), { level: 9 }));
      }
    },
  };
}

export default defineConfig({
  plugins: [react(), precompress()],
  build: {
    outDir: OUT_DIR,
    emptyOutDir: true,
    target: "es2020",
    assetsInlineLimit: 0, // no data: URLs, so the CSP stays strict
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
  },
});
