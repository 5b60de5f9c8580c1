/**
 * Where the example finds its API and token: `?api=http://localhost:4000&token=<jwt>` (what
 * `npm start` prints), else what was pasted before (localStorage). These are examples, not an
 * identity provider: a real app gets its token from the login it already has.
 */
export interface Session {
  api: string;
  token: string | null;
}

const TOKEN_KEY = 'loyalty-example-token';

export function readSession(storageKey: string): Session {
  const params = new URLSearchParams(window.location.search);
  const api = (params.get('api') ?? 'http://localhost:4000').replace(/\/$/, '');
  const fromUrl = params.get('token');
  if (fromUrl) localStorage.setItem(`${TOKEN_KEY}:${storageKey}`, fromUrl);
  return { api, token: fromUrl ?? localStorage.getItem(`${TOKEN_KEY}:${storageKey}`) };
}

export function saveToken(storageKey: string, token: string): void {
  localStorage.setItem(`${TOKEN_KEY}:${storageKey}`, token.trim());
}

export function forgetToken(storageKey: string): void {
  localStorage.removeItem(`${TOKEN_KEY}:${storageKey}`);
}
