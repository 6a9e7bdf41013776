// The typed IPC layer: the commands and types generated from the Rust side
// (`bindings.ts`, by src-tauri/src/ipc.rs), plus the window's events with their payload
// types. Nothing else in the front end calls Tauri.

import { listen } from "@tauri-apps/api/event";
import type { Done, Failed, Ignored, Tick } from "./bindings";

export * from "./bindings";

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
