/** The extend page of a notice's link: what the policy will do, and one button that postpones it. */
import { CsrfField } from "./components.tsx";
import { Layout, type PageContext } from "./Layout.tsx";

export interface ExtendPageProps {
	ctx: PageContext;
	/** The notice, in words. */
	message: string;
	/** Where the button posts (the link itself). */
	action: string;
	/** The postponements offered, in minutes; empty when it can no longer be postponed. */
	choices: number[];
	/** Why it cannot be postponed, when it cannot. */
	closed?: string;
	/** The machine's page. */
	machineHref: string;
}

function label(minutes: number): string {
	if (minutes % 1440 === 0) return `${minutes / 1440} day${minutes === 1440 ? "" : "s"}`;
	if (minutes % 60 === 0) return `${minutes / 60} hour${minutes === 60 ? "" : "s"}`;
	return `${minutes} minutes`;
}

export function ExtendPage(props: ExtendPageProps) {
	return (
		<Layout ctx={props.ctx} title="Postpone">
			<h1>Postpone an automated action</h1>
			<div class="panel">
				<p>{props.message}</p>
				{props.closed ? <p class="muted" role="status">{props.closed}</p> : (
					<form method="post" action={props.action}>
						<CsrfField token={props.ctx.csrf} />
						<div class="field">
							<label for="f-minutes">Postpone it by</label>
							<select id="f-minutes" name="minutes">
								{props.choices.map((m) => <option value={String(m)}>{label(m)}</option>)}
							</select>
						</div>
						<button type="submit" class="primary">Postpone</button>
					</form>
				)}
				<p>
					<a href={props.machineHref}>Go to the machine</a>
				</p>
			</div>
		</Layout>
	);
}
