// Vite builds the window into ui/dist, which keyport-app embeds at compile time
// (src-tauri/build.rs refuses a missing or stale dist). No dev server is used at run time.
import { defineConfig } from "vitest/config";

export default defineConfig({
  root: ".",
  base: "./",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "safari15",
    // One small module and one stylesheet: nothing to split.
    modulePreload: false,
    reportCompressedSize: false,
  },
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
    // Dates are asserted in a known zone.
    env: { TZ: "UTC" },
  },
});
