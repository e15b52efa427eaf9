import { useEffect, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { api, NetworkError, onSessionEnded, refresh } from "./api/client";
import type { Me } from "./api/types";
import { t, type MessageKey } from "./i18n";
import { HttpsNotice } from "./components/HttpsNotice";
import { forgetShopping } from "./offline";
import { outbox } from "./outbox";
import { Shell } from "./Shell";
import { SignIn } from "./views/SignIn";
import { OfflineShopping } from "./views/Shopping";

type Auth =
  | { state: "checking" }
  | { state: "out"; message?: MessageKey }
  | { state: "in"; me: Me }
  | { state: "offline" };

export function App() {
  const [auth, setAuth] = useState<Auth>({ state: "checking" });
  const queries = useQueryClient();

  async function resume(): Promise<void> {
    try {
      if (!(await refresh())) return setAuth({ state: "out" });
      setAuth({ state: "in", me: await api<Me>("GET", "/user/me") });
    } catch (error) {
      setAuth(error instanceof NetworkError ? { state: "offline" } : { state: "out" });
    }
  }

  useEffect(() => {
    void resume();
    return onSessionEnded((reason) => {
      queries.clear();
      if (reason === "signedOut" || reason === "signedOutEverywhere") {
        forgetShopping();
        outbox.forget();
      }
      setAuth({ state: "out", message: reason });
    });
  }, []);

  return (
    <>
      <HttpsNotice />
      {screen(auth)}
    </>
  );

  function screen(now: Auth) {
    switch (now.state) {
      case "checking":
        return <p className="loading">{t("loading")}</p>;
      case "offline":
        return <OfflineShopping onRetry={() => void resume()} />;
      case "out":
        return <SignIn message={now.message} onSignedIn={() => void resume()} />;
      case "in":
        return <Shell me={now.me} />;
    }
  }
}
