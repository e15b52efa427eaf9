import { useState, type FormEvent } from "react";
import { changePassword } from "../api/client";
import { errorText } from "../hooks";
import { t } from "../i18n";

/** One's own new password. Stocky ends every other sign-in of the account
 * and answers a fresh token for this one, so this page carries on. */
export function Password() {
  const [current, setCurrent] = useState("");
  const [fresh, setFresh] = useState("");
  const [repeat, setRepeat] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setDone(false);
    if (fresh !== repeat) return setError(t("passwordsDiffer"));
    setBusy(true);
    setError(null);
    try {
      await changePassword(current, fresh);
      setCurrent("");
      setFresh("");
      setRepeat("");
      setDone(true);
    } catch (caught) {
      setError(errorText(caught)); // Stocky's own sentence: a wrong password, a rule broken
    } finally {
      setBusy(false);
    }
  }

  return (
    <section>
      <h1>{t("changePassword")}</h1>
      <form className="edit" onSubmit={submit}>
        <label>{t("currentPassword")}
          <input type="password" autoComplete="current-password" required value={current}
            onChange={(e) => setCurrent(e.target.value)} />
        </label>
        <label>{t("newPassword")}
          <input type="password" autoComplete="new-password" required value={fresh} onChange={(e) => setFresh(e.target.value)} />
        </label>
        <label>{t("repeatPassword")}
          <input type="password" autoComplete="new-password" required value={repeat} onChange={(e) => setRepeat(e.target.value)} />
        </label>
        {error && <p className="error" role="alert">{error}</p>}
        {done && <p className="notice" role="status">{t("passwordChanged")}</p>}
        <button type="submit" className="primary" disabled={busy}>{t("changePassword")}</button>
      </form>
    </section>
  );
}
