/**
 * The portal's own placement from instance metadata (IMDSv2), against a scripted metadata endpoint:
 * a moment when it does not answer is not remembered, an answer is.
 */
import assert from "node:assert/strict";
import { createAws } from "../lib/aws/sdk/mod.ts";
import { getLoggers } from "../lib/log.ts";

Deno.test("placement(): a metadata hiccup is not cached; the next call reads the placement, which is then kept", async () => {
	let up = false;
	const paths: string[] = [];
	const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
		await req.text();
		const path = new URL(req.url).pathname;
		paths.push(path);
		if (!up) return new Response("unavailable", { status: 503 });
		if (path === "/latest/api/token") return new Response("token-1");
		if (req.headers.get("X-aws-ec2-metadata-token") !== "token-1") return new Response("no token", { status: 401 });
		const answers: Record<string, string> = {
			"/latest/meta-data/mac": "0e:00:00:00:00:01",
			"/latest/meta-data/network/interfaces/macs/0e:00:00:00:00:01/subnet-id": "subnet-0aaaaaaaaaaaaaaaa",
			"/latest/meta-data/placement/availability-zone": "us-east-1c",
		};
		return answers[path] ? new Response(answers[path]) : new Response("not found", { status: 404 });
	});
	const aws = createAws({
		region: "us-east-1",
		maxAttempts: 1,
		timeoutSeconds: 1,
		log: getLoggers().boto,
		metadataUrl: `http://127.0.0.1:${server.addr.port}`,
	});
	try {
		assert.equal(await aws.placement(), undefined, "metadata did not answer");
		up = true;
		assert.deepEqual(await aws.placement(), { subnetId: "subnet-0aaaaaaaaaaaaaaaa", availabilityZone: "us-east-1c" });
		const asked = paths.length;
		up = false;
		assert.deepEqual(await aws.placement(), { subnetId: "subnet-0aaaaaaaaaaaaaaaa", availabilityZone: "us-east-1c" });
		assert.equal(paths.length, asked, "a known placement is not asked again");
	} finally {
		aws.close();
		await server.shutdown();
	}
});
