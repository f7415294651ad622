/**
 * The profile page's data: who the portal thinks the viewer is, their groups, their recent
 * launches, where they get the machine policies' notices (their channels, with why email
 * cannot reach them when it cannot), and their personal API tokens.
 */
import { type ApiToken, listApiTokens, MAX_TOKEN_DAYS } from "../auth/api_tokens.ts";
import type { Viewer } from "../auth/identify.ts";
import { groupsOf, listGroups } from "../db/catalog.ts";
import { recentLaunches } from "../db/launches.ts";
import type { LaunchStatus } from "../db/schema.ts";
import type { Deps } from "../deps.ts";
import { emailConfigured } from "../notify/email.ts";
import { noticeChannels } from "../policy/notices.ts";

/** The profile page. */
export interface ProfileProps {
	username: string;
	name: string;
	email: string;
	role: Viewer["role"];
	/** The names of the viewer's groups. */
	groups: string[];
	/** The names of the groups the viewer manages by assignment (a global manager manages every group). */
	managedGroups: string[];
	launches: { href: string; createdAt: Date; stackName: string; status: LaunchStatus; reason: string | null }[];
	/** The notice channels' form. */
	channels?: NoticeChannelsProps;
	/** The personal API tokens and the form for a new one. */
	apiTokens?: ApiTokensProps;
	timeZone: string;
}

/** A personal API token as the profile lists it (never the token itself). */
export interface ApiTokenRow {
	id: number;
	name: string;
	prefix: string;
	admin: boolean;
	createdAt: Date;
	expiresAt: Date | null;
	lastUsedAt: Date | null;
	status: "active" | "expired" | "revoked";
	/** Where it is revoked (POST); null once it no longer works. */
	revoke: string | null;
}

/** The profile's API tokens section. */
export interface ApiTokensProps {
	action: string;
	rows: ApiTokenRow[];
	/** Whether the form offers an admin token (admins only; the server refuses it to anyone else). */
	mayMakeAdmin: boolean;
	maxDays: number;
	/** A token just made: its text, shown this once. */
	created?: { name: string; token: string };
	values: { name: string; expiresInDays: string };
	errors: Record<string, string>;
	/** Why the last submission was refused, when it was. */
	message?: string;
}

/** What the token form's last submission was, and what came of it. */
export interface TokenSubmission {
	created?: { name: string; token: string };
	values?: Record<string, unknown>;
	errors?: Record<string, string>;
	message?: string;
}

function tokenRow(token: ApiToken, now: Date): ApiTokenRow {
	const status = token.revokedAt
		? "revoked"
		: token.expiresAt && token.expiresAt.getTime() <= now.getTime()
		? "expired"
		: "active";
	return {
		id: token.id,
		name: token.name,
		prefix: token.prefix,
		admin: token.admin,
		createdAt: token.createdAt,
		expiresAt: token.expiresAt,
		lastUsedAt: token.lastUsedAt,
		status,
		revoke: status === "active" ? `/profile/tokens/${token.id}/revoke` : null,
	};
}

const shownValue = (value: unknown) => typeof value === "string" ? value.slice(0, 100) : "";

/** Where the viewer gets the machine policies' notices, as a form. */
export interface NoticeChannelsProps {
	action: string;
	banner: boolean;
	email: boolean;
	/** Why email does not reach the viewer, when it does not. */
	emailNote?: string;
	/** A refused submission's fields. */
	errors: Record<string, string>;
}

/** What a saved choice of channels says. */
export function channelsText(channels: { banner: boolean; email: boolean }): string {
	const where = [channels.banner ? "on your pages" : "", channels.email ? "by email" : ""].filter(Boolean);
	return where.length
		? `Notices saved: you get them ${where.join(" and ")}.`
		: "Notices saved: you get none. The policies still act on your machines.";
}

/** How many launches the profile lists. */
const RECENT_LAUNCHES = 10;

/** The profile; `submitted` is a refused channels form (its values and marked fields). */
export async function profileView(
	deps: Deps,
	viewer: Viewer,
	submitted?: { errors: Record<string, string> },
	tokenForm: TokenSubmission = {},
): Promise<ProfileProps> {
	const [groups, all, launches, channels, tokens] = await Promise.all([
		groupsOf(deps.db, viewer.id),
		listGroups(deps.db),
		recentLaunches(deps.db, viewer.id, RECENT_LAUNCHES),
		noticeChannels(deps, viewer.id),
		listApiTokens(deps, viewer),
	]);
	const now = deps.clock();
	return {
		username: viewer.username,
		name: viewer.name,
		email: viewer.email,
		role: viewer.role,
		groups: groups.map((g) => g.name),
		managedGroups: all.filter((g) => viewer.managedGroupIds.includes(g.id)).map((g) => g.name),
		launches: launches.map((l) => ({
			href: `/launches/${l.id}`,
			createdAt: l.createdAt,
			stackName: l.stackName,
			status: l.status,
			reason: l.reason,
		})),
		channels: {
			action: "/profile/notices",
			...channels,
			emailNote: !viewer.email
				? "You have no email address on record, so no email can reach you."
				: !emailConfigured(deps.settings)
				? "The portal is not set up to send email (no SMTP server), so none is sent."
				: undefined,
			errors: submitted?.errors ?? {},
		},
		apiTokens: {
			action: "/profile/tokens",
			rows: tokens.map((t) => tokenRow(t, now)),
			mayMakeAdmin: viewer.role === "admin",
			maxDays: MAX_TOKEN_DAYS,
			created: tokenForm.created,
			values: {
				name: shownValue(tokenForm.values?.name),
				expiresInDays: tokenForm.values ? shownValue(tokenForm.values.expiresInDays) : "90",
			},
			errors: tokenForm.errors ?? {},
			message: tokenForm.message,
		},
		timeZone: deps.settings.TIME_ZONE,
	};
}
