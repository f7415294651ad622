/** The profile's notice channels: where the machine policies' notices reach the user (their pages, email). */
import type { NoticeChannelsProps } from "../../lib/views/profile.ts";
import { CsrfField } from "./components.tsx";
import { Checkbox } from "./forms.tsx";

const FIELD_NAMES: Record<string, string> = { banner: "On my pages", email: "By email" };

export function NoticeChannels(props: { channels: NoticeChannelsProps; csrf: string }) {
	const { channels } = props;
	const errors = Object.entries(channels.errors);
	return (
		<section class="panel" aria-labelledby="notices-heading" data-notice-channels>
			<h2 id="notices-heading">Machine policy notices</h2>
			<p class="small muted">
				Before a policy stops or terminates one of your machines, and after, the portal tells you, with a link that
				postpones it. Turning both off does not stop the policies from acting.
			</p>
			<form method="post" action={channels.action} class="stack" novalidate>
				<CsrfField token={props.csrf} />
				{errors.length > 0 && (
					<p class="error-box" role="alert">
						Please correct the marked fields: {errors.map(([name, text]) => `${FIELD_NAMES[name] ?? name}: ${text}`)
							.join("; ")}.
					</p>
				)}
				<Checkbox
					label="On my pages (a banner on every page, with the link that postpones it)"
					name="banner"
					checked={channels.banner}
				/>
				<Checkbox label="By email" name="email" checked={channels.email} hint={channels.emailNote} />
				<div class="row">
					<button type="submit" class="primary">Save notice channels</button>
				</div>
			</form>
		</section>
	);
}
