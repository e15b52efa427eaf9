// A scanner's show_view card names a view; this is where each one lives.
const PATHS: Record<string, string> = {
  inventory: "/",
  shopping: "/shopping",
  use_soon: "/use-soon",
  locations: "/locations",
  scanners: "/scanners",
  log: "/log",
  users: "/users",
  alerts: "/alerts",
};

export const VIEWS = Object.keys(PATHS);

export function pathForView(view: unknown): string | null {
  return typeof view === "string" && Object.hasOwn(PATHS, view) ? PATHS[view] : null;
}
