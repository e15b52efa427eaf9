import { useState, type FormEvent } from "react";
import { signIn } from "../api/client";
import { errorText } from "../hooks";
import { t, type MessageKey } from "../i18n";

export function SignIn({ message, onSignedIn }: { message?: MessageKey; onSignedIn: () => void }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(username, password);
      onSignedIn();
    } catch (caught) {
      setError(errorText(caught));
      setBusy(false);
    }
  }

  return (
    <main className="sign-in">
      <h1>{t("signInTitle")}</h1>
      {message && <p className="notice" role="status">{t(message)}</p>}
      <form onSubmit={submit}>
        <label>
          {t("username")}
          <input name="username" autoComplete="username" autoCapitalize="none" required
            value={username} onChange={(e) => setUsername(e.target.value)} />
        </label>
        <label>
          {t("password")}
          <input name="password" type="password" autoComplete="current-password" required
            value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        {error && <p className="error" role="alert">{error}</p>}
        <button type="submit" className="primary" disabled={busy}>{busy ? t("signingIn") : t("signIn")}</button>
      </form>
    </main>
  );
}
