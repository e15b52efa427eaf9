import type { Me } from "./api/types";

/** The actions of Stocky's permission table, as `GET /user/me` names them. */
export type Action =
  | "inventory.read"
  | "inventory.change"
  | "scan"
  | "scanner.set_state"
  | "item.delete"
  | "user.manage"
  | "account.own";

/** Whether this account may do `action`: Stocky says (`me.can`), so the
 * screens show what the server will allow and keep no copy of the roles. */
export function can(me: Pick<Me, "can">, action: Action): boolean {
  return me.can.includes(action);
}
