/** GET /profile: who the portal thinks you are — username, names, email, groups and role — your API tokens and your recent launches. */
import type { ProfileProps } from "../../lib/views/profile.ts";
import { type Column, CsrfField, ItemTable } from "./components.tsx";
import { formatTime } from "./format.ts";
import { Layout, type PageContext } from "./Layout.tsx";
import { NoticeChannels } from "./NoticeChannels.tsx";
import { ApiTokens } from "./ApiTokens.tsx";

const ROLE_MEANS: Record<ProfileProps["role"], string> = {
	admin: " — you may administer the portal and terminate anyone's instances",
	manager: " — you manage every group: you see and control every team's instances and bills",
	user: " — you see your own and your teammates' instances",
};

const STATUS_TONE: Record<ProfileProps["launches"][number]["status"], string> = {
	complete: "ok",
	failed: "bad",
	queued: "busy",
	creating: "busy",
};

function launchColumns(timeZone: string): Column<ProfileProps["launches"][number]>[] {
	return [
		{ label: "When", cell: (l) => <a href={l.href}>{formatTime(l.createdAt, timeZone)}</a> },
		{ label: "Stack", class: "mono small", cell: (l) => l.stackName },
		{
			label: "Status",
			cell: (l) => (
				<>
					<span class={`badge ${STATUS_TONE[l.status]}`}>{l.status}</span>
					{l.status === "failed" && <span class="small muted">{l.reason}</span>}
				</>
			),
		},
	];
}

export function ProfilePage(props: { ctx: PageContext; profile: ProfileProps }) {
	const { profile } = props;
	return (
		<Layout ctx={props.ctx} title="Profile">
			<h1>My details</h1>
			<div class="panel">
				<dl class="facts">
					<dt>User</dt>
					<dd class="mono">{profile.username}</dd>
					<dt>Name</dt>
					<dd>{profile.name}</dd>
					<dt>Email</dt>
					<dd>{profile.email || "—"}</dd>
					<dt>Role</dt>
					<dd>
						{profile.role}
						<span class="muted small">{ROLE_MEANS[profile.role]}</span>
					</dd>
					<dt>Groups</dt>
					<dd>
						{profile.groups.length === 0 ? "none" : (
							<ul>
								{profile.groups.map((name) => <li>{name}</li>)}
							</ul>
						)}
					</dd>
					{profile.managedGroups.length > 0 && (
						<>
							<dt>Manages</dt>
							<dd>
								<ul>
									{profile.managedGroups.map((name) => <li>{name}</li>)}
								</ul>
								<span class="muted small">
									their members' instances, bills, user budgets and requests, as an admin or the directory assigned
								</span>
							</dd>
						</>
					)}
				</dl>
			</div>
			{profile.channels && <NoticeChannels channels={profile.channels} csrf={props.ctx.csrf} />}
			{profile.apiTokens && <ApiTokens tokens={profile.apiTokens} csrf={props.ctx.csrf} timeZone={profile.timeZone} />}
			<form method="post" action="/profile/sign-out-everywhere" class="panel stack">
				<CsrfField token={props.ctx.csrf} />
				<p class="small muted">
					Pages of the portal you have open anywhere keep a security token that lets them make changes. Signing out
					everywhere revokes them all: each must be reloaded before it can change anything. Your sign-in itself belongs
					to your organisation's sign-in service.
				</p>
				<div class="row">
					<button type="submit" data-confirm="Revoke the security tokens of every page you have open?">
						Sign out everywhere
					</button>
				</div>
			</form>
			<h2>Recent launches</h2>
			{profile.launches.length === 0
				? <p class="muted">You have not launched anything yet.</p>
				: <ItemTable columns={launchColumns(profile.timeZone)} rows={profile.launches} />}
		</Layout>
	);
}
