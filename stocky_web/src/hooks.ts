import { useState } from "react";
import { keepPreviousData, useQuery, type UseQueryOptions } from "@tanstack/react-query";
import { api, ApiError, NetworkError } from "./api/client";
import { t } from "./i18n";

/** GET `path` as query `key`; refetched when a change event makes it stale. */
export function useGet<T>(key: unknown[], path: string, options: Partial<UseQueryOptions<T>> = {}) {
  return useQuery<T>({ queryKey: key, queryFn: () => api<T>("GET", path), placeholderData: keepPreviousData, ...options });
}

/** What a person reads when an action fails: the server's own message for a
 * 409 or 422 (it names the conflict or the field), ours otherwise. */
export function errorText(error: unknown): string {
  if (error instanceof NetworkError) return t("networkError");
  if (error instanceof ApiError) {
    if (error.status === 403) return t("forbidden");
    return error.message || t("somethingWrong", { message: String(error.status) });
  }
  return t("somethingWrong", { message: String(error) });
}

/** Run an action and keep its error beside the control that started it. */
export function useAction() {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function run(action: () => Promise<unknown>): Promise<boolean> {
    setBusy(true);
    setError(null);
    try {
      await action();
      return true;
    } catch (caught) {
      if (!(caught instanceof ApiError && caught.status === 401)) setError(errorText(caught));
      return false;
    } finally {
      setBusy(false);
    }
  }
  return { error, busy, run, clear: () => setError(null) };
}
