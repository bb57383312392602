// A tale's progress as server-sent events (GET /v1/tales/{id}/events). EventSource cannot
// send an Authorization header, so the stream is read with fetch: the same wire format,
// parsed here, reconnecting with Last-Event-ID after the server's `retry` as EventSource would.

import type { ApiClient, Schemas } from "./client";
import { ApiError } from "./problem";

export interface StreamHandlers {
  tale?: (data: Schemas["TaleProgress"]) => void;
  shot?: (data: Schemas["ShotProgress"]) => void;
  log?: (data: Schemas["LogLine"]) => void;
  end?: (data: Schemas["StreamEnd"]) => void;
  /** The stream is (re)connected, or lost (a retry follows). */
  connection?: (connected: boolean) => void;
  /** A problem that ends following (404, 401): no retry. */
  error?: (error: ApiError) => void;
}

export interface SseEvent {
  id: string | null;
  event: string;
  data: string;
  retry: number | null;
}

/** Parses the text of an event stream incrementally: feed chunks, get whole events. */
export class SseParser {
  private buffer = "";
  private id: string | null = null;
  private event = "";
  private data: string[] = [];
  private retry: number | null = null;

  feed(chunk: string): SseEvent[] {
    this.buffer += chunk;
    const out: SseEvent[] = [];
    let newline: number;
    while ((newline = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      // A CR that ends the chunk may be the first half of a CRLF: wait for the next one.
      if (newline === this.buffer.length - 1 && this.buffer.endsWith("\r")) break;
      const line = this.buffer.slice(0, newline);
      const width = this.buffer.startsWith("\r\n", newline) ? 2 : 1;
      this.buffer = this.buffer.slice(newline + width);
      const event = this.line(line);
      if (event) out.push(event);
    }
    return out;
  }

  private line(line: string): SseEvent | null {
    if (line === "") {
      const hasData = this.data.length > 0;
      const event: SseEvent = {
        id: this.id,
        event: this.event || "message",
        data: this.data.join("\n"),
        retry: this.retry,
      };
      this.event = "";
      this.data = [];
      this.retry = null;
      return hasData || event.retry !== null ? event : null;
    }
    if (line.startsWith(":")) return null; // a comment: keep-alive
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    else if (field === "id" && !value.includes("\0")) this.id = value;
    else if (field === "retry" && /^\d+$/.test(value)) this.retry = Number(value);
    return null;
  }
}

/** Follow a tale until its `end` event or until `signal` aborts. */
export async function followTale(
  api: ApiClient,
  taleId: string,
  handlers: StreamHandlers,
  signal: AbortSignal,
  fetcher: typeof fetch = fetch,
): Promise<void> {
  let lastId: string | null = null;
  let retryMs = 3000;
  const path = `/v1/tales/${encodeURIComponent(taleId)}/events`;
  while (!signal.aborted) {
    let ended = false;
    try {
      const headers: Record<string, string> = {
        Accept: "text/event-stream",
        ...(await api.authHeaders()),
      };
      if (lastId) headers["Last-Event-ID"] = lastId;
      const response = await fetcher(api.base + path, { headers, signal, cache: "no-store" });
      if (!response.ok) {
        const problem = await response.json().catch(() => ({}));
        const error = new ApiError({
          type: "about:blank",
          title: response.statusText,
          detail: "",
          ...problem,
          status: response.status,
        });
        if (response.status < 500 && response.status !== 429) {
          handlers.error?.(error);
          return;
        }
        throw error;
      }
      handlers.connection?.(true);
      const parser = new SseParser();
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const event of parser.feed(value)) {
          if (event.retry !== null) retryMs = event.retry;
          if (event.id !== null) lastId = event.id;
          if (!event.data) continue;
          const data = JSON.parse(event.data);
          if (event.event === "tale") handlers.tale?.(data);
          else if (event.event === "shot") handlers.shot?.(data);
          else if (event.event === "log") handlers.log?.(data);
          else if (event.event === "end") {
            ended = true;
            handlers.end?.(data);
          }
        }
      }
    } catch (exc) {
      if (signal.aborted) return;
      handlers.connection?.(false);
    }
    if (ended) return;
    await sleep(retryMs, signal);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
