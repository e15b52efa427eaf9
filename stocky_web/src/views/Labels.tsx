import { useState } from "react";
import type { Item, Location, Page } from "../api/types";
import { QrImage } from "../components/QrImage";
import { QUICK_DATES } from "../dates";
import { useGet } from "../hooks";
import { t, type MessageKey } from "../i18n";
import { itemName } from "../scan";

// The command cards a kitchen prints once (DESIGN.md section 4), named as
// the pages they open.
const VIEW_CARDS: [string, MessageKey][] = [
  ["inventory", "navInventory"], ["shopping", "navShopping"], ["use_soon", "navUseSoon"], ["locations", "navLocations"],
  ["scanners", "navScanners"], ["log", "navLog"], ["users", "navUsers"],
];

function Label({ path, body, name }: { path: string; body?: unknown; name: string }) {
  return (
    <figure className="label">
      <QrImage path={path} body={body} alt={name} />
      <figcaption>{name}</figcaption>
    </figure>
  );
}

/** A printable sheet of QR labels: locations, command cards, chosen items. */
export default function Labels() {
  const [paper, setPaper] = useState<"a4" | "letter">("a4");
  const [typed, setTyped] = useState("");
  const [chosen, setChosen] = useState<Item[]>([]);
  const locations = useGet<Page<Location>>(["locations"], "/location");
  const query = new URLSearchParams({ stock: "all", limit: "20" });
  if (typed.trim()) query.set("search", typed.trim());
  const items = useGet<Page<Item>>(["items", "labels", typed.trim()], `/item?${query}`);
  const toggle = (item: Item) =>
    setChosen(chosen.some((c) => c.id === item.id) ? chosen.filter((c) => c.id !== item.id) : [...chosen, item]);
  const card = (command: string, payload: string) => ({ command, payload });
  return (
    <section className={`labels paper-${paper}`}>
      <div className="no-print">
        <h1>{t("labelsTitle")}</h1>
        <div className="actions">
          <label>{t("paper")}
            <select value={paper} onChange={(e) => setPaper(e.target.value as "a4" | "letter")}>
              <option value="a4">{t("paperA4")}</option>
              <option value="letter">{t("paperLetter")}</option>
            </select>
          </label>
          <button type="button" className="primary" onClick={() => window.print()}>{t("print")}</button>
        </div>
        <fieldset>
          <legend>{t("chooseItems")}</legend>
          <label>{t("search")}<input type="search" value={typed} onChange={(e) => setTyped(e.target.value)} /></label>
          <ul className="choices">
            {items.data?.data.map((item) => (
              <li key={item.id}>
                <label className="check">
                  <input type="checkbox" checked={chosen.some((c) => c.id === item.id)} onChange={() => toggle(item)} />
                  {itemName(item)}
                </label>
              </li>
            ))}
          </ul>
        </fieldset>
      </div>
      <div className="sheet">
        <h2>{t("locationLabels")}</h2>
        <div className="grid">
          {locations.data?.data.map((l) => <Label key={l.id} path={`/qr/location/${l.id}?format=svg`} name={l.name} />)}
        </div>
        <h2>{t("commandCards")}</h2>
        <div className="grid">
          <Label path="/qr/command?format=svg" body={card("set_mode", "add")} name={t("cardAddMode")} />
          <Label path="/qr/command?format=svg" body={card("set_mode", "remove")} name={t("cardRemoveMode")} />
          <Label path="/qr/command?format=svg" body={{ command: "undo" }} name={t("cardUndo")} />
          {VIEW_CARDS.map(([view, page]) => (
            <Label key={view} path="/qr/command?format=svg" body={card("show_view", view)} name={t("cardView", { view: t(page) })} />
          ))}
          {QUICK_DATES.map(([payload, when]) => (
            <Label key={payload} path="/qr/command?format=svg" body={card("best_before", payload)} name={t("cardDate", { when: t(when) })} />
          ))}
        </div>
        {chosen.length > 0 && (
          <>
            <h2>{t("itemLabels")}</h2>
            <div className="grid">
              {chosen.map((item) => <Label key={item.id} path={`/qr/item/${item.id}?format=svg`} name={itemName(item)} />)}
            </div>
          </>
        )}
      </div>
    </section>
  );
}
