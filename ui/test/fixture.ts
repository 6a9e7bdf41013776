import type { ConnectionView } from "../src/ipc";

/** A connection view as the engine sends it, with the given fields changed. */
export function view(over: Partial<ConnectionView> & { name: string }): ConnectionView {
  return {
    vendor: "shop-api",
    vendor_label: "Shop API",
    kind: "admin",
    account: null,
    details: [],
    client: null,
    note: null,
    status: "valid",
    status_text: "valid",
    expires_at: null,
    deadline: null,
    deadline_label: null,
    deadlines: [],
    last_refresh: null,
    last_refresh_by: null,
    store: null,
    shared_by: null,
    shared_at: null,
    consented_at: null,
    can_refresh: false,
    needs_attention: false,
    unverified: null,
    warnings: [],
    actions: [],
    revoke_note: "",
    reissue_steps: null,
    base_url: null,
    test_path: null,
    client_id: null,
    registration: null,
    created_at: 0,
    ...over,
  } as ConnectionView;
}
