/**
 * The parts of Kibana's browser core the plugin uses, declared here (Kibana's types are not available outside its
 * tree): application registration and mount parameters, http, toasts, breadcrumbs. `provmon ui` provides the same
 * shapes (sensor/src/ui/core-shim.ts), tested in Chromium.
 */
export interface ScopedHistory {
  location: { pathname: string; search: string };
  push(path: string): void;
  replace(path: string): void;
  listen(listener: (location: { pathname: string; search: string }) => void): () => void;
  createHref(location: { pathname: string; search?: string }): string;
}

export interface AppMountParameters {
  element: HTMLElement;
  history: ScopedHistory;
  theme$?: { subscribe(next: (theme: { darkMode: boolean }) => void): { unsubscribe(): void } };
}

export interface HttpFetchError extends Error {
  body?: { message?: string; statusCode?: number };
}

export interface CoreStart {
  http: { get<T>(path: string, options?: { query?: Record<string, string> }): Promise<T>; basePath: { prepend(path: string): string } };
  notifications: { toasts: { addDanger(toast: { title: string; text?: string } | string): unknown; addSuccess(toast: { title: string } | string): unknown } };
  chrome: { setBreadcrumbs(crumbs: { text: string; href?: string }[]): void; docTitle: { change(title: string): void } };
  application: { navigateToApp(appId: string, options?: { path?: string }): Promise<void> };
}

export interface AppDefinition {
  id: string;
  title: string;
  order?: number;
  euiIconType?: string;
  category?: { id: string; label: string; euiIconType?: string; order?: number };
  mount(params: AppMountParameters): Promise<() => void>;
}

export interface CoreSetup {
  application: { register(app: AppDefinition): void };
  getStartServices(): Promise<[CoreStart, unknown, unknown]>;
}
