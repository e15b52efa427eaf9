import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { can } from "./can";

describe("can", () => {
  it("answers from the actions Stocky listed for this account", () => {
    const member = { can: ["inventory.read", "inventory.change", "scan", "scanner.set_state", "account.own"] } as const;
    expect(can({ can: [...member.can] }, "inventory.change")).toBe(true);
    expect(can({ can: [...member.can] }, "user.manage")).toBe(false);
    expect(can({ can: ["inventory.read", "account.own"] }, "inventory.change")).toBe(false);
    expect(can({ can: [] }, "inventory.read")).toBe(false);
  });
});

// The roles are Stocky's to map to actions: a screen that compared role
// names would drift from the server's permission table.
function sources(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.tsx?$/.test(path) && !/\.test\.tsx?$/.test(path) ? [path] : [];
  });
}

// Where a role is data: its type, and the Users page's role picker.
const ROLES_AS_DATA = ["api/types.ts", "views/Users.tsx"];

describe("the screens", () => {
  it.each(sources(__dirname).map((path) => relative(__dirname, path)).filter((path) => !ROLES_AS_DATA.includes(path)))(
    "%s decides nothing from role names", (file) => {
      const code = readFileSync(join(__dirname, file), "utf8");
      expect(code.match(/"(Admin|Member|Read-only)"|\bme\.role\b/g)).toBeNull();
    });
  it("Users.tsx asks can() whether this account manages users", () => {
    expect(readFileSync(join(__dirname, "views/Users.tsx"), "utf8")).not.toMatch(/\bme\.role\b/);
  });
});
