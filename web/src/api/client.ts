// The typed API client. Every path, method, parameter, body and answer comes from
// schema.d.ts, which openapi-typescript generates from schemas/openapi.json
// (`npm run gen:api`; tests/web/test_web_build.py fails when it is stale). What the client
// adds: the bearer token, problem documents turned into ApiError, the ETag of an answer (a
// storyboard's version, for If-Match), and one place that notices an expired session.

import type { components, paths } from "./schema";
import { ApiError, type Problem, networkProblem } from "./problem";

export type Schemas = components["schemas"];
type Method = "get" | "post" | "patch";

type Operation<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;
type JsonOf<R> = R extends { content: { "application/json": infer B } } ? B : never;
type Success<O> = O extends { responses: infer R }
  ? 200 extends keyof R
    ? JsonOf<R[200]>
    : 201 extends keyof R
      ? JsonOf<R[201]>
      : 202 extends keyof R
        ? JsonOf<R[202]>
        : never
  : never;
type BodyOf<O> = O extends { requestBody: { content: { "application/json": infer B } } }
  ? B
  : O extends { requestBody?: { content: { "application/json": infer B } } }
    ? B
    : never;
type PathOf<O> = O extends { parameters: { path: infer P } } ? P : never;
type QueryOf<O> = O extends { parameters: { query?: infer Q } } ? Q : never;

/** Paths that have method M. */
export type PathsWith<M extends Method> = {
  [P in keyof paths]: paths[P][M] extends undefined | never ? never : P;
}[keyof paths];

export interface Options<O> {
  path?: PathOf<O>;
  query?: QueryOf<O>;
  body?: BodyOf<O>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface Answer<T> {
  data: T;
  status: number;
  etag: string | null;
}

export interface ClientConfig {
  /** The API's origin ("" when the API serves the page itself). */
  base: string;
  /** The current access token, or null when signed out. */
  token: () => Promise<string | null>;
  /** Called when the API refuses the token (401): the session is over. */
  onUnauthorized?: () => void;
  fetch?: typeof fetch;
}

/** Fill `{name}` segments of a path template. */
export function fillPath(template: string, params: Record<string, unknown> | undefined): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params?.[name];
    if (value === undefined || value === null) throw new Error(`missing path parameter ${name}`);
    return encodeURIComponent(String(value));
  });
}

export function queryString(query: Record<string, unknown> | undefined): string {
  if (!query) return "";
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

export class ApiClient {
  constructor(private readonly config: ClientConfig) {}

  get base(): string {
    return this.config.base;
  }

  /** Authorization header for a request the typed methods do not cover (a stream). */
  async authHeaders(): Promise<Record<string, string>> {
    const token = await this.config.token();
    return token ? { Authorization: `Bearer ${token}` } : {};
  }

  async call<P extends PathsWith<M>, M extends Method>(
    method: M,
    path: P,
    options: Options<Operation<P, M>> = {},
  ): Promise<Answer<Success<Operation<P, M>>>> {
    const url =
      this.config.base +
      fillPath(path, options.path as Record<string, unknown> | undefined) +
      queryString(options.query as Record<string, unknown> | undefined);
    const response = await this.send(method.toUpperCase(), url, options.body, options);
    const data = (await response.json()) as Success<Operation<P, M>>;
    return { data, status: response.status, etag: response.headers.get("ETag") };
  }

  get<P extends PathsWith<"get">>(path: P, options: Options<Operation<P, "get">> = {}) {
    return this.call("get", path, options).then((a) => a.data);
  }

  post<P extends PathsWith<"post">>(path: P, options: Options<Operation<P, "post">> = {}) {
    return this.call("post", path, options).then((a) => a.data);
  }

  /**
   * A request to an endpoint the OpenAPI document does not list yet (billing, captions):
   * the same token and problem handling, an untyped answer.
   */
  async raw(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
    return this.send(method, this.config.base + path, body, { signal });
  }

  private async send(
    method: string,
    url: string,
    body: unknown,
    options: { headers?: Record<string, string>; signal?: AbortSignal },
  ): Promise<Response> {
    const headers: Record<string, string> = {
      Accept: "application/json, application/problem+json",
      ...(await this.authHeaders()),
      ...options.headers,
    };
    const init: RequestInit = { method, headers, signal: options.signal ?? null };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response: Response;
    try {
      response = await (this.config.fetch ?? fetch)(url, init);
    } catch (exc) {
      if ((exc as Error).name === "AbortError") throw exc;
      throw new ApiError(networkProblem(String(exc)));
    }
    if (!response.ok) {
      const problem = await readProblem(response);
      if (response.status === 401) this.config.onUnauthorized?.();
      throw new ApiError(problem, response.headers.get("ETag"));
    }
    return response;
  }
}

async function readProblem(response: Response): Promise<Problem> {
  const text = await response.text().catch(() => "");
  try {
    const doc = JSON.parse(text) as Partial<Problem>;
    if (typeof doc === "object" && doc !== null && typeof doc.title === "string") {
      return {
        ...doc,
        type: doc.type ?? "about:blank",
        title: doc.title,
        status: doc.status ?? response.status,
        detail: doc.detail ?? "",
      } as Problem;
    }
  } catch {
    // not JSON: a proxy's page or an empty body, said in our words below
  }
  return {
    type: "about:blank",
    title: response.statusText || `HTTP ${response.status}`,
    status: response.status,
    detail: "",
  };
}
