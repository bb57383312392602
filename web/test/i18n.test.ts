import { describe, expect, it } from "vitest";
import { initialLanguage, translator } from "../src/i18n";
import { en } from "../src/i18n/en";
import { ja } from "../src/i18n/ja";
import { ko } from "../src/i18n/ko";

const names = (text: string) => [...text.matchAll(/\{(\w+)[}|]/g)].map((m) => m[1]).sort();

describe("catalogs", () => {
  for (const [code, catalog] of Object.entries({ ko, ja })) {
    it(`${code} translates every message, naming the same values`, () => {
      expect(Object.keys(catalog).sort()).toEqual(Object.keys(en).sort());
      for (const [key, text] of Object.entries(en)) {
        expect(new Set(names((catalog as Record<string, string>)[key]!)), key).toEqual(new Set(names(text)));
      }
    });
  }

  it("fills values and English plurals", () => {
    const t = translator("en");
    expect(t("estimate.credits", { credits: 1, balance: 16 })).toBe("Cost: 1 credit (you have 16)");
    expect(t("estimate.credits", { credits: 3, balance: 16 })).toBe("Cost: 3 credits (you have 16)");
    expect(translator("ko")("estimate.credits", { credits: 1, balance: 16 })).toBe("비용: 1 크레딧 (보유 16)");
  });

  it("shows the value of a key made from an API value it has no words for", () => {
    expect(translator("en")("stage.brand-new" as "stage.unknown")).toBe("brand-new");
  });

  it("starts in the stored language, else the browser's, else English", () => {
    expect(initialLanguage("ja", ["ko-KR"])).toBe("ja");
    expect(initialLanguage(null, ["ko-KR", "en"])).toBe("ko");
    expect(initialLanguage(null, ["fr-FR"])).toBe("en");
  });
});
