/** GET /api/v1/reference: the API's operations as a page, from the generated OpenAPI document (no script, no CDN). */
import type { ApiReferenceProps, ReferenceOperation } from "../../lib/views/api_reference.ts";
import { STATIC_VERSION } from "../../static/mod.ts";

function Operation(props: { op: ReferenceOperation }) {
	const { op } = props;
	return (
		<section class="panel stack" id={op.anchor} aria-labelledby={`${op.anchor}-title`}>
			<h3 id={`${op.anchor}-title`} class="mono">
				<span class="badge">{op.method}</span> {op.path}
			</h3>
			<p>
				{op.summary}
				{!op.needsToken && <span class="muted small">(no token needed)</span>}
			</p>
			{op.description && <p class="small">{op.description}</p>}
			{op.parameters.length > 0 && (
				<dl class="facts">
					{op.parameters.map((p) => (
						<>
							<dt class="mono">{p.name}</dt>
							<dd>
								{p.in}
								{p.required ? ", required" : ", optional"}
								{p.text && <span class="muted small">{` — ${p.text}`}</span>}
							</dd>
						</>
					))}
				</dl>
			)}
			{op.body && (
				<p class="small">
					Body: <span class="mono">{op.body}</span>
				</p>
			)}
			<ul class="small">
				{op.responses.map((r) => (
					<li>
						<span class="mono">{r.status}</span> {r.text}
					</li>
				))}
			</ul>
		</section>
	);
}

export function ApiReferencePage(props: { reference: ApiReferenceProps }) {
	const { reference } = props;
	return (
		<html lang="en">
			<head>
				<meta charset="utf-8" />
				<meta name="viewport" content="width=device-width, initial-scale=1" />
				<title>{`${reference.title} · MLiy`}</title>
				<link rel="icon" href="data:," />
				<link rel="stylesheet" href={`/static/app.css?v=${STATIC_VERSION}`} />
			</head>
			<body>
				<header class="top">
					<a class="brand" href="/">MLiy</a>
				</header>
				<main id="main">
					<h1>{reference.title}</h1>
					<p>
						{reference.description} Version {reference.version}; the machine-readable document is{" "}
						<a href={`${reference.base}/openapi.json`}>{`${reference.base}/openapi.json`}</a>.
					</p>
					<nav aria-label="Operations">
						<ul>
							{reference.sections.flatMap((s) =>
								s.operations.map((op) => (
									<li>
										<a href={`#${op.anchor}`} class="mono small">{`${op.method} ${op.path}`}</a>
									</li>
								))
							)}
						</ul>
					</nav>
					{reference.sections.map((s) => (
						<>
							<h2>{s.tag}</h2>
							{s.operations.map((op) => <Operation op={op} />)}
						</>
					))}
				</main>
			</body>
		</html>
	);
}
