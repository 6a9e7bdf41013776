// Export / import of connections and the environment files for API tools. Filled in once
// the engine's transfer API is merged; until then the buttons stay hidden.

import type { ConnectionView } from "../ipc";

export function mountPorting(): void {}

export function openEnvFile(_v: ConnectionView): void {}
