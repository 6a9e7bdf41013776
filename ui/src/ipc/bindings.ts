// PLACEHOLDER until generated
import { invoke as TAURI_INVOKE } from "@tauri-apps/api/core";
export type Kind = "oauth" | "admin";
export type Status = "valid" | "expiring_soon" | "expired" | "needs_reconnect" | "refresh_failed";
export type ActionKind = "reconnect" | "reissue" | "replace" | "revoke" | "force_revoke" | "unlock_keychain" | "retry" | "fix_input" | "free_port" | "list" | "move_metadata_aside";
export type Action = { kind: ActionKind; name?: string | null };
export type Detail = { key: string; label: string; env: string; value: string };
export type Warning = { key: string; message: string };
export type DeadlineView = { at: number; what: string; todo: string };
export type RegistrationView = { client_id: string; redirect_uri: string; scopes: string; issuer?: string | null; authorize_url: string; token_url: string; revocation_url?: string | null };
export type ConnectionView = { name: string; vendor: string; vendor_label: string; kind: Kind; account: string | null; details: Detail[]; client: string | null; note: string | null; status: Status; status_text: string; expires_at: number | null; deadline: number | null; deadline_label: string | null; deadlines: DeadlineView[]; last_refresh: number | null; last_refresh_by: string | null; store: string | null; shared_by: string | null; shared_at: number | null; consented_at: number | null; can_refresh: boolean; needs_attention: boolean; unverified: string | null; warnings: Warning[]; actions: Action[]; revoke_note: string; reissue_steps: string | null; base_url: string | null; test_path: string | null; client_id: string | null; registration: RegistrationView | null; created_at: number };
export type CommandError = { code: string; message: string; actions: Action[] };
export type Input = "text" | "url" | "number" | "date" | "choice" | "lines";
export type Field = { key: string; label: string; help: string; default: string | null; placeholder: string | null; input: Input; choices?: [string, string][]; required: boolean; advanced: boolean; secret: boolean; masked: boolean; cli: string; remember: boolean };
export type VendorInfo = { id: string; label: string; kind: Kind; summary: string; warning: string | null; fields: Field[] };
export type Info = { metadata_path: string; version: string; clipboard_clear_secs: number; locale: string; vendors: VendorInfo[] };
export type Registration = { vendor: string; client_id: string; authority?: string | null; values: Partial<{ [key in string]: string }>; secret_saved: boolean };
export type Form = { vendor: string; name: string; replace: boolean; remember_secret: boolean; note: string; client: string; skip_test: boolean; reuse_secrets: boolean; values: Partial<{ [key in string]: string }> };
export type Edit = { note: string | null; client: string | null; base_url: string | null; test_path: string | null; expires: string | null };
export type Started = { attempt: number; name: string; vendor_label: string; redirect_uri: string; loopback: boolean; expires_at: number; left: number; browser_error: string | null };
export type Retired = { steps: string[]; problem: string | null };
export type Connected = ConnectionView & { replaced?: Retired | null };
export type Copied = { what: string; preview: string; clear_secs: number };
export type TestReport = { ok: boolean; status: number | null; url: string; summary: string };
export type RevokeReport = { vendor_steps: string[]; manual_steps: string | null; forced: boolean };
export type EventKind = "connected" | "reconnected" | "added" | "refreshed" | "tested" | "token_copied" | "token_replaced" | "edited" | "revoked";
export type Source = "window" | "cli" | "agent";
export type Event = { at: number; what: EventKind; ok: boolean; detail?: string | null; from: Source };
export type Tick = { attempt: number; left: number };
export type Ignored = { attempt: number; message: string };
export type Done = { attempt: number; view: Connected };
export type Failed = { attempt: number } & CommandError;
export type EnvTool = "postman" | "insomnia" | "bruno";
export type OnConflict = "fail" | "skip" | "rename";
export type EnvFile = { tool: EnvTool; file_name: string; with_token: boolean; variables: string[] };
export type Imported = { name: string; from: string; connection: ConnectionView };
export type ImportReport = { imported: Imported[]; skipped: string[]; registrations: number };
export const commands = {
  async exportConnections(path: string, names: string[]): Promise<number> { return await TAURI_INVOKE("export_connections", { path, names }); },
  async importConnections(path: string, onConflict: OnConflict): Promise<ImportReport> { return await TAURI_INVOKE("import_connections", { path, onConflict }); },
  async envFileName(name: string, tool: EnvTool): Promise<string> { return await TAURI_INVOKE("env_file_name", { name, tool }); },
  async writeEnvFile(name: string, tool: EnvTool, withToken: boolean, path: string): Promise<EnvFile> { return await TAURI_INVOKE("write_env_file", { name, tool, withToken, path }); },
  async info(): Promise<Info> { return await TAURI_INVOKE("info"); },
  async list(): Promise<ConnectionView[]> { return await TAURI_INVOKE("list"); },
  async activity(name: string): Promise<Event[]> { return await TAURI_INVOKE("activity", { name }); },
  async registrations(): Promise<Registration[]> { return await TAURI_INVOKE("registrations"); },
  async connectStart(form: Form): Promise<Started> { return await TAURI_INVOKE("connect_start", { form }); },
  async connectCancel(): Promise<null> { return await TAURI_INVOKE("connect_cancel"); },
  async connectPaste(url: string): Promise<Connected> { return await TAURI_INVOKE("connect_paste", { url }); },
  async connectReopen(): Promise<null> { return await TAURI_INVOKE("connect_reopen"); },
  async reconnectNeeds(name: string): Promise<Field[]> { return await TAURI_INVOKE("reconnect_needs", { name }); },
  async reconnectStart(name: string, values: Partial<{ [key in string]: string }>): Promise<Started> { return await TAURI_INVOKE("reconnect_start", { name, values }); },
  async copyToken(name: string): Promise<Copied> { return await TAURI_INVOKE("copy_token", { name }); },
  async copyHeaders(name: string): Promise<Copied> { return await TAURI_INVOKE("copy_headers", { name }); },
  async copyCurl(name: string): Promise<Copied> { return await TAURI_INVOKE("copy_curl", { name }); },
  async copyEnv(name: string): Promise<Copied> { return await TAURI_INVOKE("copy_env", { name }); },
  async refresh(name: string): Promise<ConnectionView> { return await TAURI_INVOKE("refresh", { name }); },
  async test(name: string): Promise<TestReport> { return await TAURI_INVOKE("test", { name }); },
  async revoke(name: string, force: boolean): Promise<RevokeReport> { return await TAURI_INVOKE("revoke", { name, force }); },
  async addToken(form: Form): Promise<ConnectionView> { return await TAURI_INVOKE("add_token", { form }); },
  async edit(name: string, edit: Edit): Promise<ConnectionView> { return await TAURI_INVOKE("edit", { name, edit }); },
  async autostartGet(): Promise<boolean> { return await TAURI_INVOKE("autostart_get"); },
  async autostartSet(on: boolean): Promise<boolean> { return await TAURI_INVOKE("autostart_set", { on }); },
};
