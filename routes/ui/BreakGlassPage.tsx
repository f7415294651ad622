/**
 * GET /break-glass: the local sign-in of an admin while the sign-in proxy or directory is down. It
 * renders without a signed-in user (there is none yet), like the error page; when a break-glass
 * session is open it shows whose and until when, with its sign-out.
 */
import { STATIC_VERSION } from "../../static/mod.ts";
import { CsrfField, Field } from "./components.tsx";
import { formatTime } from "./format.ts";

/** What the page shows. */
export interface BreakGlassProps {
	/** The form's security token. */
	csrf: string;
	/** How long a session lasts, in minutes. */
	minutes: number;
	timeZone: string;
	/** The username typed before a refused attempt. */
	username?: string;
	/** Why the last attempt was refused. */
	error?: string;
	/** The open session of this browser, if any. */
	session?: { username: string; until: Date };
}

export function BreakGlassPage(props: BreakGlassProps) {
	return (
		<html lang="en">
			<head>
				<meta charset="utf-8" />
				<meta name="viewport" content="width=device-width, initial-scale=1" />
				<title>Break-glass sign-in · MLiy</title>
				<link rel="icon" href="data:," />
				<link rel="stylesheet" href={`/static/app.css?v=${STATIC_VERSION}`} />
			</head>
			<body>
				<header class="top">
					<a class="brand" href="/">MLiy</a>
				</header>
				<main id="main" class="narrow">
					<h1>Break-glass sign-in</h1>
					{props.session
						? (
							<form method="post" action="/break-glass/sign-out" class="panel stack">
								<CsrfField token={props.csrf} />
								<p>
									You are signed in as <strong class="mono">{props.session.username}</strong>{" "}
									with a break-glass password until {formatTime(props.session.until, props.timeZone)}.
								</p>
								<div class="row">
									<a class="btn" href="/admin">Go to the admin pages</a>
									<button type="submit">Sign out</button>
								</div>
							</form>
						)
						: (
							<form method="post" action="/break-glass" class="panel stack" autocomplete="off">
								<CsrfField token={props.csrf} />
								<p class="small muted">
									For an administrator listed in the portal's settings, while the organisation's sign-in service is
									down. Every attempt is recorded. A session lasts {props.minutes}{" "}
									minutes; anyone else signs in through the usual portal address.
								</p>
								{props.error && <p class="error-box" role="alert">{props.error}</p>}
								<Field label="Username" name="username">
									<input
										type="text"
										id="f-username"
										name="username"
										value={props.username ?? ""}
										required
										maxLength={64}
										autocapitalize="none"
										spellcheck={false}
									/>
								</Field>
								<Field label="Break-glass password" name="password">
									<input type="password" id="f-password" name="password" required maxLength={1024} />
								</Field>
								<div class="row">
									<button type="submit">Sign in</button>
								</div>
							</form>
						)}
				</main>
			</body>
		</html>
	);
}
