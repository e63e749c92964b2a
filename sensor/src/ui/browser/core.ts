/**
 * The parts of Kibana's browser core the provmon plugin uses, for `provmon ui`: it reads the plugin from
 * `__kbnBundles__` exactly as Kibana does, runs setup and start, and mounts the registered application at
 * /app/<id> with a scoped history, `http` (the routes' JSON, errors as IHttpFetchError-like objects), toasts
 * (EUI's global toast list) and breadcrumbs. React and EUI come from `__kbnSharedDeps__`, like the plugin's.
 */
import { EuiBreadcrumbs, EuiGlobalToastList, EuiHeader, EuiHeaderSection, EuiHeaderSectionItem, EuiProvider } from '@elastic/eui';
import React from 'react';
import ReactDOM from 'react-dom';

const h = React.createElement as unknown as (type: unknown, props?: object | null, ...children: unknown[]) => React.ReactElement;

interface Boot {
  bundleKey: string;
  appId: string;
  kibanaVersion: string;
  pluginVersion: string;
}

interface Toast {
  id: string;
  title: string;
  text?: string;
  color: 'danger' | 'success';
  'data-test-subj': string;
}

const boot = JSON.parse(document.getElementById('provmon-boot')!.textContent ?? '{}') as Boot;
const appBase = `/app/${boot.appId}`;
let toasts: Toast[] = [];
let crumbs: { text: string; href?: string }[] = [];
let toastSeq = 0;

function renderChrome(): void {
  ReactDOM.render(
    h(
      EuiProvider,
      { colorMode: 'light' },
      h(EuiHeader, null, h(EuiHeaderSection, null, h(EuiHeaderSectionItem, null, h(EuiBreadcrumbs, { breadcrumbs: crumbs, 'data-test-subj': 'provmonBreadcrumbs' })))),
      h(EuiGlobalToastList, { toasts, dismissToast: (t: Toast) => ((toasts = toasts.filter((x) => x.id !== t.id)), renderChrome()), toastLifeTimeMs: 15_000 }),
    ),
    document.getElementById('provmon-chrome'),
  );
}

function addToast(input: { title: string; text?: string } | string, color: Toast['color']): Toast {
  const t = typeof input === 'string' ? { title: input } : input;
  const toast: Toast = { id: `t${++toastSeq}`, title: t.title, ...(t.text ? { text: t.text } : {}), color, 'data-test-subj': color === 'danger' ? 'provmonToastDanger' : 'provmonToast' };
  toasts = [...toasts, toast];
  renderChrome();
  return toast;
}

class HttpFetchError extends Error {
  constructor(
    message: string,
    readonly body: { message?: string; statusCode?: number } | undefined,
  ) {
    super(message);
  }
}

async function get<T>(path: string, options: { query?: Record<string, string> } = {}): Promise<T> {
  const qs = new URLSearchParams(options.query ?? {}).toString();
  const res = await fetch(`${path}${qs ? `?${qs}` : ''}`, { headers: { accept: 'application/json', 'kbn-xsrf': 'provmon' }, credentials: 'same-origin' });
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = { message: text.slice(0, 500) };
  }
  if (!res.ok) throw new HttpFetchError(`${res.status} ${res.statusText}`, body as { message?: string; statusCode?: number });
  return body as T;
}

type Listener = (location: { pathname: string; search: string }) => void;
const listeners = new Set<Listener>();
const current = () => ({ pathname: window.location.pathname.slice(appBase.length) || '/', search: window.location.search });
const notify = () => listeners.forEach((l) => l(current()));
window.addEventListener('popstate', notify);
const full = (path: string) => `${appBase}${path.startsWith('/') ? path : `/${path}`}`;

const history = {
  get location() {
    return current();
  },
  push(path: string) {
    window.history.pushState(null, '', full(path));
    notify();
  },
  replace(path: string) {
    window.history.replaceState(null, '', full(path));
    notify();
  },
  listen(l: Listener) {
    listeners.add(l);
    return () => listeners.delete(l);
  },
  createHref(l: { pathname: string; search?: string }) {
    return `${full(l.pathname)}${l.search ?? ''}`;
  },
};

const coreStart = {
  http: { get, basePath: { prepend: (p: string) => p } },
  notifications: { toasts: { addDanger: (t: { title: string; text?: string } | string) => addToast(t, 'danger'), addSuccess: (t: { title: string } | string) => addToast(t, 'success') } },
  chrome: {
    setBreadcrumbs(c: { text: string; href?: string }[]) {
      crumbs = c;
      renderChrome();
    },
    docTitle: { change: (title: string) => (document.title = title) },
  },
  application: { navigateToApp: async (_id: string, o: { path?: string } = {}) => history.push(o.path ?? '/') },
};

interface App {
  id: string;
  mount(params: { element: HTMLElement; history: typeof history }): Promise<() => void>;
}

async function start(): Promise<void> {
  renderChrome();
  const mod = (window as unknown as { __kbnBundles__: { get(key: string): { plugin(ctx: unknown): { setup(core: unknown): unknown; start(core: unknown): unknown } } } }).__kbnBundles__.get(boot.bundleKey);
  const instance = mod.plugin({ env: { mode: { dev: false, prod: true }, packageInfo: { version: boot.kibanaVersion } }, config: { get: () => ({}) } });
  const apps: App[] = [];
  instance.setup({ application: { register: (app: App) => apps.push(app) }, getStartServices: async () => [coreStart, {}, {}] });
  instance.start(coreStart);
  const app = apps.find((a) => a.id === boot.appId);
  if (!app) throw new Error(`the plugin registered no application ${boot.appId}`);
  const element = document.getElementById('provmon-app')!;
  await app.mount({ element, history });
  element.setAttribute('data-provmon-mounted', 'true');
}

start().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  document.getElementById('provmon-app')!.textContent = `provmon could not start: ${message}`;
  addToast({ title: 'provmon could not start', text: message }, 'danger');
});
