// Routes live in the URL's hash (#/tales/ID): the same build works from `tale serve` and from
// a bucket behind a CDN, which cannot rewrite unknown paths to index.html (a 404 page would
// answer with status 404), and Supabase's PKCE sign-in comes back as ?code=, not a hash.

import { useEffect, useState } from "preact/hooks";

export type Route =
  | { page: "tales" }
  | { page: "new"; trend?: string; idea?: number }
  | { page: "tale"; id: string }
  | { page: "account" }
  | { page: "trends" }
  | { page: "sign-in" }
  | { page: "missing"; path: string };

const TALE_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, "") || "/";
  const [pathname = "/", search = ""] = path.split("?", 2);
  const parts = pathname.split("/").filter(Boolean);
  if (parts.length === 0) return { page: "tales" };
  const [first, second] = parts;
  if (parts.length === 1 && first === "new") {
    const query = new URLSearchParams(search);
    const trend = query.get("trend");
    const idea = Number(query.get("idea") ?? "0");
    if (trend && TALE_ID.test(trend) && Number.isInteger(idea) && idea >= 0 && idea < 10) {
      return { page: "new", trend, idea };
    }
    return { page: "new" };
  }
  if (parts.length === 1 && first === "tales") return { page: "tales" };
  if (parts.length === 2 && first === "tales" && second && TALE_ID.test(second)) {
    return { page: "tale", id: second };
  }
  if (parts.length === 1 && first === "account") return { page: "account" };
  if (parts.length === 1 && first === "trends") return { page: "trends" };
  if (parts.length === 1 && first === "sign-in") return { page: "sign-in" };
  return { page: "missing", path: pathname };
}

export function href(route: Route): string {
  switch (route.page) {
    case "tales":
      return "#/";
    case "new":
      return route.trend
        ? `#/new?trend=${encodeURIComponent(route.trend)}&idea=${route.idea ?? 0}`
        : "#/new";
    case "tale":
      return `#/tales/${encodeURIComponent(route.id)}`;
    case "missing":
      return `#${route.path}`;
    default:
      return `#/${route.page}`;
  }
}

export function navigate(route: Route): void {
  location.hash = href(route);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const changed = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", changed);
    return () => removeEventListener("hashchange", changed);
  }, []);
  return route;
}
