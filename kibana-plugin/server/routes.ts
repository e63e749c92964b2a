/** Every provmon route, in one list: the Kibana plugin and `provmon ui` both register exactly these. */
import { entityRoute } from './entity-route.ts';
import { eventsRoute } from './events-route.ts';
import { flowsRoute } from './flows-route.ts';
import { graphRoute } from './graph-route.ts';
import type { RouteDefinition } from './http.ts';
import { narrativeRoute } from './narrative-route.ts';
import { overviewRoute } from './overview-route.ts';

export const ROUTES: readonly RouteDefinition[] = [graphRoute, eventsRoute, entityRoute, overviewRoute, flowsRoute, narrativeRoute];
