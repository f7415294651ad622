/** GET /api/v1/reference: the API's operations as a page, from the generated OpenAPI document (no script, no CDN). */
import type { ApiReferenceProps, ReferenceOperation } from "../../lib/views/api_reference.ts";
import { STATIC_VERSION } from "../../static/mod.ts";

/** The document's text with its `code spans` (CommonMark's backticks) shown as code; nothing else of Markdown is used. */
function Prose(props: { text: string }) {
	return <>{props.text.split("`").map((part, i) => i % 2 === 1 ? <code class="mono">{part}</code> : part)}</>;
}

function Operation(props: { op: ReferenceOperation }) {
	const { op } = props;
	return (
		<section class="panel stack" id={op.anchor} aria-labelledby={`${op.anchor}-title`}>
			<h3 id={`${op.anchor}-title`} class="mono">
				<span class="badge">{op.method}</span> {op.path}
			</h3>
			<p>
				<Prose text={op.summary} />
				<span class="muted small">{op.needsToken ? " — needs a token" : " — no token needed"}</span>
			</p>
			{op.description && (
				<p class="small">
					<Prose text={op.description} />
				</p>
			)}
			{op.parameters.length > 0 && (
				<dl class="facts">
					{op.parameters.map((p) => (
						<>
							<dt class="mono">{p.name}</dt>
							<dd>
								{p.in}
								{p.required ? ", required" : ", optional"}
								{p.text && (
									<span class="muted small">
										{" — "}
										<Prose text={p.text} />
									</span>
								)}
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
			{op.bodyFields.length > 0 && (
				<dl class="facts">
					{op.bodyFields.map((f) => (
						<>
							<dt class="mono">{f.name}</dt>
							<dd>
								{f.type}
								{f.required ? ", required" : ", optional"}
								{f.text && (
									<span class="muted small">
										{" — "}
										<Prose text={f.text} />
									</span>
								)}
							</dd>
						</>
					))}
				</dl>
			)}
			<ul class="small">
				{op.responses.map((r) => (
					<li>
						<span class="mono">{r.status}</span> <Prose text={r.text} />
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
						<Prose text={reference.description} /> Version {reference.version}; the machine-readable document is{" "}
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
