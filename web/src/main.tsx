import { render } from 'preact';
import { useState } from 'preact/hooks';
import { api, ok } from './api';
import { FlowPage, FlowsPage } from './pages/flows';
import { HooksPage } from './pages/hooks';
import { InboundsPage } from './pages/inbounds';
import { OutboundsPage } from './pages/outbounds';
import { ProcessPage, ProcessesPage } from './pages/processes';
import { SimulatorPage } from './pages/simulator';
import { TenantsPage } from './pages/tenants';
import { href, useRoute } from './router';
import { credentials, signIn, signOut, type Credentials } from './session';
import './style.css';
import { ErrorBox, toApiError } from './ui';
import type { ApiError } from './api';

const TENANT_PAGES = [
  ['simulator', 'Chat simulator'],
  ['processes', 'Processes'],
  ['flows', 'Flows'],
  ['inbounds', 'Inbounds'],
  ['outbounds', 'Outbounds'],
  ['hooks', 'Hooks'],
] as const;

function SignIn({ onSignedIn }: { onSignedIn(c: Credentials): void }) {
  const [kind, setKind] = useState<Credentials['kind']>('key');
  const [secret, setSecret] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const c = { kind, secret: secret.trim() };
    signIn(c);
    try {
      // The credentials are checked by a read they allow.
      if (kind === 'key') await ok(api.GET('/v1/settings'));
      else await ok(api.GET('/v1/admin/tenants', { params: { query: { limit: 1 } } }));
      onSignedIn(c);
    } catch (err) {
      signOut();
      setError(toApiError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <h1>Testigo console</h1>
      <form onSubmit={submit}>
        <fieldset>
          <legend>Sign in with</legend>
          <label>
            <input type="radio" name="kind" checked={kind === 'key'} onChange={() => setKind('key')} /> an API key
          </label>
          <label>
            <input type="radio" name="kind" checked={kind === 'admin'} onChange={() => setKind('admin')} /> the admin token
          </label>
        </fieldset>
        <label for="secret">{kind === 'key' ? 'API key' : 'Admin token'}</label>
        <input id="secret" type="password" autocomplete="off" required value={secret} onInput={(e) => setSecret(e.currentTarget.value)} />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        <ErrorBox error={error} />
        <p class="hint">Kept in this browser tab only (sessionStorage), sent as the Truora-API-Key header.</p>
      </form>
    </main>
  );
}

function Page({ route, admin }: { route: string[]; admin: boolean }) {
  const [page, id] = route;
  if (admin) return <TenantsPage />;
  switch (page) {
    case 'processes':
      return id ? <ProcessPage id={id} /> : <ProcessesPage />;
    case 'flows':
      return id ? <FlowPage id={id} /> : <FlowsPage />;
    case 'inbounds':
      return <InboundsPage />;
    case 'outbounds':
      return <OutboundsPage />;
    case 'hooks':
      return <HooksPage />;
    default:
      return <SimulatorPage />;
  }
}

function App() {
  const [signedIn, setSignedIn] = useState<Credentials | null>(credentials);
  const route = useRoute();
  if (!signedIn) return <SignIn onSignedIn={setSignedIn} />;
  const admin = signedIn.kind === 'admin';
  const current = route[0] ?? (admin ? 'tenants' : 'simulator');
  const pages = admin ? ([['tenants', 'Tenants']] as const) : TENANT_PAGES;
  return (
    <>
      <header>
        <a class="brand" href={href(admin ? 'tenants' : 'simulator')}>
          Testigo
        </a>
        <nav aria-label="Console">
          {pages.map(([path, label]) => (
            <a key={path} href={href(path)} aria-current={current === path ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <button
          type="button"
          class="link"
          onClick={() => {
            signOut();
            setSignedIn(null);
          }}
        >
          Sign out
        </button>
      </header>
      <main>
        <Page route={route} admin={admin} />
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
