// The typed API client. Every path, method, parameter, body and answer comes from
// schema.d.ts, which openapi-typescript generates from schemas/openapi.json
// (`npm run gen:api`; tests/web/test_web_build.py fails when it is stale). What the client
// adds: the bearer token, problem documents turned into ApiError, the ETag of an answer (a
// storyboard's version, for If-Match), and one place that notices an expired session.

import type { components, paths } from "./schema";
import { ApiError, type Problem, networkProblem } from "./problem";

export type Schemas = components["schemas"];
type Method = "get" | "post" | "patch" | "put" | "delete";

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

export interface UploadOptions<O> {
  path: PathOf<O>;
  /** The file, sent as it is (not JSON). */
  body: Blob;
  /** What it is sent as; a type the endpoint does not take is its 415 to answer. */
  contentType: string;
  /** Bytes sent so far and in all, as the browser reports them. */
  onProgress?: (sent: number, total: number) => void;
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
   * PUT a file as the raw request body (`Content-Type` as given), reporting the upload's
   * progress. Answers the JSON body with its status (201 created, 200 replaced).
   */
  async upload<P extends PathsWith<"put">>(
    path: P,
    options: UploadOptions<Operation<P, "put">>,
  ): Promise<Answer<Success<Operation<P, "put">>>> {
    const url = this.config.base + fillPath(path, options.path as Record<string, unknown>);
    const headers: Record<string, string> = {
      Accept: "application/json, application/problem+json",
      ...(await this.authHeaders()),
      "Content-Type": options.contentType,
    };
    // A test's fetch stands in for the network; a browser uploads with progress events.
    const response =
      this.config.fetch || typeof XMLHttpRequest === "undefined"
        ? await this.transmit(url, { method: "PUT", headers, body: options.body, signal: options.signal ?? null })
        : await xhrUpload("PUT", url, headers, options);
    await this.check(response);
    const data = (await response.json()) as Success<Operation<P, "put">>;
    return { data, status: response.status, etag: response.headers.get("ETag") };
  }

  /** DELETE; its status (204: done, also when there was nothing to delete). */
  async delete<P extends PathsWith<"delete">>(path: P, options: Options<Operation<P, "delete">> = {}): Promise<number> {
    const url = this.config.base + fillPath(path, options.path as Record<string, unknown> | undefined);
    const response = await this.send("DELETE", url, undefined, options);
    return response.status;
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
    const response = await this.transmit(url, init);
    await this.check(response);
    return response;
  }

  private async transmit(url: string, init: RequestInit): Promise<Response> {
    try {
      return await (this.config.fetch ?? fetch)(url, init);
    } catch (exc) {
      if ((exc as Error).name === "AbortError") throw exc;
      throw new ApiError(networkProblem(String(exc)));
    }
  }

  /** A problem document as an ApiError (and a refused token as the end of the session). */
  private async check(response: Response): Promise<void> {
    if (response.ok) return;
    const problem = await readProblem(response);
    if (response.status === 401) this.config.onUnauthorized?.();
    throw new ApiError(problem, response.headers.get("ETag"));
  }
}

/** An upload by XMLHttpRequest, whose `upload` reports progress, answered as a Response. */
function xhrUpload(
  method: string,
  url: string,
  headers: Record<string, string>,
  options: { body: Blob; onProgress?: (sent: number, total: number) => void; signal?: AbortSignal },
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const { body, onProgress, signal } = options;
    if (signal?.aborted) {
      reject(new DOMException("The upload was aborted.", "AbortError"));
      return;
    }
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => onProgress?.(e.loaded, e.lengthComputable ? e.total : body.size);
    xhr.onload = () => {
      const answer = new Headers();
      for (const line of xhr.getAllResponseHeaders().trim().split(/[\r\n]+/)) {
        const at = line.indexOf(":");
        if (at > 0) answer.append(line.slice(0, at).trim(), line.slice(at + 1).trim());
      }
      const empty = xhr.status === 204 || xhr.status === 205 || xhr.status === 304;
      resolve(
        new Response(empty ? null : xhr.responseText, { status: xhr.status, statusText: xhr.statusText, headers: answer }),
      );
    };
    xhr.onerror = () => reject(new ApiError(networkProblem(`${method} ${url} failed`)));
    xhr.onabort = () => reject(new DOMException("The upload was aborted.", "AbortError"));
    signal?.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.send(body);
  });
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
