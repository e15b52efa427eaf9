import type { Action } from "../can";

export type Role = "Admin" | "Member" | "Read-only" | "Scanner";
export type StorageType = "Ambient" | "Refrigerated" | "Frozen" | null;

export interface Page<T> {
  data: T[];
  total: number;
}

export interface Me {
  id: string;
  username: string;
  role: Role;
  /** What this account may do (see `can`). */
  can: Action[];
}

export interface Item {
  id: string;
  name: string | null;
  description: string | null;
  upc: string | null;
  storage_type: StorageType;
  lookup_status: string | null;
  total_quantity: number;
  updated_at: string;
  stock_changed_at: string;
  min_quantity: number;
  in_basket: boolean;
}

/** An item on the shopping list, and how many to get. */
export interface ShoppingItem extends Item {
  to_buy: number;
}

/** Units of one place that share a best-before date. */
export interface Lot {
  id: string;
  best_before: string;
  quantity: number;
}

/** A lot on the Use soon list. */
export interface UseSoonLot extends Lot {
  sku_id: string;
  item_id: string;
  item_name: string | null;
  location_id: string;
  location_name: string;
  days_left: number;
}

export interface Place {
  id: string;
  location_id: string;
  location_name: string;
  quantity: number;
  updated_at: string;
  lots: Lot[];
}

/** What a − / + answers: the place as it is now, and the journalled change. */
export interface Adjusted {
  quantity: number;
  change_id?: string | null;
}

export interface ItemDetail extends Item {
  skus: Place[];
}

export interface StockChange {
  id: string;
  timestamp: string;
  location_name: string;
  delta: number;
  quantity_after: number;
  source: "scan" | "ui" | "api";
  scan_id: string | null;
  username?: string | null;
  lots?: [string | null, number][] | null;
}

export interface Location {
  id: string;
  name: string;
  storage_type: StorageType;
  details: string | null;
  total_quantity: number;
}

export interface ScannerState {
  id: string;
  username: string;
  current_mode: "add" | "remove";
  current_location_id: string | null;
  last_scan_timestamp: string | null;
  associated_ui_id: string | null;
}

export interface User {
  id: string;
  username: string;
  role: Role;
  is_active: boolean;
  api_key_prefix: string | null;
}

export interface Alert {
  id: string;
  timestamp: string;
  severity: string;
  message: string;
  is_acknowledged: boolean;
}

export interface LogEntry {
  id: string;
  timestamp: string;
  severity: "INFO" | "WARN" | "ERROR";
  message: string;
  source: string;
}

/** What Move everything did: one change, undone whole by its change_id. */
export interface Emptied {
  moved: number;
  items: number;
  from_location_name: string;
  into_location_name: string;
  change_id: string | null;
}

export type StockFilter = "in" | "shopping" | "all";
