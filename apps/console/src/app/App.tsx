import { useEffect, useState } from 'react';
import { setApiKey, whenUnauthorized } from '../api/client';
import { signOut, storedApiKey } from '../auth/session';
import { SignInPage } from '../auth/SignInPage';
import { AnalyticsPage } from '../features/analytics/AnalyticsPage';
import { CustomerPage } from '../features/customers/CustomerPage';
import { CustomersPage } from '../features/customers/CustomersPage';
import { JourneyPage } from '../features/journeys/JourneyPage';
import { JourneysPage } from '../features/journeys/JourneysPage';
import { MessagesPage } from '../features/messages/MessagesPage';
import { ProgramPage } from '../features/program/ProgramPage';
import { TemplatesPage } from '../features/templates/TemplatesPage';
import { href, useRoute, type Route } from './route';

const NAV = [
  ['customers', 'Customers'],
  ['journeys', 'Journeys'],
  ['messages', 'Messages'],
  ['templates', 'Templates'],
  ['program', 'Program'],
  ['analytics', 'Analytics'],
] as const;

function Page({ route }: { route: Route }) {
  const [id] = route.params;
  switch (route.page) {
    case 'customers':
      return id ? <CustomerPage customerId={id} /> : <CustomersPage query={route.query.get('query') ?? ''} />;
    case 'journeys':
      return id ? <JourneyPage journeyKey={id} step={route.query.get('step')} /> : <JourneysPage />;
    case 'messages':
      return <MessagesPage messageId={id} filters={route.query} />;
    case 'templates':
      return <TemplatesPage template={id} customerId={route.query.get('customer') ?? ''} />;
    case 'program':
      return <ProgramPage />;
    case 'analytics':
      return <AnalyticsPage journeyKey={id} />;
    default:
      return <p role="alert">No page {route.page}.</p>;
  }
}

export function App() {
  const route = useRoute();
  const [key, setKey] = useState<string | null>(() => storedApiKey());
  setApiKey(key);
  useEffect(() => {
    whenUnauthorized(() => {
      signOut();
      setKey(null);
    });
  }, []);
  if (!key) return <SignInPage onSignedIn={setKey} />;
  return (
    <div className="shell">
      <header>
        <span className="brand">Milestone console</span>
        <nav aria-label="Pages">
          {NAV.map(([page, label]) => (
            <a key={page} href={href(page)} aria-current={route.page === page ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <button
          type="button"
          className="quiet"
          onClick={() => {
            signOut();
            setKey(null);
          }}
        >
          Sign out
        </button>
      </header>
      <main>
        <Page route={route} />
      </main>
    </div>
  );
}
