import type { StorageType } from "../api/types";
import { t, type MessageKey } from "../i18n";

const STORAGE: [string, MessageKey][] = [
  ["", "storageNone"], ["Ambient", "storageAmbient"], ["Refrigerated", "storageRefrigerated"], ["Frozen", "storageFrozen"],
];

/** A storage type as a person reads it, in the page's language. */
export function storageName(storage: StorageType): string {
  return t(STORAGE.find(([value]) => value === (storage ?? ""))?.[1] ?? "storageNone");
}

export function StorageSelect({ value, onChange }: { value: string; onChange: (value: string) => void }) {
  return (
    <label>{t("storageType")}
      <select value={value} onChange={(e) => onChange(e.target.value)}>
        {STORAGE.map(([option, label]) => <option key={option} value={option}>{t(label)}</option>)}
      </select>
    </label>
  );
}
