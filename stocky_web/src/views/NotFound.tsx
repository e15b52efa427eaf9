import { Link } from "wouter";
import { t, type MessageKey } from "../i18n";

export function NotFound({ message = "notFoundTitle" }: { message?: MessageKey }) {
  return (
    <section className="not-found">
      <h1>{t(message)}</h1>
      <p><Link href="/" className="button">{t("backHome")}</Link></p>
    </section>
  );
}
