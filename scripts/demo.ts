// deno-lint-ignore-file no-console
/**
 * `deno task demo`: a local try-out in one command. Imports the demo's catalogue
 * (fixtures/demo_catalog.yaml) into data/demo.db, starts
 * moto_server on 127.0.0.1 when it is installed (so launches really go through CloudFormation),
 * and runs the portal with the development auth plugin on loopback. With moto, instances never run
 * their bootstrap, so the demo plays the bootstrap's progress calls for new instances.
 *
 * moto keeps the fake AWS in memory only, so the demo holds on to it when the portal process dies
 * (a crash, `kill -9`): it says so and starts the portal again when Enter is pressed; Ctrl-C stops
 * both. The database and logs are in the working directory's data/ and logs/.
 */
import { openDatabase } from "../lib/db/client.ts";
import { appSecret } from "../lib/db/app_state.ts";
import { trackedInstances } from "../lib/db/instances.ts";
import { progressToken } from "../lib/tokens.ts";
import { seedDemo } from "./demo_data.ts";
import { type MotoServer, onPath, startMotoServer } from "./local_servers.ts";

/** The project's folder: the portal's main.ts and deno.json, wherever the demo is run from. */
const root = new URL("../", import.meta.url).pathname;
const port = Number(Deno.env.get("MLIY_PORT") ?? 8080);
const database = `file:${Deno.cwd()}/data/demo.db`;
const db = await openDatabase({ url: database });
const created = await seedDemo(db.db);
const secret = await appSecret(db.db);
console.log(created ? "demo: seeded data/demo.db" : "demo: using the existing data/demo.db");

const env: Record<string, string> = {
	MLIY_DATABASE_URL: database,
	MLIY_AUTH_PLUGIN: "plugins/auth_dev",
	MLIY_HOST: "127.0.0.1",
	MLIY_PORT: String(port),
	MLIY_ADMIN_USERNAMES: "developer",
	MLIY_LOG_LOCATION: "./logs",
	MLIY_SYNC_INTERVAL_MINUTES: "1",
	// The project's own price list, wherever the demo is run from (the source tree has no embedded copy).
	MLIY_PRICING_FILE: Deno.env.get("MLIY_PRICING_FILE") ?? `${root}fixtures/instances.json`,
};
let moto: MotoServer | undefined;
if (await onPath("moto_server")) {
	try {
		moto = await startMotoServer();
	} catch (error) {
		const { message, cause } = error as Error;
		console.error(
			`demo: ${message} (${(cause as Error)?.message}); without it launches cannot go anywhere, so the demo stops`,
		);
		db.close();
		Deno.exit(1);
	}
	const url = moto.url;
	// moto needs a subnet that exists: use a default-VPC subnet of us-east-1a.
	const { EC2Client, DescribeSubnetsCommand } = await import("@aws-sdk/client-ec2");
	const ec2 = new EC2Client({
		region: "us-east-1",
		endpoint: url,
		credentials: { accessKeyId: "demo", secretAccessKey: "demo" },
	});
	const subnets = await ec2.send(
		new DescribeSubnetsCommand({ Filters: [{ Name: "availability-zone", Values: ["us-east-1a"] }] }),
	);
	Object.assign(env, {
		MLIY_AWS_ENDPOINT_URL: url,
		MLIY_LAUNCH_SUBNET_ID: subnets.Subnets![0]!.SubnetId!,
		MLIY_LAUNCH_AVAILABILITY_ZONE: "us-east-1a",
		AWS_ACCESS_KEY_ID: "demo",
		AWS_SECRET_ACCESS_KEY: "demo",
		AWS_REGION: "us-east-1",
	});
	console.log(`demo: moto_server (fake AWS) on ${url}`);
} else {
	console.log("demo: moto_server is not installed; the portal runs without AWS (launches will wait for AWS)");
}

/** Starts the portal as its own process (so the fake AWS outlives it when it dies). */
function startPortal(): Deno.ChildProcess {
	const child = new Deno.Command(Deno.execPath(), {
		args: ["run", "-P", "--config", `${root}deno.json`, `${root}main.ts`],
		env,
		stdin: "null",
		stdout: "inherit",
		stderr: "inherit",
	}).spawn();
	console.log(
		`demo: open http://127.0.0.1:${port}/ (you are "developer", an admin; add header X-Dev-User: bob to be Bob)`,
	);
	return child;
}

// Play the bootstrap: every few seconds, move each new instance's progress bar one stage.
const stages = [
	"mounting_ebs_filesystem(10)",
	"installing_system_software(20)",
	"creating_analyst_user(30)",
	"installing_base_packages(40)",
	"configuring_base_packages(60)",
	"rebooting_MLiy(90)",
	"done(100)",
];
const timer = moto
	? setInterval(async () => {
		try {
			const booting = (await trackedInstances(db.db)).filter((row) =>
				row.launchId !== null && row.progressPercent !== null && row.progressPercent < 100 && row.state === "running"
			);
			for (const row of booting) {
				const next = stages.find((s) => Number(/\((\d+)\)/.exec(s)![1]) > row.progressPercent!)!;
				await fetch(`http://127.0.0.1:${port}/ajax/progress/${row.id}/${next}`, {
					headers: { "X-MLiy-Progress-Token": await progressToken(secret, row.launchId!) },
				}).then((r) => r.body?.cancel());
			}
		} catch { /* the portal is starting or stopping */ }
	}, 3000)
	: undefined;

/** Ctrl-C or SIGTERM: the demo stops the portal, then moto and itself. */
let portal: Deno.ChildProcess | undefined;
let stopping = false;
const { promise: stopped, resolve: stopDemo } = Promise.withResolvers<"stop">();
const stop = () => {
	stopping = true;
	stopDemo("stop");
	try {
		portal?.kill("SIGTERM");
	} catch { /* gone */ }
};
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);

/** The demo's terminal, where Enter restarts a portal that died. */
const input = Deno.stdin.readable.getReader();
async function enterPressed(): Promise<"enter" | "closed"> {
	for (;;) {
		const { value, done } = await input.read();
		if (done) return "closed";
		if (value.includes(10)) return "enter";
	}
}

let code = 0;
for (;;) {
	portal = startPortal();
	const status = await portal.status;
	code = status.code;
	if (stopping) break;
	const how = status.signal ? `killed by ${status.signal}` : `exit code ${status.code}`;
	console.error(
		`demo: the portal stopped (${how}). ` +
			(moto ? `The fake AWS keeps running on ${moto.url}, with everything launched so far. ` : "") +
			"Press Enter to start the portal again, or Ctrl-C to stop the demo.",
	);
	// Input that has ended (the demo run without a terminal) cannot restart it: Ctrl-C is left.
	const next = await Promise.race([enterPressed(), stopped]);
	if (next === "closed") await stopped;
	if (stopping) break;
	console.log("demo: starting the portal again");
}
await moto?.stop();
clearInterval(timer);
db.close();
Deno.exit(code);
