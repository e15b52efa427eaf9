import { useState, type FormEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { api } from "../api/client";
import type { Me, Page, Role, User } from "../api/types";
import { can } from "../can";
import { errorText, useAction, useGet } from "../hooks";
import { t } from "../i18n";

const ROLES: Role[] = ["Admin", "Member", "Read-only", "Scanner"];

function UserEntry({ user, onKey }: { user: User; onKey: (name: string, key: string) => void }) {
  const [password, setPassword] = useState("");
  const action = useAction();
  const queries = useQueryClient();
  const change = (body: unknown) =>
    action.run(async () => {
      await api("PATCH", `/user/${user.id}`, body);
      await queries.invalidateQueries({ queryKey: ["users"] });
    });
  return (
    <li className="user">
      <div className="location-head">
        <strong>{user.username}</strong>
        <span className="muted">{user.role} · {user.is_active ? t("active") : t("inactive")}</span>
      </div>
      <div className="actions">
        <label>{t("role")}
          <select value={user.role} disabled={action.busy} onChange={(e) => void change({ role: e.target.value })}>
            {ROLES.map((role) => <option key={role} value={role}>{role}</option>)}
          </select>
        </label>
        <button type="button" disabled={action.busy} onClick={() => void change({ is_active: !user.is_active })}>
          {user.is_active ? t("deactivate") : t("activate")}
        </button>
        {user.role === "Scanner" ? (
          <button type="button" disabled={action.busy} onClick={() => void action.run(async () => {
            const answer = await api<{ api_key: string }>("POST", `/user/${user.id}/api-key`, {});
            onKey(user.username, answer.api_key);
          })}>{t("newKey")}</button>
        ) : (
          <form className="inline" onSubmit={(e) => {
            e.preventDefault();
            void change({ password }).then((ok) => ok && setPassword(""));
          }}>
            <label>{t("newPassword")}
              <input type="password" autoComplete="new-password" value={password} required onChange={(e) => setPassword(e.target.value)} />
            </label>
            <button type="submit" disabled={action.busy}>{t("setPassword")}</button>
          </form>
        )}
      </div>
      {action.error && <p className="error" role="alert">{action.error}</p>}
    </li>
  );
}

function NewUser({ onKey }: { onKey: (name: string, key: string) => void }) {
  const [username, setUsername] = useState("");
  const [role, setRole] = useState<Role>("Member");
  const [password, setPassword] = useState("");
  const action = useAction();
  const queries = useQueryClient();
  function submit(event: FormEvent) {
    event.preventDefault();
    void action.run(async () => {
      const made = await api<User & { api_key?: string | null }>("POST", "/user", {
        username: username.trim(), role, ...(role === "Scanner" ? {} : { password }),
      });
      if (made.api_key) onKey(made.username, made.api_key);
      setUsername("");
      setPassword("");
      await queries.invalidateQueries({ queryKey: ["users"] });
    });
  }
  return (
    <form className="edit" onSubmit={submit}>
      <h2>{t("newUser")}</h2>
      <label>{t("username")}<input value={username} required autoCapitalize="none" onChange={(e) => setUsername(e.target.value)} /></label>
      <label>{t("role")}
        <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
          {ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
        </select>
      </label>
      {role !== "Scanner" && (
        <label>{t("password")}<input type="password" autoComplete="new-password" required value={password} onChange={(e) => setPassword(e.target.value)} /></label>
      )}
      {action.error && <p className="error" role="alert">{action.error}</p>}
      <button type="submit" className="primary" disabled={action.busy}>{t("addUser")}</button>
    </form>
  );
}

export function Users({ me }: { me: Me }) {
  const users = useGet<Page<User>>(["users"], "/user", { enabled: can(me, "user.manage") });
  const [shown, setShown] = useState<string | null>(null);
  if (!can(me, "user.manage")) return <p className="notice">{t("adminsOnly")}</p>;
  const onKey = (name: string, key: string) => setShown(t("keyShownOnce", { name, key }));
  return (
    <section>
      <h1>{t("navUsers")}</h1>
      {users.error && <p className="error" role="alert">{errorText(users.error)}</p>}
      {shown && <p className="notice key" role="status">{shown}</p>}
      <ul className="users">
        {users.data?.data.map((user) => <UserEntry key={user.id} user={user} onKey={onKey} />)}
      </ul>
      <NewUser onKey={onKey} />
    </section>
  );
}
