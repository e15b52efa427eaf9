import { useState } from "react";
import { keepPreviousData, useQuery, type UseQueryOptions } from "@tanstack/react-query";
import { api, ApiError, NetworkError } from "./api/client";
import { t } from "./i18n";

/** GET `path` as query `key`; refetched when a change event makes it stale. */
export function useGet<T>(key: unknown[], path: string, options: Partial<UseQueryOptions<T>> = {}) {
  return useQuery<T>({ queryKey: key, queryFn: () => api<T>("GET", path), placeholderData: keepPreviousData, ...options });
}

/** A form's labels by the field names the API gives them. */
export type Labels = Record<string, string>;

// Stocky's sentence for input its schema refuses, before the fields it lists:
// they read better under the labels the person typed into.
const GENERIC_INVALID = "Invalid input (";

/** What a person reads when an action fails: the server's own sentence for a
 * 409 or 422 (it names the conflict), each refused field under its label in
 * the form (`labels`) rather than its name in the API, ours otherwise. */
export function errorText(error: unknown, labels: Labels = {}): string {
  if (error instanceof NetworkError) return t("networkError");
  if (error instanceof ApiError) {
    if (error.status === 403) return t("forbidden");
    const fields = error.fields.filter((f) => Object.hasOwn(labels, f.field));
    if (error.message.startsWith(GENERIC_INVALID) && fields.length && fields.length === error.fields.length) {
      return fields.map((f) => t("fieldRefused", { label: labels[f.field], message: f.message.replace(/\.$/, "") })).join(" ");
    }
    return error.message || t("somethingWrong", { message: String(error.status) });
  }
  return t("somethingWrong", { message: String(error) });
}

/** Run an action and keep its error beside the control that started it. */
export function useAction(labels: Labels = {}) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function run(action: () => Promise<unknown>): Promise<boolean> {
    setBusy(true);
    setError(null);
    try {
      await action();
      return true;
    } catch (caught) {
      if (!(caught instanceof ApiError && caught.status === 401)) setError(errorText(caught, labels));
      return false;
    } finally {
      setBusy(false);
    }
  }
  return { error, busy, run, clear: () => setError(null) };
}
