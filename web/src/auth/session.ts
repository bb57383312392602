// Who is signed in. Two ways, chosen by the runtime config: development tokens minted by
// `tale serve` (local.ts) and Supabase Auth (supabase.ts, loaded only when configured, so
// the embedded default's first page does not carry supabase-js).

export interface Session {
  userId: string;
  email: string;
}

export interface Auth {
  readonly kind: "local" | "supabase";
  current(): Session | null;
  /** A valid access token, refreshed if the provider can; null when signed out. */
  token(): Promise<string | null>;
  signOut(): Promise<void>;
  /** Called with the new session whenever it changes. */
  subscribe(listener: (session: Session | null) => void): () => void;
}

export interface JwtClaims {
  sub?: string;
  email?: string;
  exp?: number;
}

/** The claims of a JWT, unverified: the page only reads who and until when; the API verifies. */
export function claimsOf(token: string): JwtClaims | null {
  const part = token.split(".")[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "="));
    const bytes = Uint8Array.from(json, (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes)) as JwtClaims;
  } catch {
    return null;
  }
}

export class Listeners<T> {
  private readonly all = new Set<(value: T) => void>();
  add(listener: (value: T) => void): () => void {
    this.all.add(listener);
    return () => this.all.delete(listener);
  }
  emit(value: T): void {
    for (const listener of this.all) listener(value);
  }
}
