/** The page of a refusal or failure: it renders without a signed-in user (e.g. before identity). */
import { STATIC_VERSION } from "../../static/mod.ts";

const TITLES: Record<number, string> = {
	400: "That request is not valid",
	401: "You are not signed in",
	403: "Not allowed",
	404: "Not found",
	409: "Not possible right now",
	413: "Too large",
	422: "Please correct the form",
	429: "Too many requests",
	500: "Something went wrong",
	503: "A service is unavailable",
};

export function ErrorPage(props: { status: number; message: string }) {
	const title = TITLES[props.status] ?? "Error";
	return (
		<html lang="en">
			<head>
				<meta charset="utf-8" />
				<meta name="viewport" content="width=device-width, initial-scale=1" />
				<title>{`${title} · MLiy`}</title>
				<link rel="icon" href="data:," />
				<link rel="stylesheet" href={`/static/app.css?v=${STATIC_VERSION}`} />
			</head>
			<body>
				<header class="top">
					<a class="brand" href="/">MLiy</a>
				</header>
				<main id="main">
					<h1>{title}</h1>
					<p class="error-box" role="alert">{props.message}</p>
					<p>
						{props.status === 401
							? "Sign in through your organisation's portal address, or ask your administrator for help."
							: <a href="/">Back to your dashboard</a>}
					</p>
					<p class="muted small">Error {props.status}</p>
				</main>
			</body>
		</html>
	);
}
