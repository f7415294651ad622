/**
 * Worlds for the list tests (tests/list_sorting_test.ts, tests/browser_lists_test.ts): a team of 30
 * instances of four owners with every sortable column varied, and one user with more than a
 * screenful of machines.
 */
import type { NewInstance } from "../../lib/db/instances.ts";
import type { TestDeps } from "./deps.ts";
import { addCluster, addConfig, addInstance, addUser, type seedWorld } from "./world.ts";

export type World = Awaited<ReturnType<typeof seedWorld>>;
/** A value a list sorts on; null when the row has none. */
export type Key = string | number | null;
export const HOUR = 3_600_000;

export /** The team's fleet: 30 instances of alice, bob and olga with every column varied (and some names and configs empty). */
async function seedTeam(deps: TestDeps, world: World) {
	const beta = await addConfig(deps.db, "beta tools", {
		types: [world.types["t2.micro"]!.id],
		groups: [world.science.id],
	});
	const now = deps.clock().getTime();
	// zoe shows as "Aaron Zed": the owner order is the name the rows show, not the username.
	const zoe = await addUser(deps.db, "zoe", { firstName: "Aaron", lastName: "Zed" });
	const owners = [world.alice, world.bob, world.olga, zoe];
	const names = ["zeta", "Alpha", "beta", "", "Gamma", "delta"];
	const types = ["t2.micro", "m4.large", "r4.4xlarge", "t2.nano"];
	const states = ["running", "stopped", "pending", "running", "stopping"];
	const fleet: (NewInstance & { id: string; ownerId: number })[] = [];
	for (let i = 1; i <= 30; i++) {
		const state = states[i % 5]!;
		fleet.push({
			id: `i-${String(i).padStart(17, "0")}`,
			ownerId: owners[i % 4]!.id,
			name: names[i % 6] ? `${names[i % 6]}-${i}` : "",
			instanceType: types[i % 4]!,
			state,
			configId: i % 7 === 0 ? null : i % 2 ? world.config.id : beta.id,
			startedAt: state === "running" ? new Date(now - i * 10 * 60_000) : new Date(now - HOUR),
			// Each a different hour ago: 7 and 30 have no common factor.
			createdAt: new Date(now - ((i * 7) % 30 + 1) * HOUR),
		});
	}
	for (const instance of fleet) await addInstance(deps.db, instance);
	const byId = new Map(fleet.map((i) => [i.id, i]));
	const shownName = new Map(owners.map((o) => [o.id, `${o.firstName} ${o.lastName}`.trim() || o.username]));
	const configName = new Map([[world.config.id, world.config.name], [beta.id, beta.name]]);
	const keys: Record<string, (id: string) => Key> = {
		created: (id) => byId.get(id)!.createdAt!.getTime(),
		name: (id) => byId.get(id)!.name || id,
		owner: (id) => shownName.get(byId.get(id)!.ownerId)!,
		type: (id) => byId.get(id)!.instanceType,
		state: (id) => byId.get(id)!.state!,
		config: (id) => configName.get(byId.get(id)!.configId ?? -1) ?? null,
		uptime: (id) => byId.get(id)!.state === "running" ? now - byId.get(id)!.startedAt!.getTime() : null,
	};
	return { ids: fleet.map((i) => i.id), keys };
}

export /** Alice's machines: `instances` instances (with a mix of states, types, configs and names) and 4 clusters. */
async function seedMine(deps: TestDeps, world: World, instances: number) {
	const beta = await addConfig(deps.db, "Beta", { types: [world.types["t2.micro"]!.id], groups: [world.science.id] });
	const now = deps.clock().getTime();
	const types = ["t2.micro", "m4.large", "r4.4xlarge", "t2.nano"];
	const states = ["running", "stopped", "running", "pending"];
	const names = ["lab", "Notebook", "", "scratch", "Zed"];
	const byId = new Map<string, { name: string; type: string; state: string; config: string | null; created: number }>();
	for (let i = 1; i <= instances; i++) {
		const id = `i-${String(i).padStart(17, "0")}`;
		const state = states[i % 4]!;
		const config = i % 5 === 0 ? null : i % 2 ? world.config : beta;
		const created = now - ((i * 7) % 31 + 1) * HOUR;
		const name = names[i % 5] ? `${names[i % 5]}-${i}` : "";
		await addInstance(deps.db, {
			id,
			ownerId: world.alice.id,
			name,
			instanceType: types[i % 4]!,
			state,
			configId: config?.id ?? null,
			startedAt: new Date(now - i * 11 * 60_000),
			createdAt: new Date(created),
		});
		byId.set(id, { name, type: types[i % 4]!, state, config: config?.name ?? null, created });
	}
	const clusterStates = ["WAITING", "RUNNING", "STARTING", "TERMINATED"];
	for (let i = 1; i <= 4; i++) {
		const id = `j-CLUSTER${i}`;
		const created = now - (40 + i) * HOUR;
		await addCluster(deps.db, {
			id,
			ownerId: world.alice.id,
			name: i === 2 ? "" : `spark-${i}`,
			state: clusterStates[i - 1]!,
			configId: world.config.id,
			startedAt: new Date(now - i * 13 * 60_000),
			createdAt: new Date(created),
			updatedAt: new Date(now),
		});
		byId.set(id, {
			name: i === 2 ? "" : `spark-${i}`,
			type: "m4.large",
			state: clusterStates[i - 1]!,
			config: world.config.name,
			created,
		});
	}
	return { byId, beta };
}
