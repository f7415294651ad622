/**
 * moto_server, the AWS peer of the integration tests. scripts/test.ts starts one and passes its URL
 * in TEST_MOTO_URL; without it (a bare `deno test`), a server is started here when moto_server
 * is on PATH. Tests reset it before use, so they must not run in parallel with each other.
 */
import { CreateHostedZoneCommand, Route53Client } from "@aws-sdk/client-route-53";
import { DescribeSubnetsCommand, EC2Client, RunInstancesCommand } from "@aws-sdk/client-ec2";

export interface Moto {
	url: string;
	reset(): Promise<void>;
	/** A default-VPC subnet in the availability zone. */
	subnet(availabilityZone: string): Promise<string>;
	createHostedZone(domain: string): Promise<string>;
	ec2(): EC2Client;
	/** Starts instances outside the portal (RunInstances), with tags. */
	runInstances(count: number, tags: Record<string, string>, type?: string): Promise<string[]>;
}

const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };

async function findOrStart(): Promise<string | undefined> {
	const given = Deno.env.get("TEST_MOTO_URL");
	if (given) return given;
	const which = await new Deno.Command("sh", { args: ["-c", "command -v moto_server"], stdout: "piped" }).output();
	if (!which.success) return undefined;
	const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
	const port = (listener.addr as Deno.NetAddr).port;
	listener.close();
	const child = new Deno.Command("moto_server", {
		args: ["-H", "127.0.0.1", "-p", String(port)],
		stdout: "null",
		stderr: "null",
	}).spawn();
	globalThis.addEventListener("unload", () => {
		try {
			child.kill("SIGTERM");
		} catch { /* already gone */ }
	});
	child.unref();
	const url = `http://127.0.0.1:${port}`;
	for (let i = 0; i < 100; i++) {
		try {
			if ((await fetch(`${url}/moto-api/`)).ok) return url;
		} catch { /* not up yet */ }
		await new Promise((r) => setTimeout(r, 100));
	}
	throw new Error(`moto_server did not start on ${url}`);
}

function connect(url: string): Moto {
	const config = { region: "us-east-1", endpoint: url, credentials };
	const ec2 = new EC2Client(config);
	const route53 = new Route53Client(config);
	return {
		url,
		async reset() {
			const res = await fetch(`${url}/moto-api/reset`, { method: "POST" });
			await res.body?.cancel();
		},
		async subnet(availabilityZone) {
			const out = await ec2.send(
				new DescribeSubnetsCommand({ Filters: [{ Name: "availability-zone", Values: [availabilityZone] }] }),
			);
			return out.Subnets![0]!.SubnetId!;
		},
		async createHostedZone(domain) {
			const out = await route53.send(
				new CreateHostedZoneCommand({ Name: domain, CallerReference: crypto.randomUUID() }),
			);
			return out.HostedZone!.Id!.replace("/hostedzone/", "");
		},
		ec2: () => ec2,
		async runInstances(count, tags, type = "t2.micro") {
			const out = await ec2.send(
				new RunInstancesCommand({
					ImageId: "ami-12c6146b",
					InstanceType: type as never,
					MinCount: count,
					MaxCount: count,
					TagSpecifications: [{
						ResourceType: "instance",
						Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
					}],
				}),
			);
			return out.Instances!.map((i) => i.InstanceId!);
		},
	};
}

const url = await findOrStart();
// The portal's AWS clients use the standard credential chain; moto accepts any credentials.
for (
	const [name, value] of [["AWS_ACCESS_KEY_ID", "testing"], ["AWS_SECRET_ACCESS_KEY", "testing"], [
		"AWS_REGION",
		"us-east-1",
	]]
) {
	if (!Deno.env.get(name!)) Deno.env.set(name!, value!);
}
if (!url) {
	if (Deno.env.get("CI")) throw new Error("moto_server is required in CI but was not found on PATH");
	// deno-lint-ignore no-console
	console.warn("\n*** moto_server is not installed: SKIPPING the AWS integration tests (install moto[server]) ***\n");
}

/** The moto server, or undefined when none is available (its tests are then ignored). */
export const moto: Moto | undefined = url ? connect(url) : undefined;

/** Declares a test that needs moto; it is skipped (loudly, above) when moto is unavailable. */
export function motoTest(name: string, fn: (moto: Moto) => Promise<void>): void {
	Deno.test({
		name,
		ignore: !moto,
		sanitizeOps: false,
		sanitizeResources: false,
		fn: async () => {
			await moto!.reset();
			await fn(moto!);
		},
	});
}
