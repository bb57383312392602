import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { ApiClient } from "./api/client";
import type { Auth, Session } from "./auth/session";
import type { RuntimeConfig } from "./config";

export interface AppServices {
  config: RuntimeConfig;
  auth: Auth;
  api: ApiClient;
  session: Session | null;
}

export const AppContext = createContext<AppServices | null>(null);

export function useApp(): AppServices {
  const app = useContext(AppContext);
  if (!app) throw new Error("useApp outside the app");
  return app;
}
