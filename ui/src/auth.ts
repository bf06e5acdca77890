// The admin token lives in this module's memory. Only when the operator ticks "stay signed in in
// this tab" is it copied to sessionStorage (gone when the tab closes). Never localStorage, never a
// cookie, never the URL (issue 14).
const SESSION_KEY = 'oms-console-token';

let token: string | null = readSession();
const listeners = new Set<() => void>();

function readSession(): string | null {
  try {
    return sessionStorage.getItem(SESSION_KEY);
  } catch {
    return null;
  }
}

export function currentToken(): string | null {
  return token;
}

export function signIn(value: string, keepInTab: boolean): void {
  token = value;
  if (keepInTab) sessionStorage.setItem(SESSION_KEY, value);
  else sessionStorage.removeItem(SESSION_KEY);
  for (const l of listeners) l();
}

export function signOut(): void {
  token = null;
  sessionStorage.removeItem(SESSION_KEY);
  for (const l of listeners) l();
}

export function onAuthChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
