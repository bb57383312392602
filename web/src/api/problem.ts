// RFC 9457 problem documents, as the API answers every error, and their words for people.

import type { Messages } from "../i18n/en";
import { hasMessage } from "../i18n/keys";

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: unknown;
  [extra: string]: unknown;
}

export const PROBLEM_BASE = "https://tale.dev/problems/";

export class ApiError extends Error {
  constructor(
    readonly problem: Problem,
    /** The current version, when a conditional request lost (412). */
    readonly etag: string | null = null,
  ) {
    super(problem.detail || problem.title);
    this.name = "ApiError";
  }

  get status(): number {
    return this.problem.status;
  }

  /** The problem's kind: the last part of its type (`not-found`, `insufficient-credits`). */
  get kind(): string {
    const type = this.problem.type;
    return type.startsWith(PROBLEM_BASE) ? type.slice(PROBLEM_BASE.length) : type;
  }
}

export function networkProblem(detail: string): Problem {
  return { type: `${PROBLEM_BASE}network`, title: "Network error", status: 0, detail };
}

/** A headline in the reader's language for a problem, with the API's own detail under it. */
export function problemWords(
  error: unknown,
  t: (key: keyof Messages) => string,
): { title: string; detail: string } {
  if (!(error instanceof ApiError)) {
    return { title: t("problem.unexpected"), detail: String((error as Error)?.message ?? error) };
  }
  const key = `problem.${error.kind}`;
  const byStatus = `problem.status${Math.floor(error.status / 100)}xx`;
  const title = hasMessage(key) ? t(key) : hasMessage(byStatus) ? t(byStatus) : error.problem.title;
  return { title, detail: error.problem.detail };
}
