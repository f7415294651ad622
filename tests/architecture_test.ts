/**
 * The layers, kept by a test: entry points (main.ts, compose.ts, routes/, jobs/, scripts/) above
 * domain code (lib/) above ports (lib/db, lib/aws, the plugin contract) above leaves. It reads
 * every non-test source file, resolves its imports and fails on every import that breaks one of
 * the rules below, and on every import cycle, naming the file and the import.
 */
import assert from "node:assert/strict";

/** Folders that hold no source of the program (or only tests). */
const SKIPPED = /^(tests|node_modules|\.tools|\.git|coverage|dist|data|logs|bench\/\.work)(\/|$)/;

/** Every non-test `.ts`/`.tsx` file of the project, relative to its root. */
async function sourceFiles(root: string, dir = ""): Promise<string[]> {
	const files: string[] = [];
	for await (const entry of Deno.readDir(`${root}/${dir}`)) {
		const path = dir ? `${dir}/${entry.name}` : entry.name;
		if (SKIPPED.test(path)) continue;
		if (entry.isDirectory) files.push(...await sourceFiles(root, path));
		else if (/\.tsx?$/.test(entry.name) && !/_test\.tsx?$/.test(entry.name)) files.push(path);
	}
	return files;
}

/** The specifiers a module imports or re-exports (static, side-effect and literal dynamic imports). */
export function importsOf(source: string): string[] {
	const found: string[] = [];
	const patterns = [
		/^\s*(?:import|export)\b[^;"'`]*?\bfrom\s*["']([^"']+)["']/gm,
		/^\s*import\s*["']([^"']+)["']/gm,
		/\bimport\(\s*["']([^"']+)["']\s*\)/g,
	];
	for (const pattern of patterns) for (const match of source.matchAll(pattern)) found.push(match[1]!);
	return found;
}

/** A relative specifier as a project path (`lib/db/client.ts`); bare specifiers (`drizzle-orm`) stay as they are. */
function resolve(file: string, specifier: string): string {
	if (!specifier.startsWith(".")) return specifier.replace(/^npm:/, "");
	const parts = file.split("/").slice(0, -1);
	for (const part of specifier.split("/")) {
		if (part === "..") parts.pop();
		else if (part !== ".") parts.push(part);
	}
	return parts.join("/");
}

/** Code lines only: comment lines cannot break a rule. */
function codeOf(source: string): string {
	return source.split("\n").filter((line) => !/^\s*(\/\/|\/\*|\*)/.test(line)).join("\n");
}

interface Rule {
	name: string;
	/** Whether the rule applies to imports made by `file`. */
	from(file: string): boolean;
	/** Whether importing `target` (a project path or a package) breaks the rule. */
	forbids(target: string, file: string): boolean;
}

/** The app's own modules (not the separate programs in scripts/ and bench/). */
const APP = /^(lib|routes|jobs|plugins|islands)\/|^(main|compose)\.ts$/;

const RULES: Rule[] = [
	{
		name: "lib/ never imports routes/, jobs/, plugins/, fixtures/, scripts/, bench/, compose.ts or main.ts",
		from: (file) => file.startsWith("lib/"),
		forbids: (target) => /^(routes|jobs|plugins|fixtures|scripts|bench)\/|^(compose|main)\.ts$/.test(target),
	},
	{
		name: "routes/ never imports jobs/",
		from: (file) => file.startsWith("routes/"),
		forbids: (target) => target.startsWith("jobs/"),
	},
	{
		name: "components (routes/ui/, and the admin pages in routes/admin/) never import lib/db/ or lib/aws/",
		from: (file) => /^routes\/(ui|admin)\//.test(file),
		forbids: (target) => /^lib\/(db|aws)\//.test(target),
	},
	{
		// No deps, no queries, no permission or price rules: a component renders the props a view computed.
		name:
			"components (routes/ui/) import of the project only other components, lib/views/ (the page data), lib/format.ts, lib/form_values.ts and static/",
		from: (file) => file.startsWith("routes/ui/"),
		forbids: (target) =>
			(/^(lib|routes|jobs|plugins|fixtures|scripts|bench|islands)\/|^(main|compose)\.ts$/.test(target) &&
				!/^(routes\/ui\/|lib\/views\/)|^lib\/(format|form_values)\.ts$/.test(target)) ||
			/^hono(\/|$)/.test(target),
	},
	{
		name: "drizzle-orm only in lib/db/",
		from: (file) => !file.startsWith("lib/db/"),
		forbids: (target) => /^drizzle-orm(\/|$)/.test(target),
	},
	{
		// scripts/ and bench/ may play an AWS user outside the portal against moto, as tests do.
		name: "@aws-sdk/* only in lib/aws/",
		from: (file) => !/^(lib\/aws|scripts|bench)\//.test(file),
		forbids: (target) => target.startsWith("@aws-sdk/"),
	},
	{
		name: "plugins/ import nothing of lib/ but lib/plugins/contract.ts",
		from: (file) => file.startsWith("plugins/"),
		forbids: (target) => target.startsWith("lib/") && target !== "lib/plugins/contract.ts",
	},
	{
		name: "only compose.ts and main.ts wire the SDK adapter, the shipped plugins, the embedded assets and the jobs",
		from: (file) => APP.test(file) && !/^(main|compose)\.ts$/.test(file),
		forbids: (target, file) =>
			(/^lib\/aws\/sdk(\.ts|\/)/.test(target) && !file.startsWith("lib/aws/")) ||
			target === "plugins/mod.ts" || target === "fixtures/mod.ts" || target === "fixtures/pricing.ts" ||
			(target.startsWith("jobs/") && !file.startsWith("jobs/")),
	},
];

/**
 * Violations that other branches of the same redesign remove (each names its owner); the lead
 * deletes an entry when that branch is merged. The test fails when one of them is gone, so the
 * list can only shrink.
 */
const PENDING = new Set<string>([]);

/** Every import cycle between project modules, each as the files around it. */
function cycles(graph: Map<string, string[]>): string[][] {
	// Tarjan's strongly connected components; a component of several files holds a cycle.
	let next = 0;
	const index = new Map<string, number>();
	const low = new Map<string, number>();
	const stack: string[] = [];
	const onStack = new Set<string>();
	const found: string[][] = [];
	const visit = (file: string) => {
		index.set(file, next);
		low.set(file, next++);
		stack.push(file);
		onStack.add(file);
		for (const target of graph.get(file) ?? []) {
			if (!graph.has(target)) continue;
			if (!index.has(target)) {
				visit(target);
				low.set(file, Math.min(low.get(file)!, low.get(target)!));
			} else if (onStack.has(target)) low.set(file, Math.min(low.get(file)!, index.get(target)!));
		}
		if (low.get(file) === index.get(file)) {
			const component: string[] = [];
			let member: string;
			do {
				member = stack.pop()!;
				onStack.delete(member);
				component.push(member);
			} while (member !== file);
			if (component.length > 1 || graph.get(file)!.includes(file)) found.push(component.sort());
		}
	};
	for (const file of [...graph.keys()].sort()) if (!index.has(file)) visit(file);
	return found;
}

/** Every violation of the layers in the project at `root`. */
export async function layerViolations(root: string): Promise<string[]> {
	const violations: string[] = [];
	const graph = new Map<string, string[]>();
	for (const file of (await sourceFiles(root)).sort()) {
		const source = await Deno.readTextFile(`${root}/${file}`);
		const targets = importsOf(source).map((specifier) => resolve(file, specifier));
		graph.set(file, targets.filter((target) => /\.tsx?$/.test(target)));
		for (const rule of RULES) {
			if (!rule.from(file)) continue;
			for (const target of targets) {
				if (rule.forbids(target, file)) violations.push(`${file} imports ${target} (${rule.name})`);
			}
		}
		if (file !== "main.ts" && !file.startsWith("scripts/") && /\bDeno\.env\b/.test(codeOf(source))) {
			violations.push(`${file} uses Deno.env (Deno.env only in main.ts and scripts/)`);
		}
	}
	for (const cycle of cycles(graph)) violations.push(`import cycle: ${cycle.join(" ↔ ")}`);
	return violations;
}

Deno.test("every import keeps to the layers: no rule of the plan is broken, and no module is in an import cycle", async () => {
	const violations = await layerViolations(new URL("..", import.meta.url).pathname.replace(/\/$/, ""));
	const unexpected = violations.filter((v) => !PENDING.has(v));
	const gone = [...PENDING].filter((p) => !violations.includes(p));
	assert.deepEqual(unexpected, [], `imports that break the layers:\n${unexpected.join("\n")}`);
	assert.deepEqual(gone, [], `fixed (remove from PENDING):\n${gone.join("\n")}`);
});

Deno.test("layerViolations() holds components to their props: no database, AWS, deps, rules or route modules", async () => {
	const root = await Deno.makeTempDir({ prefix: "mliy-layers-" });
	const files: Record<string, string> = {
		"routes/ui/Good.tsx": [
			'import type { Rate } from "../../lib/views/machines.ts";',
			'import { formatRate } from "../../lib/format.ts";',
			'import { STATIC_VERSION } from "../../static/mod.ts";',
			'import { listOf } from "../../lib/form_values.ts";',
			'import { Field } from "./components.tsx";',
			'import type { ComponentChildren } from "preact";',
		].join("\n"),
		"routes/ui/Bad.tsx": [
			'import type { InstanceRow } from "../../lib/db/instances.ts";',
			'import { instanceRate } from "../../lib/billing/rates.ts";',
			'import type { Deps } from "../../lib/deps.ts";',
			'import type { AppEnv } from "../context.ts";',
			'import { Hono } from "hono";',
		].join("\n"),
		"routes/admin/page.tsx": 'import type { Group } from "../../lib/db/catalog.ts";',
	};
	try {
		for (const [path, source] of Object.entries(files)) {
			await Deno.mkdir(`${root}/${path.split("/").slice(0, -1).join("/")}`, { recursive: true });
			await Deno.writeTextFile(`${root}/${path}`, source);
		}
		const found = (await layerViolations(root)).map((v) => v.replace(/ \(.*\)$/, ""));
		assert.deepEqual(found.sort(), [
			"routes/admin/page.tsx imports lib/db/catalog.ts",
			"routes/ui/Bad.tsx imports hono",
			"routes/ui/Bad.tsx imports lib/billing/rates.ts",
			// Refused by both component rules.
			"routes/ui/Bad.tsx imports lib/db/instances.ts",
			"routes/ui/Bad.tsx imports lib/db/instances.ts",
			"routes/ui/Bad.tsx imports lib/deps.ts",
			"routes/ui/Bad.tsx imports routes/context.ts",
		]);
	} finally {
		await Deno.remove(root, { recursive: true });
	}
});

Deno.test("importsOf() finds static, multi-line, side-effect, re-export and dynamic imports, not comments", () => {
	const source = [
		'import { a } from "./a.ts";',
		"import {",
		"\tb,",
		"\ttype C,",
		'} from "../b.ts";',
		'import "./side.ts";',
		'export { d } from "./d.ts";',
		'const e = await import("./e.ts");',
		' * import { f } from "./in_a_comment.ts";',
	].join("\n");
	assert.deepEqual(importsOf(source).sort(), ["../b.ts", "./a.ts", "./d.ts", "./e.ts", "./side.ts"]);
});
