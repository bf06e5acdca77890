import { useState } from 'preact/hooks';
import { signIn } from '../auth';
import { api, ApiError, must } from '../client';

/** Sign in with ADMIN_TOKEN: checked with one admin call before the console opens. */
export function Login() {
  const [token, setToken] = useState('');
  const [keep, setKeep] = useState(false);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      must(await api.GET('/v1/admin/audit', { params: { query: { limit: 1 } }, headers: { authorization: `Bearer ${token.trim()}` } }));
      signIn(token.trim(), keep);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'That token is not the admin token.' : `Sign-in failed: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="login">
      <h1>oms-parser-bridge console</h1>
      <form onSubmit={submit}>
        <label for="token">Admin token (ADMIN_TOKEN)</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required value={token}
          onInput={(e) => setToken(e.currentTarget.value)} />
        <label class="check">
          <input type="checkbox" checked={keep} onChange={(e) => setKeep(e.currentTarget.checked)} />
          Stay signed in in this tab (kept in sessionStorage until the tab closes)
        </label>
        <button type="submit" disabled={busy || token.trim() === ''}>{busy ? 'Checking…' : 'Sign in'}</button>
        {error && <p class="error" role="alert">{error}</p>}
      </form>
      <p class="muted">The token stays in this page's memory; it is sent only as an Authorization header to this bridge.</p>
    </main>
  );
}
