import { useEffect, useState } from 'preact/hooks';
import { currentToken, onAuthChange, signOut } from './auth';
import { useHashRoute } from './hooks';
import { Login } from './pages/login';
import { OverviewPage } from './pages/overview';
import { MetersPage } from './pages/meters';
import { MeterPage } from './pages/meter';
import { KeysPage } from './pages/keys';
import { GatewaysPage } from './pages/gateways';
import { TelegramsPage } from './pages/telegrams';
import { TelegramPage } from './pages/telegram';
import { InspectorPage } from './pages/inspector';

const NAV = [
  ['/overview', 'Overview'],
  ['/meters', 'Meters'],
  ['/keys', 'Keys'],
  ['/gateways', 'Gateways'],
  ['/telegrams', 'Telegrams'],
  ['/inspector', 'Inspector'],
] as const;

function page(path: string, query: URLSearchParams) {
  const [, first, second] = path.split('/');
  const id = second === undefined ? undefined : decodeURIComponent(second);
  switch (first) {
    case 'meters': return id ? <MeterPage meterId={id} /> : <MetersPage />;
    case 'keys': return <KeysPage />;
    case 'gateways': return <GatewaysPage />;
    case 'telegrams': return id ? <TelegramPage ingestId={id} /> : <TelegramsPage key={query.toString()} query={query} />;
    case 'inspector': return <InspectorPage />;
    default: return <OverviewPage />;
  }
}

export function App() {
  const [signedIn, setSignedIn] = useState(currentToken() !== null);
  useEffect(() => onAuthChange(() => setSignedIn(currentToken() !== null)), []);
  const route = useHashRoute();
  const [path = '/overview', search = ''] = route.split('?');
  const section = `/${path.split('/')[1] ?? ''}`;
  const title = NAV.find(([href]) => href === section)?.[1] ?? 'Overview';

  useEffect(() => {
    document.title = signedIn ? `${title} · oms-parser-bridge` : 'Sign in · oms-parser-bridge';
    // Move focus to the new page's heading so keyboard and screen-reader users land on the content.
    document.querySelector<HTMLElement>('main h1')?.focus();
  }, [route, signedIn, title]);

  if (!signedIn) return <Login />;
  return (
    <>
      <button type="button" class="skip" onClick={() => document.getElementById('content')?.focus()}>Skip to content</button>
      <header class="top">
        <span class="brand">oms-parser-bridge</span>
        <nav aria-label="Console">
          <ul>
            {NAV.map(([href, label]) => (
              <li key={href}>
                <a href={`#${href}`} aria-current={section === href ? 'page' : undefined}>{label}</a>
              </li>
            ))}
          </ul>
        </nav>
        <button type="button" class="link" onClick={signOut}>Sign out</button>
      </header>
      <main id="content" tabIndex={-1}>{page(path, new URLSearchParams(search))}</main>
    </>
  );
}
