import { useEffect, useRef, useState } from "react";
import { Link, useLocation } from "wouter";
import { signOut, signOutEverywhere } from "../api/client";
import type { Me } from "../api/types";
import { can } from "../can";
import { useAction } from "../hooks";
import { t } from "../i18n";
import { ConfirmButton } from "./Confirm";

/** The signed-in person's own controls: under their name on a computer,
 * listed at the end of the phone's menu. */
export function AccountMenu({ me }: { me: Me }) {
  const [open, setOpen] = useState(false);
  const [path] = useLocation();
  const everywhere = useAction();
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => setOpen(false), [path]);
  useEffect(() => {
    if (!open) return;
    const away = (event: Event) => box.current?.contains(event.target as Node) || setOpen(false);
    const escape = (event: KeyboardEvent) => event.key === "Escape" && setOpen(false);
    document.addEventListener("pointerdown", away);
    document.addEventListener("keydown", escape);
    return () => {
      document.removeEventListener("pointerdown", away);
      document.removeEventListener("keydown", escape);
    };
  }, [open]);
  const own = can(me, "account.own");
  return (
    <div ref={box} className={open ? "account open" : "account"}>
      <button type="button" className="account-toggle" aria-expanded={open} aria-controls="account-menu"
        aria-label={t("accountOf", { name: me.username })} onClick={() => setOpen(!open)}>
        {me.username}<span className="caret" aria-hidden="true">▾</span>
      </button>
      <div id="account-menu" className="account-menu">
        <p className="signed-in-as">{t("signedInAs", { name: me.username })}</p>
        {own && <Link href="/password" aria-current={path === "/password" ? "page" : undefined}>{t("changePassword")}</Link>}
        <button type="button" onClick={() => void signOut()}>{t("signOut")}</button>
        {own && (
          <ConfirmButton label={t("signOutEverywhere")} question={t("confirmSignOutEverywhere")}
            yes={t("yesSignOutEverywhere")} disabled={everywhere.busy}
            onConfirm={() => void everywhere.run(signOutEverywhere)} />
        )}
        {everywhere.error && <p className="error" role="alert">{everywhere.error}</p>}
      </div>
    </div>
  );
}
