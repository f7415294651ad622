/**
 * A real OpenID Connect provider on loopback for the sign-in tests: `oidc-provider` (panva's
 * certified OP, the same author as the portal's `openid-client`) with its development login and
 * consent pages, one confidential client (the portal), accounts given by the test, and a signing
 * key the test holds, so it can also make tokens the provider's key really signed (an expired one).
 *
 * `tamper` changes the ID token of the next token responses, to stand for an answer altered on
 * the way (no honest provider sends one): the provider's own answer is rewritten after it is made.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";
import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from "jose";

/** An account of the test provider: its `sub` and the claims its ID tokens carry. */
export interface TestAccount {
	sub: string;
	claims: Record<string, unknown>;
}

export interface TestProvider extends AsyncDisposable {
	issuer: string;
	clientId: string;
	clientSecret: string;
	/** Rewrites the ID token of the provider's token responses (or stops, with `undefined`). */
	tamper(change: ((idToken: string) => Promise<string> | string) | undefined): void;
	/** Signs claims with the provider's own key, as it signs its ID tokens. */
	sign(claims: Record<string, unknown>): Promise<string>;
	/** The claims of a token (not verified: the test's own inspection). */
	decode(token: string): Record<string, unknown>;
}

/**
 * Starts a provider for a portal at `portalUrl` (its redirect and post-logout URIs are registered).
 * `host` names it in its issuer URL: `localhost` makes it another site than a portal on 127.0.0.1,
 * as a real provider is, for a browser's cookie rules.
 */
export async function startTestProvider(
	portalUrl: string,
	accounts: TestAccount[],
	options: { host?: "127.0.0.1" | "localhost" } = {},
): Promise<TestProvider> {
	const server = http.createServer();
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	const issuer = `http://${options.host ?? "127.0.0.1"}:${(server.address() as AddressInfo).port}`;
	const { privateKey } = await generateKeyPair("RS256", { extractable: true });
	const jwk = { ...(await exportJWK(privateKey)), kid: "test-key", alg: "RS256", use: "sig" };
	const clientId = "mliy-portal";
	const clientSecret = "a-client-secret-only-the-test-knows";
	const byId = new Map(accounts.map((account) => [account.sub, account]));
	const provider = new Provider(issuer, {
		clients: [{
			client_id: clientId,
			client_secret: clientSecret,
			redirect_uris: [`${portalUrl}/sign-in/callback`],
			post_logout_redirect_uris: [`${portalUrl}/signed-out`],
			grant_types: ["authorization_code"],
			response_types: ["code"],
		}],
		jwks: { keys: [jwk] },
		cookies: { keys: ["a-cookie-key-of-the-test-provider"] },
		// The development login takes any password; what is typed as the login is the account's `sub`.
		findAccount: (_ctx: unknown, id: string) => {
			const account = byId.get(id);
			return account && { accountId: account.sub, claims: () => ({ sub: account.sub, ...account.claims }) };
		},
		claims: {
			openid: ["sub"],
			profile: ["preferred_username", "given_name", "family_name"],
			email: ["email"],
			groups: ["groups"],
		},
		scopes: ["openid", "profile", "email", "groups"],
		// The claims go in the ID token itself (the portal reads no userinfo).
		conformIdTokenClaims: false,
		features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
		ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
	});
	let change: ((idToken: string) => Promise<string> | string) | undefined;
	provider.use(async (ctx: { path: string; body: unknown }, next: () => Promise<void>) => {
		await next();
		const body = ctx.body as { id_token?: string } | undefined;
		if (ctx.path === "/token" && change && body?.id_token) {
			ctx.body = { ...body, id_token: await change(body.id_token) };
		}
	});
	server.on("request", provider.callback());
	return {
		issuer,
		clientId,
		clientSecret,
		tamper(next) {
			change = next;
		},
		sign: (claims) => new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid: "test-key" }).sign(privateKey),
		decode: (token) => decodeJwt(token) as Record<string, unknown>,
		async [Symbol.asyncDispose]() {
			server.closeAllConnections();
			await new Promise((resolve) => server.close(resolve));
		},
	};
}
