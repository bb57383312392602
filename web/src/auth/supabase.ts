// Supabase Auth in production (imported dynamically: only deployments that use it load it).
// Email and password, or a magic link; PKCE, so a link comes back as ?code= and the page's
// own routes stay in the hash.

import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import { type Auth, Listeners, type Session } from "./session";

export class SupabaseAuth implements Auth {
  readonly kind = "supabase" as const;
  private readonly client: SupabaseClient;
  private session: Session | null = null;
  private readonly listeners = new Listeners<Session | null>();

  private constructor(url: string, anonKey: string) {
    this.client = createClient(url, anonKey, {
      auth: { flowType: "pkce", persistSession: true, autoRefreshToken: true, detectSessionInUrl: true },
    });
    this.client.auth.onAuthStateChange((_event, session) => {
      this.session = session ? { userId: session.user.id, email: session.user.email ?? "" } : null;
      this.listeners.emit(this.session);
    });
  }

  static async create(url: string, anonKey: string): Promise<SupabaseAuth> {
    const auth = new SupabaseAuth(url, anonKey);
    const { data } = await auth.client.auth.getSession();
    const s = data.session;
    auth.session = s ? { userId: s.user.id, email: s.user.email ?? "" } : null;
    return auth;
  }

  current(): Session | null {
    return this.session;
  }

  async token(): Promise<string | null> {
    const { data } = await this.client.auth.getSession();
    return data.session?.access_token ?? null;
  }

  async signInWithPassword(email: string, password: string): Promise<void> {
    const { error } = await this.client.auth.signInWithPassword({ email, password });
    if (error) throw new Error(error.message);
  }

  async sendMagicLink(email: string): Promise<void> {
    const redirect = `${location.origin}${location.pathname}`;
    const { error } = await this.client.auth.signInWithOtp({
      email,
      options: { emailRedirectTo: redirect },
    });
    if (error) throw new Error(error.message);
  }

  async signOut(): Promise<void> {
    await this.client.auth.signOut();
  }

  subscribe(listener: (session: Session | null) => void): () => void {
    return this.listeners.add(listener);
  }
}
