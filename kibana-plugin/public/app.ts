/**
 * The application shell: EUI provider, one tab per page (each page has its own URL under /app/provmon), and the
 * page for the current location. Classic React (createElement, ReactDOM.render) so it runs on the React 17 of
 * Kibana 8.19 and the React 18 (legacy root) of 9.x alike.
 */
import { EuiPageSection, EuiProvider, EuiSpacer, EuiTab, EuiTabs, EuiTitle } from '@elastic/eui';
import React, { useEffect, useState } from 'react';
import ReactDOM from 'react-dom';
import { EventsPage } from './events.ts';
import { FlowsPage } from './flows.ts';
import type { AppMountParameters, CoreStart, ScopedHistory } from './kibana-types.ts';
import { CaseBanner, OfflinePage } from './offline.ts';
import { OverviewPage } from './overview.ts';
import { ProvenancePage, startProvenance, type ProvenanceStart } from './provenance.ts';
import { h } from './h.ts';
import { pushState } from './url-state.ts';


export const PAGES = [
  { id: 'overview', path: '/', title: 'Overview' },
  { id: 'provenance', path: '/provenance', title: 'Provenance' },
  { id: 'events', path: '/events', title: 'Events' },
  { id: 'flows', path: '/flows', title: 'Flows' },
  { id: 'offline', path: '/offline', title: 'Offline analysis' },
] as const;

const PAGE_COMPONENTS: Record<(typeof PAGES)[number]['id'], (props: PageProps) => React.ReactElement> = {
  overview: OverviewPage,
  provenance: ProvenancePage,
  events: EventsPage,
  flows: FlowsPage,
  offline: OfflinePage,
};

export interface PageProps {
  core: CoreStart;
  history: ScopedHistory;
  search: string;
}

function pageOf(pathname: string): (typeof PAGES)[number] {
  return PAGES.find((p) => p.path !== '/' && pathname.startsWith(p.path)) ?? PAGES[0];
}

function App(props: { core: CoreStart; history: ScopedHistory; provenance?: ProvenanceStart }): React.ReactElement {
  const { core, history } = props;
  const [location, setLocation] = useState({ pathname: history.location.pathname, search: history.location.search });
  useEffect(() => history.listen((l) => setLocation({ pathname: l.pathname, search: l.search })), [history]);
  const page = pageOf(location.pathname);
  useEffect(() => {
    core.chrome.setBreadcrumbs([{ text: 'provmon', href: history.createHref({ pathname: '/' }) }, { text: page.title }]);
    core.chrome.docTitle.change(`${page.title} · provmon`);
  }, [page.id]);
  const pageProps: PageProps = { core, history, search: location.search };
  return h(
    EuiPageSection,
    { paddingSize: 'm' },
    h(EuiTitle, { size: 's' }, h('h1', null, 'provmon')),
    h(
      EuiTabs,
      null,
      ...PAGES.map((p) =>
        h(EuiTab, { key: p.id, isSelected: p.id === page.id, onClick: () => pushState(history, p.path, {}), 'data-test-subj': `provmonTab-${p.id}` }, p.title),
      ),
    ),
    h(EuiSpacer, { size: 'm' }),
    h(CaseBanner, { history, search: location.search }),
    page.id === 'provenance' ? h(ProvenancePage, { ...pageProps, start: props.provenance }) : h(PAGE_COMPONENTS[page.id], pageProps),
  );
}

export function mountApp(core: CoreStart, params: AppMountParameters): () => void {
  let darkMode = false;
  // Opened on a provenance URL: its graph is requested before the app's first render, not after it.
  const { pathname, search } = params.history.location;
  const provenance = pageOf(pathname).id === 'provenance' ? startProvenance(core, search) : undefined;
  const render = () =>
    ReactDOM.render(h(EuiProvider, { colorMode: darkMode ? 'dark' : 'light', globalStyles: false, utilityClasses: false }, h(App, { core, history: params.history, provenance })), params.element);
  const sub = params.theme$?.subscribe((t) => {
    darkMode = t.darkMode;
    render();
  });
  render();
  return () => {
    sub?.unsubscribe();
    ReactDOM.unmountComponentAtNode(params.element);
  };
}
