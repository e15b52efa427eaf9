import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

// Every sentence a person reads comes from the message catalog: a literal
// word between JSX tags, or in an attribute a screen reader speaks, would
// stay English in every translation.
function sources(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith(".tsx") && !path.endsWith(".test.tsx") ? [path] : [];
  });
}

describe("the views", () => {
  const files = sources(join(__dirname));
  it("are found", () => expect(files.length).toBeGreaterThan(10));
  it.each(files)("%s has no words outside the catalog", (file) => {
    const code = readFileSync(file, "utf8");
    const text = [...code.matchAll(/>([^<>{}]*[A-Za-z][^<>{}]*)<\//g)].map((m) => m[1].trim());
    const spoken = [...code.matchAll(/\b(aria-label|title|placeholder|alt)="([^"]*[A-Za-z][^"]*)"/g)].map((m) => m[2]);
    expect([...text, ...spoken]).toEqual([]);
  });
});
