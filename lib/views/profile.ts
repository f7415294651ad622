/** The profile page's data: who the portal thinks the viewer is, their groups and their recent launches. */
import type { Viewer } from "../auth/identify.ts";
import { groupsOf } from "../db/catalog.ts";
import { recentLaunches } from "../db/launches.ts";
import type { LaunchStatus } from "../db/schema.ts";
import type { Deps } from "../deps.ts";

/** The profile page. */
export interface ProfileProps {
	username: string;
	name: string;
	email: string;
	role: Viewer["role"];
	/** The names of the viewer's groups. */
	groups: string[];
	launches: { href: string; createdAt: Date; stackName: string; status: LaunchStatus; reason: string | null }[];
	timeZone: string;
}

/** How many launches the profile lists. */
const RECENT_LAUNCHES = 10;

export async function profileView(deps: Deps, viewer: Viewer): Promise<ProfileProps> {
	const [groups, launches] = await Promise.all([
		groupsOf(deps.db, viewer.id),
		recentLaunches(deps.db, viewer.id, RECENT_LAUNCHES),
	]);
	return {
		username: viewer.username,
		name: viewer.name,
		email: viewer.email,
		role: viewer.role,
		groups: groups.map((g) => g.name),
		launches: launches.map((l) => ({
			href: `/launches/${l.id}`,
			createdAt: l.createdAt,
			stackName: l.stackName,
			status: l.status,
			reason: l.reason,
		})),
		timeZone: deps.settings.TIME_ZONE,
	};
}
