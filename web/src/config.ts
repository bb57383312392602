// The runtime configuration the server provides at /config.json: `tale serve` builds it from
// its settings (local sign-in while the local signing key is in use), terraform writes it next
// to the static build (Supabase sign-in, the API's origin). One build serves both.

export interface RuntimeConfig {
  /** "local": development tokens from `tale serve`; "supabase": Supabase Auth. */
  auth: "local" | "supabase";
  /** The API's origin; "" when it serves this page. */
  api: string;
  supabase_url?: string;
  supabase_anon_key?: string;
  /** Whether POST /dev/token answers this browser (tale serve, on loopback). */
  dev_sign_in?: boolean;
}

export async function loadConfig(fetcher: typeof fetch = fetch): Promise<RuntimeConfig> {
  // Preloaded by index.html (fetched while the script loads); the server says no-store.
  const response = await fetcher("/config.json", { credentials: "same-origin" });
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  const config = (await response.json()) as Partial<RuntimeConfig> & { error?: string };
  if (config.error) throw new Error(config.error);
  if (config.auth !== "local" && config.auth !== "supabase") {
    throw new Error("config.json names no sign-in (auth: local or supabase)");
  }
  if (config.auth === "supabase" && !(config.supabase_url && config.supabase_anon_key)) {
    throw new Error("config.json: Supabase sign-in needs supabase_url and supabase_anon_key");
  }
  return { api: "", ...config } as RuntimeConfig;
}
