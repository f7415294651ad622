/**
 * The bootstrap progress callback: `ajax/progress/<instanceid>/<progress>(<num>)`. The caller is an
 * instance, not a user: it is accepted with the launch's progress token, or from the instance's own
 * recorded IP (a forwarded address only from a trusted proxy). Nothing is written on any error.
 */
import { instanceForProgress, setProgress } from "./db/instances.ts";
import type { Deps } from "./deps.ts";
import { UserError } from "./errors.ts";
import { INSTANCE_ID } from "./machines/ids.ts";
import { callerAddress, sameAddress } from "./net.ts";
import { sha256Hex, timingSafeEqual } from "./tokens.ts";

const PROGRESS = /^(\w{1,64})\((\d{1,3})\)$/;

/** Parses `installing_base_packages(40)`; throws a 400 when malformed or out of 0..100. */
function parseProgress(spec: string): { text: string; percent: number } {
	const match = PROGRESS.exec(spec);
	if (!match) {
		throw new UserError(
			400,
			"Progress must look like stage_name(40): letters, digits or _ (at most 64), then a number in parentheses",
		);
	}
	const percent = Number(match[2]);
	if (percent > 100) throw new UserError(400, `Progress ${percent} is outside 0..100`);
	return { text: match[1]!.replace(/_/g, " "), percent };
}

/** A progress call as the route received it. */
export interface ProgressCall {
	instanceId: string;
	spec: string;
	token: string | null;
	peer: string;
	forwardedFor: string | null;
}

/** Records a progress report; returns the stage text. */
export async function recordProgress(
	deps: Pick<Deps, "db" | "settings" | "clock" | "log">,
	call: ProgressCall,
): Promise<string> {
	if (!INSTANCE_ID.test(call.instanceId)) throw new UserError(404, `No instance ${call.instanceId.slice(0, 40)}`);
	const { text, percent } = parseProgress(call.spec);
	const instance = await instanceForProgress(deps.db, call.instanceId);
	if (!instance) throw new UserError(404, `No instance ${call.instanceId} is known to the portal`);
	let allowed = false;
	if (call.token) {
		if (call.token.length <= 256 && instance.tokenHash) {
			allowed = timingSafeEqual(await sha256Hex(call.token), instance.tokenHash);
		}
	} else {
		const from = callerAddress(call.peer, call.forwardedFor, deps.settings.TRUSTED_PROXIES);
		allowed = sameAddress(instance.privateIp, from) || sameAddress(instance.publicIp, from);
	}
	if (!allowed) {
		deps.log.web.warn("refused progress call for {instanceId} from {peer}", {
			instanceId: call.instanceId,
			peer: call.peer,
			withToken: !!call.token,
		});
		throw new UserError(403, "This progress report is not from the instance (wrong token or address)");
	}
	await setProgress(deps.db, call.instanceId, text, percent, deps.clock());
	return text;
}
