/**
 * One EMR cluster, mounted at /clusters: GET /:id (the detail page with the connection string),
 * GET /:id/panel (the htmx fragment it polls), POST /:id/policy and /:id/keep-alive (its policy
 * panel's forms, detail.tsx). Terminate is the seed-style URL in compat.tsx.
 */
import type { Hono } from "hono";
import type { Deps } from "../lib/deps.ts";
import { clusterPanelView } from "../lib/views/cluster.ts";
import type { AppEnv } from "./context.ts";
import { detailRoutes } from "./detail.tsx";
import { ClusterPage, ClusterPanel } from "./ui/ClusterPanel.tsx";

export function clusterRoutes(deps: Deps): Hono<AppEnv> {
	return detailRoutes(deps, { kind: "cluster", load: clusterPanelView, Page: ClusterPage, Panel: ClusterPanel });
}
