// Development sign-in for the embedded default. `tale serve` mints a token at POST /dev/token
// for a browser on the same machine (loopback only, and only while the local signing key is
// in use); a token printed by `tale token` can be pasted instead (a server reached over a LAN).
// The token is kept in localStorage: it is a development token for a local server.

import { type Auth, claimsOf, Listeners, type Session } from "./session";

const STORE = "tale.dev-token";
const SKEW_S = 30;

export class LocalAuth implements Auth {
  readonly kind = "local" as const;
  private readonly listeners = new Listeners<Session | null>();

  constructor(private readonly storage: Storage = localStorage) {}

  current(): Session | null {
    const token = this.valid();
    if (!token) return null;
    const claims = claimsOf(token);
    return { userId: claims?.sub ?? "", email: claims?.email ?? "" };
  }

  async token(): Promise<string | null> {
    return this.valid();
  }

  /** Ask `tale serve` for a development token for `email`. */
  async signInDev(email: string, fetcher: typeof fetch = fetch): Promise<void> {
    const response = await fetcher("/dev/token", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email }),
    });
    const body = (await response.json().catch(() => ({}))) as { token?: string; detail?: string };
    if (!response.ok || !body.token) {
      throw new Error(body.detail || `HTTP ${response.status}`);
    }
    this.use(body.token);
  }

  /** Use a token printed by `tale token`. */
  use(token: string): void {
    const claims = claimsOf(token.trim());
    if (!claims?.sub || !claims.exp) throw new Error("not an access token");
    if (claims.exp < Date.now() / 1000 + SKEW_S) throw new Error("this token has expired");
    this.storage.setItem(STORE, token.trim());
    this.listeners.emit(this.current());
  }

  async signOut(): Promise<void> {
    this.storage.removeItem(STORE);
    this.listeners.emit(null);
  }

  subscribe(listener: (session: Session | null) => void): () => void {
    return this.listeners.add(listener);
  }

  private valid(): string | null {
    const token = this.storage.getItem(STORE);
    if (!token) return null;
    const exp = claimsOf(token)?.exp ?? 0;
    if (exp < Date.now() / 1000 + SKEW_S) {
      this.storage.removeItem(STORE);
      return null;
    }
    return token;
  }
}
