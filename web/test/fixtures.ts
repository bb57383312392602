import type { Schemas } from "../src/api/client";
import type { Auth } from "../src/auth/session";

/** A signed-in local development account (the token is not checked by the fake API). */
export const localAuth: Auth = {
  kind: "local",
  current: () => ({ userId: "u", email: "u@localhost" }),
  token: async () => "tok",
  signOut: async () => {},
  subscribe: () => () => {},
};

export function storyboard(overrides: Partial<Schemas["StoryboardView"]> = {}): Schemas["StoryboardView"] {
  return {
    id: "tale-1",
    status: "awaiting_approval",
    version: 1,
    title: "Mina and the fox",
    language: "en",
    style: "storybook",
    aspect_ratio: "9:16",
    characters: [{ name: "Mina", description: "a girl in a red coat", image_url: null }],
    scenes: [{ index: 0, setting: "a beach", summary: "Mina meets a fox." }],
    shots: [0, 1, 2].map((index) => ({
      index,
      scene_index: 0,
      camera: "medium shot",
      duration_s: 4,
      narration: `line ${index}`,
      prompt: `prompt ${index}`,
      characters: ["Mina"],
      status: "planned",
      attempt: 0,
      thumbnail_url: null,
      clip_url: null,
      voice_url: null,
    })),
    storyboard_url: null,
    poster_url: null,
    video_url: null,
    expires_in: 3600,
    estimate: { usd: 0.42, by_stage: {}, scenario: "local", price_table: "test" },
    ...overrides,
  };
}

export interface Seen {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

/** A fetch that answers from `route` and records every request. */
export function fakeFetch(route: (req: Seen) => Response | Promise<Response>): { fetch: typeof fetch; seen: Seen[] } {
  const seen: Seen[] = [];
  const fetcher = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const headers = Object.fromEntries([...new Headers(init.headers).entries()].map(([k, v]) => [k.toLowerCase(), v]));
    const req: Seen = {
      method: init.method ?? "GET",
      url: String(input),
      headers,
      body: typeof init.body === "string" ? JSON.parse(init.body) : undefined,
    };
    seen.push(req);
    return route(req);
  };
  return { fetch: fetcher as typeof fetch, seen };
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  const type = status >= 400 ? "application/problem+json" : "application/json";
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": type, ...headers } });
}

export function problem(status: number, kind: string, detail: string): Response {
  return json({ type: `https://tale.dev/problems/${kind}`, title: kind, status, detail }, status);
}
