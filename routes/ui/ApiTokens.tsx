/** The profile's personal API tokens: the list (revoke), the form for a new one, and a new token shown once. */
import type { ApiTokenRow, ApiTokensProps } from "../../lib/views/profile.ts";
import { type Column, CsrfField, describedBy, Field, ItemTable } from "./components.tsx";
import { Checkbox } from "./forms.tsx";
import { formatTime } from "./format.ts";

const STATUS_TONE: Record<ApiTokenRow["status"], string> = { active: "ok", expired: "bad", revoked: "bad" };

function tokenColumns(timeZone: string, csrf: string): Column<ApiTokenRow>[] {
	const when = (at: Date | null, none: string) => at ? formatTime(at, timeZone) : none;
	return [
		{ label: "Name", cell: (t) => t.name },
		{ label: "Token", class: "mono small", cell: (t) => `${t.prefix}…` },
		{ label: "Rights", cell: (t) => t.admin ? "admin" : "yours (no admin rights)" },
		{ label: "Made", class: "small", cell: (t) => when(t.createdAt, "—") },
		{ label: "Expires", class: "small", cell: (t) => when(t.expiresAt, "never") },
		{ label: "Last used", class: "small", cell: (t) => when(t.lastUsedAt, "never") },
		{
			label: "Status",
			cell: (t) => (
				<>
					<span class={`badge ${STATUS_TONE[t.status]}`}>{t.status}</span>
					{t.revoke && (
						<form method="post" action={t.revoke} class="inline">
							<CsrfField token={csrf} />
							<button type="submit" data-confirm={`Revoke the token "${t.name}"? Scripts using it stop working.`}>
								Revoke
							</button>
						</form>
					)}
				</>
			),
		},
	];
}

export function ApiTokens(props: { tokens: ApiTokensProps; csrf: string; timeZone: string }) {
	const { tokens } = props;
	return (
		<section class="panel stack" aria-labelledby="tokens-heading" data-api-tokens>
			<h2 id="tokens-heading">API tokens</h2>
			<p class="small muted">
				A personal API token lets a script use the portal's JSON API (<a href="/api/v1/reference">reference</a>) as you,
				with your rights: send it as{" "}
				<span class="mono">Authorization: Bearer &lt;token&gt;</span>. Keep it secret; revoke it here when it is no
				longer needed.
			</p>
			{tokens.created && (
				<div class="notice ok" role="status" data-new-token>
					<p>
						Your new token "{tokens.created.name}" is below. Copy it now: the portal keeps only a hash of it and cannot
						show it again.
					</p>
					<p>
						<input
							type="text"
							readonly
							class="mono token"
							aria-label="The new token"
							value={tokens.created.token}
							size={60}
						/>
					</p>
				</div>
			)}
			{tokens.rows.length === 0
				? <p class="muted">You have no API tokens.</p>
				: <ItemTable columns={tokenColumns(props.timeZone, props.csrf)} rows={tokens.rows} />}
			<form method="post" action={tokens.action} class="stack" novalidate>
				<h3>New token</h3>
				<CsrfField token={props.csrf} />
				{tokens.message && <p class="error-box" role="alert">{tokens.message}</p>}
				<Field
					label="Name"
					name="tokenName"
					id="f-name"
					error={tokens.errors.name}
					hint="What uses it, e.g. nightly-report"
				>
					<input
						id="f-name"
						type="text"
						name="name"
						maxLength={100}
						required
						value={tokens.values.name}
						{...describedBy("name", true, tokens.errors.name)}
					/>
				</Field>
				<Field
					label="Expires after (days)"
					name="expiresInDays"
					error={tokens.errors.expiresInDays}
					hint={`1 to ${tokens.maxDays}; leave empty for a token that does not expire`}
				>
					<input
						id="f-expiresInDays"
						name="expiresInDays"
						type="number"
						min={1}
						max={tokens.maxDays}
						step={1}
						value={tokens.values.expiresInDays}
						{...describedBy("expiresInDays", true, tokens.errors.expiresInDays)}
					/>
				</Field>
				{tokens.mayMakeAdmin && (
					<Checkbox
						label="May use my admin rights"
						name="admin"
						checked={false}
						hint="Without this, the token acts at most as a manager: it cannot administer the portal or terminate other people's machines."
						error={tokens.errors.admin}
					/>
				)}
				<div class="row">
					<button type="submit" class="primary">Make token</button>
				</div>
			</form>
		</section>
	);
}
