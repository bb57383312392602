import { en, type Messages } from "./en";

export function hasMessage(key: string): key is keyof Messages {
  return Object.prototype.hasOwnProperty.call(en, key);
}
