// The UI in Korean, English and Japanese. en.ts holds every message and defines the keys;
// ko.ts and ja.ts must translate every one (the type says so). Values may name {vars}.

import { createContext } from "preact";
import { useContext } from "preact/hooks";
import { en, type Messages } from "./en";
export { hasMessage } from "./keys";
import { ja } from "./ja";
import { ko } from "./ko";

export const LANGUAGES = { ko: "한국어", en: "English", ja: "日本語" } as const;
export type UiLanguage = keyof typeof LANGUAGES;
const CATALOGS: Record<UiLanguage, Messages> = { en, ko, ja };
const STORE = "tale.language";

export type Translate = (key: keyof Messages, vars?: Record<string, string | number>) => string;

export function translator(language: UiLanguage): Translate {
  const catalog = CATALOGS[language];
  return (key, vars) => {
    // A key made from an API value we have no words for (a new stage) shows the value.
    const text = catalog[key] ?? en[key] ?? String(key).slice(String(key).lastIndexOf(".") + 1);
    if (!vars) return text;
    // {n|one|other}: the word for one, or for any other number (English needs it).
    return text
      .replace(/\{(\w+)\|([^|}]*)\|([^}]*)\}/g, (_, name: string, one: string, other: string) =>
        vars[name] === 1 ? one : other,
      )
      .replace(/\{(\w+)\}/g, (all, name: string) => String(vars[name] ?? all));
  };
}

export function initialLanguage(
  stored: string | null = safeGet(),
  preferred: readonly string[] = navigator.languages ?? [navigator.language],
): UiLanguage {
  if (stored && stored in CATALOGS) return stored as UiLanguage;
  for (const tag of preferred) {
    const base = tag.toLowerCase().split("-")[0];
    if (base && base in CATALOGS) return base as UiLanguage;
  }
  return "en";
}

export function rememberLanguage(language: UiLanguage): void {
  try {
    localStorage.setItem(STORE, language);
  } catch {
    // private mode: the choice lasts this page
  }
}

function safeGet(): string | null {
  try {
    return localStorage.getItem(STORE);
  } catch {
    return null;
  }
}

export interface I18n {
  language: UiLanguage;
  t: Translate;
  setLanguage: (language: UiLanguage) => void;
  /** Numbers, money and dates in the UI's language. */
  number: (value: number, options?: Intl.NumberFormatOptions) => string;
  date: (seconds: number) => string;
}

export function makeI18n(language: UiLanguage, setLanguage: (l: UiLanguage) => void): I18n {
  const locale = { ko: "ko-KR", en: "en-US", ja: "ja-JP" }[language];
  return {
    language,
    t: translator(language),
    setLanguage,
    number: (value, options) => new Intl.NumberFormat(locale, options).format(value),
    date: (seconds) =>
      new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" }).format(
        new Date(seconds * 1000),
      ),
  };
}

export const I18nContext = createContext<I18n>(makeI18n("en", () => {}));

export function useI18n(): I18n {
  return useContext(I18nContext);
}
