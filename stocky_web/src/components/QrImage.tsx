import { useEffect, useState } from "react";
import { imageUrl } from "../api/client";

/** A QR code drawn by Stocky (SVG), fetched with this sign-in. */
export function QrImage({ path, body, alt }: { path: string; body?: unknown; alt: string }) {
  const [url, setUrl] = useState<string | null>(null);
  const key = path + JSON.stringify(body ?? null);
  useEffect(() => {
    let made: string | null = null;
    let live = true;
    imageUrl(body === undefined ? "GET" : "POST", path, body).then((u) => {
      made = u;
      if (live) setUrl(u);
      else URL.revokeObjectURL(u);
    }, () => undefined);
    return () => {
      live = false;
      if (made) URL.revokeObjectURL(made);
    };
  }, [key]);
  return url ? <img className="qr" src={url} alt={alt} /> : <span className="qr placeholder" role="img" aria-label={alt} />;
}
