// The typed IPC layer: the commands and types generated from the Rust side
// (`bindings.ts`, by src-tauri/src/ipc.rs), plus the window's events with their payload
// types. Nothing else in the front end calls Tauri.

import { listen } from "@tauri-apps/api/event";
import type * as B from "./bindings";

export * from "./bindings";

// What the window receives is what Rust serialises (`*_Serialize`), and what it sends is
// what Rust deserialises (`*_Deserialize`); these names are the ones the views use.
export type ConnectionView = B.ConnectionView_Serialize;
export type Connected = B.Connected_Serialize;
export type CommandError = B.CommandError_Serialize;
export type Action = B.Action_Serialize;
export type Info = B.Info_Serialize;
export type VendorInfo = B.VendorInfo_Serialize;
export type Field = B.Field_Serialize;
export type Registration = B.Registration_Serialize;
export type Started = B.Started_Serialize;
export type Event = B.Event_Serialize;
export type ImportReport = B.ImportReport_Serialize;
export type Form = B.Form_Deserialize;
export type Edit = B.Edit_Deserialize;
export type Tick = B.Tick;
export type Ignored = B.Ignored;
export type Done = B.Done_Serialize;
export type Failed = B.Failed_Serialize;

/** Keyport's events and what each carries. */
export interface EventMap {
  "connect-tick": Tick;
  "connect-ignored": Ignored;
  "connect-done": Done;
  "connect-failed": Failed;
  "connections-changed": null;
  "focus-connection": string;
}

export function on<K extends keyof EventMap>(name: K, handler: (payload: EventMap[K]) => void): void {
  void listen<EventMap[K]>(name, (e) => handler(e.payload));
}
