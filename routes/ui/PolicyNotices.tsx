/**
 * The banner of the viewer's machine policy notices, under the header of every page: an action
 * coming (with its time, its reason and the link that postpones it), one that was done (what and
 * why) or one that failed. The first few are shown; the rest fold away.
 */
import type { BannerNotice } from "../../lib/views/layout.ts";

/** How many notices show before the rest fold into "more". */
const SHOWN = 3;

const PHASE: Record<BannerNotice["phase"], { tone: string; label: string }> = {
	warning: { tone: "busy", label: "Planned" },
	done: { tone: "ok", label: "Done" },
	failed: { tone: "bad", label: "Failed" },
};

/** What the extend link postpones, as a noun. */
const POSTPONED: Record<string, string> = { stop: "stop", terminate: "termination", start: "start" };

function Notice(props: { notice: BannerNotice }) {
	const { notice } = props;
	const phase = PHASE[notice.phase];
	return (
		<li class={`policy-notice ${notice.phase}`} data-notice={notice.id} data-phase={notice.phase}>
			<span class={`badge ${phase.tone}`}>{phase.label}</span>
			<span class="text">{notice.message}</span>
			<span class="links">
				{notice.extendPath && (
					<a
						class="btn primary"
						href={notice.extendPath}
						aria-label={`Postpone the ${POSTPONED[notice.action] ?? notice.action} of ${notice.machineId}`}
					>
						Postpone
					</a>
				)}
				<a href={notice.machineHref} aria-label={`Open ${notice.machineId}`}>Open</a>
			</span>
		</li>
	);
}

export function PolicyNotices(props: { notices: readonly BannerNotice[] }) {
	const { notices } = props;
	if (notices.length === 0) return null;
	const rest = notices.slice(SHOWN);
	return (
		<section class="policy-notices" aria-label="Machine policy notices" data-policy-notices>
			<ul>
				{notices.slice(0, SHOWN).map((n) => <Notice notice={n} />)}
			</ul>
			{rest.length > 0 && (
				<details>
					<summary>{rest.length} more notice{rest.length === 1 ? "" : "s"}</summary>
					<ul>
						{rest.map((n) => <Notice notice={n} />)}
					</ul>
				</details>
			)}
		</section>
	);
}
