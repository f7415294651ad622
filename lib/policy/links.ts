/**
 * The extend links of the notices: `/extend/<action>.<user>.<expiry>.<signature>`, signed with the
 * portal's secret for one recipient, valid until the action is taken. The signature proves the
 * portal made the link; single use is the action row's (it is postponed once, then closed).
 */
import { publicUrl, type Settings } from "../settings.ts";
import { hmacToken, timingSafeEqual } from "../tokens.ts";

/** What an extend link names. */
export interface ExtendClaim {
	actionId: number;
	userId: number;
	expiresAt: Date;
}

const TOKEN = /^(\d{1,12})\.(\d{1,12})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/;

function signed(claim: ExtendClaim): string {
	return `extend:${claim.actionId}:${claim.userId}:${Math.floor(claim.expiresAt.getTime() / 1000)}`;
}

/** The token of an extend link for one recipient of an action's notice. */
export async function extendToken(secret: string, claim: ExtendClaim): Promise<string> {
	const seconds = Math.floor(claim.expiresAt.getTime() / 1000);
	return `${claim.actionId}.${claim.userId}.${seconds}.${await hmacToken(secret, signed(claim))}`;
}

/** What a token names, or undefined when the portal did not sign it (forged, altered, malformed). */
export async function readExtendToken(secret: string, token: string): Promise<ExtendClaim | undefined> {
	const match = TOKEN.exec(token);
	if (!match) return undefined;
	const claim = {
		actionId: Number(match[1]),
		userId: Number(match[2]),
		expiresAt: new Date(Number(match[3]) * 1000),
	};
	return timingSafeEqual(match[4]!, await hmacToken(secret, signed(claim))) ? claim : undefined;
}

/** The page of a token (a path: the pages link it), and the absolute link that emails and webhooks carry. */
export function extendPath(token: string): string {
	return `/extend/${token}`;
}

export function extendUrl(settings: Pick<Settings, "PUBLIC_URL" | "HOST" | "PORT">, token: string): string {
	return `${publicUrl(settings)}${extendPath(token)}`;
}
