import { useState } from "react";
import { t } from "../i18n";

/** A destructive button that asks first, in place (no pop-up to miss). */
export function ConfirmButton({ label, name, question, onConfirm, disabled, yes }: {
  label: string;
  /** What a screen reader says, when the label alone is ambiguous in a list. */
  name?: string;
  question: string;
  onConfirm: () => void;
  disabled?: boolean;
  /** The answer that goes ahead ("Yes, delete" unless said). */
  yes?: string;
}) {
  const [asking, setAsking] = useState(false);
  if (!asking) return <button type="button" className="danger" disabled={disabled} aria-label={name} onClick={() => setAsking(true)}>{label}</button>;
  return (
    <span className="confirm" role="group" aria-label={question}>
      <span>{question}</span>
      <button type="button" className="danger" onClick={() => { setAsking(false); onConfirm(); }}>{yes ?? t("confirm")}</button>
      {/* Focus moves to the safe answer, which also scrolls the question into view. */}
      <button type="button" autoFocus onClick={() => setAsking(false)}>{t("cancel")}</button>
    </span>
  );
}
