import { lazy, Suspense, useEffect, useRef, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { Link, Route, Switch, useLocation } from "wouter";
import { currentToken, onTokenRenewed, refresh, sessionEnded } from "./api/client";
import type { Alert, Me, Page } from "./api/types";
import { can } from "./can";
import { AccountMenu } from "./components/AccountMenu";
import { BannerView, ShowBanner, trackTaps } from "./components/Banner";
import { CameraButton } from "./components/CameraButton";
import { LinkScanner } from "./components/LinkScanner";
import { useGet } from "./hooks";
import { t, type MessageKey } from "./i18n";
import { staleKeys } from "./live/invalidate";
import { LiveSocket, type LiveMessage } from "./live/socket";
import { describeScan, type Banner, type ScanMessage } from "./scan";
import { onBecomingScreen, screenId } from "./screen";
import { pathForView } from "./views";
import { Alerts } from "./views/Alerts";
import { Inventory } from "./views/Inventory";
import { ItemPage } from "./views/ItemPage";
import { Locations } from "./views/Locations";
import { Log } from "./views/Log";
import { NotFound } from "./views/NotFound";
import { Password } from "./views/Password";
import { Scanners } from "./views/Scanners";
import { NewItem } from "./views/NewItem";
import { Shopping, useSendTicks } from "./views/Shopping";
import { UseSoon } from "./views/UseSoon";
import { Users } from "./views/Users";

const Labels = lazy(() => import("./views/Labels"));

const NAV: [string, MessageKey][] = [
  ["/", "navInventory"],
  ["/shopping", "navShopping"],
  ["/use-soon", "navUseSoon"],
  ["/locations", "navLocations"],
  ["/scanners", "navScanners"],
  ["/log", "navLog"],
  ["/alerts", "navAlerts"],
  ["/labels", "navLabels"],
];

const BANNER_MS = 6000;
const DATING_MS = 15000; // time to reach for a date choice

function useLive(onBanner: (banner: Banner) => void): boolean {
  const queries = useQueryClient();
  const [, navigate] = useLocation();
  const [online, setOnline] = useState(true);
  const [id, setId] = useState(screenId);
  const latest = useRef({ navigate, onBanner });
  latest.current = { navigate, onBanner };
  useEffect(() => onBecomingScreen(() => setId(screenId())), []);

  useEffect(() => {
    let pending = new Set<string>();
    let flush: ReturnType<typeof setTimeout> | null = null;
    const invalidate = (entity: string) => {
      for (const key of staleKeys(entity)) pending.add(JSON.stringify(key));
      // Changes come in bursts (a scan touches an item, a SKU and a journal row).
      flush ??= setTimeout(() => {
        const keys = pending;
        pending = new Set();
        flush = null;
        for (const key of keys) void queries.invalidateQueries({ queryKey: JSON.parse(key) });
      }, 50);
    };
    const socket = new LiveSocket({
      uiId: id,
      token: currentToken,
      onOnline: setOnline,
      onGap: () => void queries.invalidateQueries(),
      onRefused: () => void refresh().then((token) => token || sessionEnded(), () => undefined),
      onMessage: (message: LiveMessage) => {
        if (message.action === "changed") invalidate(String(message.entity));
        else if (message.action === "alert") invalidate("alert");
        else if (message.action === "show_view") {
          const path = pathForView(message.view);
          if (path) latest.current.navigate(path);
        } else if (message.action === "scan_result") {
          latest.current.onBanner(describeScan(message as unknown as ScanMessage));
        }
      },
    });
    socket.start();
    const stopRenewing = onTokenRenewed((token) => socket.renew(token));
    return () => {
      stopRenewing();
      socket.stop();
      if (flush) clearTimeout(flush);
    };
  }, [queries, id]);
  return online;
}

function AlertCount() {
  const open = useGet<Page<Alert>>(["alerts", "open-count"], "/alert?acknowledged=false&limit=1");
  const count = open.data?.total ?? 0;
  return (
    <Link href="/alerts" className={count ? "alert-count has-alerts" : "alert-count"} aria-label={t("alertsCount", { count })}>
      <span aria-hidden="true">⚠ {count}</span>
    </Link>
  );
}

export function Shell({ me }: { me: Me }) {
  const [banner, setBanner] = useState<Banner | null>(null);
  const [held, setHeld] = useState(false);
  const [menuOpen, setMenuOpen] = useState(false);
  const [linking, setLinking] = useState(false);
  const [path] = useLocation();
  const online = useLive(setBanner);
  const sendTicks = useSendTicks();
  useEffect(() => {
    if (online) void sendTicks(); // ticks made offline go once Stocky answers again
  }, [online]);

  useEffect(() => setHeld(false), [banner]);
  useEffect(() => {
    if (!banner || held || banner.place) return; // a question waits for its answer
    const timer = setTimeout(() => setBanner(null), banner.dating || banner.dated ? DATING_MS : BANNER_MS);
    return () => clearTimeout(timer);
  }, [banner, held]);
  useEffect(() => setMenuOpen(false), [path]);
  useEffect(trackTaps, []);

  const nav = can(me, "user.manage") ? [...NAV.slice(0, 6), ["/users", "navUsers"] as [string, MessageKey], ...NAV.slice(6)] : NAV;
  return (
    <div className="shell">
      <header className="top">
        <Link href="/" className="brand">{t("appName")}</Link>
        <AlertCount />
        <button type="button" className="menu-button" aria-expanded={menuOpen} aria-controls="main-nav"
          onClick={() => setMenuOpen(!menuOpen)}>{t("mainMenu")}</button>
        <nav id="main-nav" className={menuOpen ? "main-nav open" : "main-nav"} aria-label={t("mainMenu")}>
          {nav.map(([href, label]) => (
            <Link key={href} href={href} aria-current={path === href ? "page" : undefined}>{t(label)}</Link>
          ))}
          <button type="button" onClick={() => setLinking(true)}>{t("linkScanner")}</button>
          {can(me, "scan") && <CameraButton />}
          <AccountMenu me={me} />
        </nav>
      </header>
      {!online && <p className="status offline" role="status">{t("reconnecting")}</p>}
      {banner && <BannerView banner={banner} canChange={can(me, "inventory.change")} canPlace={can(me, "scanner.set_state")}
        onChange={setBanner} onHold={() => setHeld(true)} />}
      {linking && <LinkScanner onClose={() => setLinking(false)} />}
      <main>
        <ShowBanner.Provider value={setBanner}>
        <Switch>
          <Route path="/"><Inventory me={me} /></Route>
          <Route path="/shopping"><Shopping online={online} canTick={can(me, "inventory.change")} /></Route>
          <Route path="/use-soon"><UseSoon me={me} /></Route>
          <Route path="/new-item"><NewItem me={me} /></Route>
          <Route path="/item/:id">{(params) => <ItemPage id={params.id} me={me} />}</Route>
          <Route path="/locations"><Locations me={me} /></Route>
          <Route path="/scanners"><Scanners me={me} /></Route>
          <Route path="/log"><Log /></Route>
          <Route path="/users"><Users me={me} /></Route>
          <Route path="/alerts"><Alerts me={me} /></Route>
          <Route path="/password"><Password /></Route>
          <Route path="/labels"><Suspense fallback={<p>{t("loading")}</p>}><Labels /></Suspense></Route>
          <Route><NotFound /></Route>
        </Switch>
        </ShowBanner.Provider>
      </main>
    </div>
  );
}
