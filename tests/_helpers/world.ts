/**
 * Test data, written through the portal's own writes (the lib/db functions the product saves
 * with), so a test's world holds exactly what the portal could have written: users, groups,
 * configurations, launches, instances and clusters.
 */
import {
	type CatalogLink,
	type CatalogRow,
	getConfig,
	getGroup,
	linkedIds,
	listInstanceTypes,
	setLinks,
	upsertById,
	writeConfig,
	writeGroup,
} from "../../lib/db/catalog.ts";
import type { Db } from "../../lib/db/client.ts";
import { insertCluster, type NewCluster } from "../../lib/db/clusters.ts";
import { getInstance, insertInstance, type NewInstance } from "../../lib/db/instances.ts";
import { insertLaunch, type NewLaunch } from "../../lib/db/launches.ts";
import type { Role } from "../../lib/db/schema.ts";
import { ensureUser, updateUserProfile } from "../../lib/db/users.ts";
import { CLUSTER_TEMPLATE, INSTANCE_TEMPLATE, SAMPLE_BOOTSTRAP } from "../../fixtures/mod.ts";
import { sha256Hex } from "../../lib/tokens.ts";
import { STACK_ID } from "../_fakes/aws.ts";

export async function addUser(
	db: Db,
	username: string,
	extra: { role?: Role; firstName?: string; lastName?: string } = {},
) {
	const { user } = await ensureUser(db, {
		username,
		firstName: extra.firstName ?? "",
		lastName: extra.lastName ?? "",
	});
	return extra.role ? await updateUserProfile(db, user, { role: extra.role }) : user;
}

const NO_GROUP_LINKS = { defaultSecurityGroups: [], optionalSecurityGroups: [], excludedTypes: [] };

export async function addGroup(db: Db, name: string, extra: Partial<CatalogRow<"groups">> = {}) {
	const id = await writeGroup(db, undefined, {
		name,
		keyName: "analyst-key",
		costCenter: `CC-${name}`,
		ags: "MLIY",
		sdlc: "DEV",
		...extra,
	}, NO_GROUP_LINKS);
	return (await getGroup(db, id!))!;
}

/** Adds one id to the owner's links, keeping the others. */
async function addLink(db: Db, link: CatalogLink, ownerId: number, id: number) {
	await setLinks(db, link, ownerId, [...await linkedIds(db, link, ownerId), id]);
}

export async function addMember(db: Db, userId: number, groupId: number, source: "manual" | "directory" = "manual") {
	await addLink(db, `${source}Memberships`, userId, groupId);
}

/** Has the user manage the group (as an admin's assignment, or the directory's) without the manager role. */
export async function addManager(db: Db, userId: number, groupId: number, source: "manual" | "directory" = "manual") {
	await addLink(db, `${source}Management`, userId, groupId);
}

async function addTypes(db: Db, names: string[]) {
	for (const name of names) await upsertById(db, "instanceTypes", undefined, { name });
	return (await listInstanceTypes(db)).filter((t) => names.includes(t.name));
}

export async function addSecurityGroup(db: Db, sgId: string, name = sgId) {
	const id = await upsertById(db, "securityGroups", undefined, { sgId, name });
	return { id: id!, sgId, name };
}

export async function attachSecurityGroup(
	db: Db,
	groupId: number,
	securityGroupId: number,
	kind: "default" | "optional",
) {
	await addLink(db, `${kind}SecurityGroups`, groupId, securityGroupId);
}

export async function excludeType(db: Db, groupId: number, instanceTypeId: number) {
	await addLink(db, "excludedTypes", groupId, instanceTypeId);
}

export async function addConfig(
	db: Db,
	name: string,
	options: { types: number[]; groups: number[] } & Partial<CatalogRow<"softwareConfigs">>,
) {
	const { types, groups, ...extra } = options;
	const id = await writeConfig(db, undefined, {
		name,
		amiId: "ami-0123456789abcdef0",
		templateBody: INSTANCE_TEMPLATE,
		userDataBody: SAMPLE_BOOTSTRAP,
		instanceName: "MLiyAnalyst",
		hasProgressBar: true,
		volumeDevice: "/dev/xvdz",
		volumeSizeGb: 20,
		...extra,
	}, { compatibleTypes: types, permittedGroups: groups });
	return (await getConfig(db, id!))!;
}

/**
 * A launch (queued, of a t2.micro, unless `values` say otherwise) whose progress token is `token`:
 * the database keeps only its hash, as the portal does.
 */
export async function addLaunch(
	db: Db,
	values: Partial<NewLaunch> & { userId: number; groupId: number; configId: number },
	token = "the-progress-token",
) {
	return await insertLaunch(db, {
		id: crypto.randomUUID(),
		instanceType: "t2.micro",
		stackName: "MLiyAnalyst-MLIY-abc",
		progressTokenHash: await sha256Hex(token),
		...values,
	});
}

export async function addInstance(db: Db, values: Partial<NewInstance> & { id: string; ownerId: number }) {
	await insertInstance(db, { instanceType: "t2.micro", state: "running", ...values });
	return (await getInstance(db, values.id))!;
}

/**
 * Alice's instance i-0123456789abcdef0 in science, from a launch whose progress token is `token`:
 * what a bootstrap reporting progress talks to.
 */
export async function addLaunchedInstance(
	db: Db,
	world: Awaited<ReturnType<typeof seedWorld>>,
	token: string,
	values: Partial<NewInstance> = {},
) {
	const launch = await addLaunch(db, {
		userId: world.alice.id,
		groupId: world.science.id,
		configId: world.config.id,
	}, token);
	return await addInstance(db, { id: "i-0123456789abcdef0", ownerId: world.alice.id, launchId: launch.id, ...values });
}

/**
 * A small world: group "science" (alice, bob) and "ops" (olga); manager mia; admin ada; a config
 * permitted to science with t2.micro and m4.large; a default and an optional security group.
 */
export async function seedWorld(db: Db) {
	const [alice, bob, olga, mia, ada] = [
		await addUser(db, "alice", { firstName: "Alice", lastName: "Ng" }),
		await addUser(db, "bob", { firstName: "Bob", lastName: "Ray" }),
		await addUser(db, "olga", { firstName: "Olga", lastName: "Ivanova" }),
		await addUser(db, "mia", { role: "manager", firstName: "Mia" }),
		await addUser(db, "ada", { role: "admin", firstName: "Ada" }),
	];
	const science = await addGroup(db, "science");
	const ops = await addGroup(db, "ops");
	await addMember(db, alice.id, science.id);
	await addMember(db, bob.id, science.id);
	await addMember(db, olga.id, ops.id);
	const types = await addTypes(db, ["t2.micro", "m4.large", "r4.4xlarge", "t2.nano"]);
	const byName = Object.fromEntries(types.map((t) => [t.name, t]));
	const sgDefault = await addSecurityGroup(db, "sg-0000000000000000a", "default-ssh");
	const sgOptional = await addSecurityGroup(db, "sg-0000000000000000b", "jupyter");
	await attachSecurityGroup(db, science.id, sgDefault.id, "default");
	await attachSecurityGroup(db, science.id, sgOptional.id, "optional");
	const config = await addConfig(db, "Analyst", {
		types: [byName["t2.micro"]!.id, byName["m4.large"]!.id, byName["r4.4xlarge"]!.id],
		groups: [science.id],
	});
	return { alice, bob, olga, mia, ada, science, ops, types: byName, sgDefault, sgOptional, config };
}

/**
 * {@link seedWorld} plus EMR: group "sparkers" (EMR access, a directory DN, 90 idle minutes by
 * default; alice and bob) and the cluster configuration "Spark" (m4.large; permitted to sparkers
 * and science, which has no EMR access) with params, one of which the portal overrides.
 */
export async function seedClusterWorld(db: Db) {
	const world = await seedWorld(db);
	const emrGroup = await addGroup(db, "sparkers", {
		emrAccess: true,
		iamInstanceProfile: "EMR_EC2_DefaultRole",
		settings: "cluster_auto_termination_minutes=90",
		directoryName: "CN=Sparkers,OU=Teams,DC=example,DC=com",
	});
	await addMember(db, world.alice.id, emrGroup.id);
	await addMember(db, world.bob.id, emrGroup.id);
	const spark = await addConfig(db, "Spark", {
		kind: "cluster",
		templateBody: CLUSTER_TEMPLATE,
		userDataBody: "",
		hasProgressBar: false,
		instanceName: "MLiySpark",
		customUrlFormat: "jdbc:hive2://{{{ URL }}}:10000/default",
		params: { paramReleaseLabel: "emr-6.15.0", paramJobFlowRole: "ignored-portal-wins", notDeclared: "x" },
		types: [world.types["m4.large"]!.id],
		groups: [emrGroup.id, world.science.id],
	});
	return { ...world, emrGroup, spark };
}

/** Alice's cluster launch into sparkers, submitted at `submittedAt` and being followed (stack STACK_ID). */
export async function addClusterLaunch(
	db: Db,
	world: Awaited<ReturnType<typeof seedClusterWorld>>,
	values: Partial<NewLaunch> & { submittedAt: Date },
) {
	return await addLaunch(db, {
		userId: world.alice.id,
		groupId: world.emrGroup.id,
		configId: world.spark.id,
		kind: "cluster",
		instanceType: "m4.large",
		options: { purpose: "test", coreNodes: 2, market: "ON_DEMAND", bidPrice: null, idleSeconds: 0 },
		stackName: "MLiySpark-OD-abc",
		status: "creating",
		stackId: STACK_ID,
		...values,
	});
}

/** A cluster row (j-ABCDEF, WAITING, on-demand m4.large with 2 core nodes, unless `values` say otherwise). */
export async function addCluster(db: Db, values: Partial<NewCluster> & { ownerId: number }) {
	const cluster: NewCluster = {
		id: "j-ABCDEF",
		name: "MLiySpark",
		state: "WAITING",
		instanceType: "m4.large",
		market: "ON_DEMAND",
		coreNodes: 2,
		nodesRequested: 3,
		...values,
	};
	await insertCluster(db, cluster);
	return cluster;
}
