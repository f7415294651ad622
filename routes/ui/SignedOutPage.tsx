/**
 * GET /signed-out: where a sign-out ends (and where the identity provider sends the browser back
 * after its own sign-out). It renders without a user, like the error page: the portal's session is
 * over; the provider's may not be, so its sign-out page is linked when it has one.
 */
import { STATIC_VERSION } from "../../static/mod.ts";

/** What the page shows. */
export interface SignedOutProps {
	/** The identity provider's sign-out page, when it has one. */
	providerSignOutUrl?: string;
}

export function SignedOutPage(props: SignedOutProps) {
	return (
		<html lang="en">
			<head>
				<meta charset="utf-8" />
				<meta name="viewport" content="width=device-width, initial-scale=1" />
				<title>Signed out · MLiy</title>
				<link rel="icon" href="data:," />
				<link rel="stylesheet" href={`/static/app.css?v=${STATIC_VERSION}`} />
			</head>
			<body>
				<header class="top">
					<a class="brand" href="/">MLiy</a>
				</header>
				<main id="main" class="narrow">
					<h1>Signed out</h1>
					<div class="panel stack">
						<p>You are signed out of the portal. Your machines keep running as they were.</p>
						{props.providerSignOutUrl && (
							<p class="small muted">
								You may still be signed in with your organisation's identity provider, which signs you in to the portal
								again without asking. On a shared computer, sign out there too.
							</p>
						)}
						<div class="row">
							<a class="btn primary" href="/sign-in">Sign in again</a>
							{props.providerSignOutUrl && (
								<a class="btn" href={props.providerSignOutUrl}>Sign out of the identity provider</a>
							)}
						</div>
					</div>
				</main>
			</body>
		</html>
	);
}
