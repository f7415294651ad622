/**
 * The permission matrix: every route the app registers, for anonymous, the owner, a teammate, a user
 * of another group, a manager of every group, a manager of one group and an admin, on resources
 * owned by users of two groups. A route that
 * is not in the matrix fails the test, so a new route cannot skip it. The JSON API's routes
 * (/api/v1/) are tried with each persona's personal API token instead of the identity header
 * (ada's with admin rights). Also: every state-changing page route refuses a cross-site request.
 *
 * AWS is a fake that accepts every action (ACTIONS_ACCEPTED), not moto: each case makes a fresh
 * instance or cluster with a made-up id in the database only, and moto would answer actions on
 * ids it never created with "not found".
 */
import assert from "node:assert/strict";
import { saveFound } from "../lib/db/found.ts";
import type { NewInstance } from "../lib/db/instances.ts";
import { insertVolume } from "../lib/db/volumes.ts";
import { instanceTypes, params } from "../lib/db/schema.ts";
import { createTestDeps, type TestDeps } from "./_helpers/deps.ts";
import { ACTIONS_ACCEPTED, fakeAws } from "./_fakes/aws.ts";
import { request, type RequestOptions } from "./_helpers/http.ts";
import {
	addCluster,
	addConfig,
	addGroup,
	addInstance,
	addLaunch,
	addManager,
	addMember,
	addSecurityGroup,
	addUser,
	seedWorld,
} from "./_helpers/world.ts";
import { CLUSTER_TEMPLATE } from "../fixtures/mod.ts";
import { insertPolicyNotice } from "../lib/db/policies.ts";
import { extendPath, extendToken } from "../lib/policy/links.ts";
import { insertApproval, insertApprovalRule } from "../lib/db/approvals.ts";
import { budgetTarget, saveBudget } from "../lib/db/budgets.ts";
import { createApiToken } from "../lib/auth/api_tokens.ts";
import { viewerOf } from "../lib/auth/identify.ts";
import { getUserByUsername } from "../lib/db/users.ts";

type Persona = "anonymous" | "alice" | "bob" | "olga" | "mia" | "sam" | "ada";
const PERSONAS: Persona[] = ["anonymous", "alice", "bob", "olga", "mia", "sam", "ada"];
/**
 * alice and bob share "science"; olga is in "ops"; mia has the manager role (every group); sam
 * manages "science" only (assigned, with the user role); ada is an admin; mia, sam and ada belong to no group.
 */
type Owner = "alice" | "olga";

type Expect = "allow" | "deny" | "public";

/** Who may do it, as a function of the persona and the owner of the resource. */
const RULES = {
	public: () => "public" as Expect,
	signedIn: () => "allow" as Expect,
	admin: (p: Persona) => p === "ada" ? "allow" : "deny",
	/** View, start, stop, restart: owner, teammate, a manager of the owner's group (sam: alice's only), admin. */
	control: (p: Persona, o?: Owner) =>
		p === o || p === "mia" || p === "ada" || (o === "alice" && (p === "bob" || p === "sam")) ? "allow" : "deny",
	/** Terminate, archive: owner or admin (no manager, of every group or of one). */
	ownerOrAdmin: (p: Persona, o?: Owner) => p === o || p === "ada" ? "allow" : "deny",
	/** A launch's page: the launcher, a manager of its group (sam: alice's, in science) or an admin. */
	launcher: (p: Persona, o?: Owner) =>
		p === o || p === "mia" || p === "ada" || (o === "alice" && p === "sam") ? "allow" : "deny",
	/** Launching into "science": its members only (managing it is not belonging to it: sam may not). */
	member: (p: Persona) => p === "alice" || p === "bob" ? "allow" : "deny",
	/** Launching a cluster into "sparkers": alice only. */
	sparker: (p: Persona) => p === "alice" ? "allow" : "deny",
	/** A state change sent with the wrong method: refused for everyone. */
	refusedMethod: () => "deny" as Expect,
	/** A notice's extend link: the user it was sent to (the owner) only, not even an admin. */
	linkHolder: (p: Persona, o?: Owner) => p === o ? "allow" : "deny",
	/** A user's budget (olga's, in ops): an admin, or a manager of one of the user's groups (mia; not sam, of science). */
	userBudget: (p: Persona) => p === "ada" || p === "mia" ? "allow" : "deny",
	/** A request for an exception: seen by its requester and by whoever decides it (the group's managers, admins). */
	requestSeen: (p: Persona, o?: Owner) =>
		p === o || p === "mia" || p === "ada" || (o === "alice" && p === "sam") ? "allow" : "deny",
	/** Deciding a request: the group's managers (sam: science's, so alice's) and admins, never the requester. */
	decider: (p: Persona, o?: Owner) =>
		p !== o && (p === "mia" || p === "ada" || (o === "alice" && p === "sam")) ? "allow" : "deny",
	/** Every cost center's figures (chargeback): managers of every group and admins (not sam: a cost center spans groups). */
	staff: (p: Persona) => p === "mia" || p === "ada" ? "allow" : "deny",
	/** Revoking a personal API token: its user only, not even an admin. */
	tokenHolder: (p: Persona, o?: Owner) => p === o ? "allow" : "deny",
	/** Withdrawing a request: its requester only. */
	requester: (p: Persona, o?: Owner) => p === o ? "allow" : "deny",
} satisfies Record<string, (p: Persona, o?: Owner) => Expect | string>;

interface World {
	deps: TestDeps;
	ids: Record<string, number>;
	/** Each signed-in persona's personal API token (ada's may use her admin rights). */
	tokens: Partial<Record<Persona, string>>;
	/** A fresh resource of the owner for one case (actions change state, so each case gets its own). */
	instance(owner: Owner, state?: string, privateIp?: string): Promise<string>;
	/** A fresh instance of alice's launched with {@link LAUNCH_TOKEN}, as the activity endpoint's calls need. */
	launchedInstance(): Promise<string>;
	/** A fresh notice of an automated stop of the owner's instance, and the owner's extend link for it. */
	extendLink(owner: Owner): Promise<string>;
	cluster(owner: Owner): Promise<string>;
	/** A fresh instance of alice's with these columns (archived, locked by hand), for the admin record actions. */
	instanceWith(values: Partial<NewInstance>): Promise<string>;
	/** A fresh volume of olga's left behind (attached to nothing). */
	volume(): Promise<string>;
	launch(owner: Owner): Promise<string>;
	/** A machine found in AWS with the portal's tags that nobody owns. */
	found(): Promise<string>;
	/** A fresh pending request for an exception by the owner, to their group's managers. */
	approval(owner: Owner): Promise<number>;
	/** A fresh budget of olga's (a user in ops), and a fresh approval rule. */
	budget(): Promise<number>;
	rule(): Promise<number>;
	/** Fresh catalog items nothing refers to, for the delete routes (so no case depends on another's). */
	param(): Promise<number>;
	group(): Promise<number>;
	config(): Promise<number>;
	type(): Promise<number>;
	sg(): Promise<number>;
	/** A user nobody signs in as, whose tokens may be revoked. */
	user(): Promise<number>;
	/** A fresh personal API token of the owner's, by id. */
	apiToken(owner: Owner): Promise<number>;
}

interface Case {
	url: string;
	options?: RequestOptions;
}

interface RouteSpec {
	rule: keyof typeof RULES | "middleware";
	/** For public routes: the status every persona gets. */
	status?: number;
	/** Resources owned by each of these owners are tried (none for routes without a resource). */
	owners?: Owner[];
	build?: (world: World, owner?: Owner) => Promise<Case> | Case;
}

let counter = 0;
const hex = () => (++counter).toString(16).padStart(17, "0");

const form = (fields: Record<string, string | string[]> = {}): RequestOptions => ({ form: fields });

/** The token of the launch {@link World.launchedInstance} makes instances of. */
const LAUNCH_TOKEN = "matrix-launch-token";
const instanceHeaders = { "Content-Type": "application/json", "X-MLiy-Progress-Token": LAUNCH_TOKEN };

const MATRIX: Record<string, RouteSpec> = {
	"ALL /*": { rule: "middleware" },
	"ALL /static/*": { rule: "middleware" },
	"ALL /admin/*": { rule: "middleware" },
	"GET /health": { rule: "public", status: 200, build: () => ({ url: "/health" }) },
	"GET /metrics": { rule: "public", status: 200, build: () => ({ url: "/metrics" }) },
	"GET /static/:file": { rule: "public", status: 200, build: () => ({ url: "/static/app.css" }) },
	// The callback comes from the instance's own address, which is what lets it in.
	"GET /ajax/progress/:instanceId/:spec": {
		rule: "public",
		status: 200,
		build: async (w) => ({
			url: `/ajax/progress/${await w.instance("alice", "running", "10.9.9.9")}/stage(5)`,
			options: { from: "10.9.9.9" },
		}),
	},
	"POST /ajax/progress/:instanceId/:spec": {
		rule: "public",
		status: 200,
		build: async (w) => ({
			url: `/ajax/progress/${await w.instance("alice", "running", "10.9.9.9")}/stage(5)`,
			options: { method: "POST", from: "10.9.9.9", csrf: false },
		}),
	},
	// The activity endpoint: the launch's token lets the instance in, as for progress.
	"POST /ajax/activity/:instanceId": {
		rule: "public",
		status: 200,
		build: async (w) => ({
			url: `/ajax/activity/${await w.launchedInstance()}`,
			options: { method: "POST", body: '{"cpu":1}', headers: instanceHeaders, csrf: false },
		}),
	},
	"POST /ajax/activity/:instanceId/keepalive": {
		rule: "public",
		status: 200,
		build: async (w) => ({
			url: `/ajax/activity/${await w.launchedInstance()}/keepalive`,
			options: { method: "POST", body: '{"for":"1h"}', headers: instanceHeaders, csrf: false },
		}),
	},
	"GET /ajax/activity/script/:name": {
		rule: "public",
		status: 200,
		build: () => ({ url: "/ajax/activity/script/mliy-activity" }),
	},
	"GET /extend/:token": {
		rule: "linkHolder",
		owners: ["alice", "olga"],
		build: async (w, o) => ({ url: await w.extendLink(o!) }),
	},
	"POST /extend/:token": {
		rule: "linkHolder",
		owners: ["alice", "olga"],
		build: async (w, o) => ({ url: await w.extendLink(o!), options: form({ minutes: "60" }) }),
	},
	"GET /": { rule: "signedIn", build: () => ({ url: "/" }) },
	"GET /dashboard": { rule: "signedIn", build: () => ({ url: "/dashboard" }) },
	"GET /dashboard/instances": { rule: "signedIn", build: () => ({ url: "/dashboard/instances" }) },
	"GET /dashboard/:id{i-[0-9a-zA-Z]+}": {
		rule: "signedIn",
		build: async (w) => ({ url: `/dashboard/${await w.instance("alice")}` }),
	},
	"GET /dashboard/:id{j-[0-9A-Za-z]+}": {
		rule: "signedIn",
		build: async (w) => ({ url: `/dashboard/${await w.cluster("alice")}` }),
	},
	// The original's old page URLs: redirects for any signed-in user (the new home checks the rest).
	"GET /pay": { rule: "signedIn", build: () => ({ url: "/pay" }) },
	"GET /dashboard/new": { rule: "signedIn", build: () => ({ url: "/dashboard/new" }) },
	"GET /dashboard/new/*": { rule: "signedIn", build: (w) => ({ url: `/dashboard/new/${w.ids.science}` }) },
	"GET /launching/:id{[0-9A-Za-z_-]{1,64}}": {
		rule: "signedIn",
		build: async (w) => ({ url: `/launching/${await w.launch("olga")}` }),
	},
	// The original's JSON views: any signed-in user, each answering only what the viewer's pages show
	// (tests/seed_urls_test.ts checks the scope); the billing view answers 410 to everyone.
	"GET /ajax/user-instances": { rule: "signedIn", build: () => ({ url: "/ajax/user-instances" }) },
	"GET /ajax/instances": { rule: "signedIn", build: () => ({ url: "/ajax/instances" }) },
	"GET /ajax/instance-states": { rule: "signedIn", build: () => ({ url: "/ajax/instance-states" }) },
	"GET /ajax/instance-burn": { rule: "signedIn", build: () => ({ url: "/ajax/instance-burn" }) },
	"GET /ajax/user-payroll": { rule: "signedIn", build: () => ({ url: "/ajax/user-payroll" }) },
	"GET /instances/:id": {
		rule: "control",
		owners: ["alice", "olga"],
		build: async (w, o) => ({ url: `/instances/${await w.instance(o!)}` }),
	},
	"GET /instances/:id/row": {
		rule: "control",
		owners: ["alice", "olga"],
		build: async (w, o) => ({ url: `/instances/${await w.instance(o!)}/row` }),
	},
	"GET /instances/:id/panel": {
		rule: "control",
		owners: ["alice", "olga"],
		build: async (w, o) => ({ url: `/instances/${await w.instance(o!)}/panel` }),
	},
	// Resizing is controlling: the owner, a teammate, a manager of the group, an admin.
	"GET /instances/:id/resize": {
		rule: "control",
		owners: ["alice", "olga"],
		build: async (w, o) => ({ url: `/instances/${await w.instance(o!, "stopped")}/resize?type=m4.large` }),
	},
	"POST /instances/:id/resize": {
		rule: "control",
		owners: ["alice", "olga"],
		build: async (w, o) => ({
			url: `/instances/${await w.instance(o!, "stopped")}/resize`,
			options: form({ instanceType: "m4.large" }),
		}),
	},
	// The policy panel's forms: changing the choices is the owner's (or an admin's), keeping it
	// running anyone's who may control it.
	"POST /instances/:id/policy": {
		rule: "ownerOrAdmin",
		owners: ["alice", "olga"],
		build: async (w, o) => ({ url: `/instances/${await w.instance(o!)}/policy`, options: form() }),
	},
	"POST /instances/:id/keep-alive": {
		rule: "control",
		owners: ["alice", "olga"],
		build: async (w, o) => ({ url: `/instances/${await w.instance(o!)}/keep-alive`, options: form({ for: "1h" }) }),
	},
	"POST /clusters/:id/policy": {
		rule: "ownerOrAdmin",
		owners: ["alice", "olga"],
		build: async (w, o) => ({ url: `/clusters/${await w.cluster(o!)}/policy`, options: form() }),
	},
	"POST /clusters/:id/keep-alive": {
		rule: "control",
		owners: ["alice", "olga"],
		build: async (w, o) => ({ url: `/clusters/${await w.cluster(o!)}/keep-alive`, options: form({ for: "1h" }) }),
	},
	// A rename (the Name tag) is anyone's who may control the machine, as its other actions; each case's name is new.
	"POST /instances/:id/rename": {
		rule: "control",
		owners: ["alice", "olga"],
		build: async (w, o) => ({
			url: `/instances/${await w.instance(o!)}/rename`,
			options: form({ name: `renamed-${crypto.randomUUID().slice(0, 8)}` }),
		}),
	},
	"POST /clusters/:id/rename": {
		rule: "control",
		owners: ["alice", "olga"],
		build: async (w, o) => ({
			url: `/clusters/${await w.cluster(o!)}/rename`,
			options: form({ name: `renamed-${crypto.randomUUID().slice(0, 8)}` }),
		}),
	},
	"POST /ajax/instance/:id/:action": {
		rule: "control",
		owners: ["alice", "olga"],
		build: async (w, o) => ({ url: `/ajax/instance/${await w.instance(o!)}/stop`, options: form() }),
	},
	"GET /ajax/instance/:id/:action": {
		rule: "refusedMethod",
		build: async (w) => ({ url: `/ajax/instance/${await w.instance("alice")}/stop` }),
	},
	"PUT /ajax/instance/:id/:action": {
		rule: "refusedMethod",
		build: async (w) => ({
			url: `/ajax/instance/${await w.instance("alice")}/stop`,
			options: { method: "PUT", form: {} },
		}),
	},
	"DELETE /ajax/instance/:id/:action": {
		rule: "refusedMethod",
		build: async (w) => ({
			url: `/ajax/instance/${await w.instance("alice")}/terminate`,
			options: { method: "DELETE", form: {} },
		}),
	},
	"PATCH /ajax/instance/:id/:action": {
		rule: "refusedMethod",
		build: async (w) => ({
			url: `/ajax/instance/${await w.instance("alice")}/start`,
			options: { method: "PATCH", form: {} },
		}),
	},
	"GET /launch": { rule: "signedIn", build: () => ({ url: "/launch" }) },
	"GET /launch/:groupId": { rule: "member", build: (w) => ({ url: `/launch/${w.ids.science}` }) },
	"GET /launch/:groupId/:configId": {
		rule: "member",
		build: (w) => ({ url: `/launch/${w.ids.science}/${w.ids.config}` }),
	},
	"GET /launch/:groupId/:configId/type-info": {
		rule: "member",
		build: (w) => ({ url: `/launch/${w.ids.science}/${w.ids.config}/type-info?instanceType=t2.micro` }),
	},
	"GET /launch/:groupId/:configId/estimate": {
		rule: "sparker",
		build: (w) => ({ url: `/launch/${w.ids.sparkers}/${w.ids.spark}/estimate?instanceType=m4.large&coreNodes=3` }),
	},
	"POST /launch/:groupId/:configId": {
		rule: "member",
		build: (w) => ({
			url: `/launch/${w.ids.science}/${w.ids.config}`,
			options: form({ intent: "review", instanceType: "t2.micro" }),
		}),
	},
	"GET /launches/:id": {
		rule: "launcher",
		owners: ["alice", "olga"],
		build: async (w, o) => ({ url: `/launches/${await w.launch(o!)}` }),
	},
	"GET /launches/:id/events": {
		rule: "launcher",
		owners: ["alice", "olga"],
		build: async (w, o) => ({ url: `/launches/${await w.launch(o!)}/events` }),
	},
	"GET /launches/:id/status": {
		rule: "launcher",
		owners: ["alice", "olga"],
		build: async (w, o) => ({ url: `/launches/${await w.launch(o!)}/status` }),
	},
	"POST /launches/:id/dismiss": {
		rule: "ownerOrAdmin",
		owners: ["alice", "olga"],
		build: async (w, o) => ({ url: `/launches/${await w.launch(o!)}/dismiss`, options: form() }),
	},
	"GET /team": { rule: "signedIn", build: () => ({ url: "/team" }) },
	"GET /billing": { rule: "signedIn", build: () => ({ url: "/billing" }) },
	"GET /billing.csv": { rule: "signedIn", build: () => ({ url: "/billing.csv" }) },
	"GET /billing/chargeback": {
		rule: "staff",
		build: () => ({ url: "/billing/chargeback?month=2025-02&costCenter=CC-science&format=json" }),
	},
	"GET /budgets": { rule: "signedIn", build: () => ({ url: "/budgets" }) },
	"POST /budgets": {
		rule: "userBudget",
		build: () => ({ url: "/budgets", options: form({ scope: "user", username: "olga", amount: "50" }) }),
	},
	"POST /budgets/:id/delete": {
		rule: "userBudget",
		build: async (w) => ({ url: `/budgets/${await w.budget()}/delete`, options: form() }),
	},
	"GET /approvals": { rule: "signedIn", build: () => ({ url: "/approvals" }) },
	// Members of science may ask; this launch needs no approval, so they are told to launch it (409).
	"POST /approvals": {
		rule: "member",
		build: (w) => ({
			url: "/approvals",
			options: form({
				kind: "launch",
				groupId: String(w.ids.science),
				configId: String(w.ids.config),
				"launch.instanceType": "t2.micro",
				until: "2025-03-05",
			}),
		}),
	},
	"GET /approvals/:id": {
		rule: "requestSeen",
		owners: ["alice", "olga"],
		build: async (w, o) => ({ url: `/approvals/${await w.approval(o!)}` }),
	},
	"POST /approvals/:id/decide": {
		rule: "decider",
		owners: ["alice", "olga"],
		build: async (w, o) => ({
			url: `/approvals/${await w.approval(o!)}/decide`,
			options: form({ decision: "deny", comment: "not this month" }),
		}),
	},
	"POST /approvals/:id/cancel": {
		rule: "requester",
		owners: ["alice", "olga"],
		build: async (w, o) => ({ url: `/approvals/${await w.approval(o!)}/cancel`, options: form() }),
	},
	"POST /approvals/rules": {
		rule: "admin",
		build: () => ({ url: "/approvals/rules", options: form({ subject: "volume", value: String(++counter) }) }),
	},
	"POST /approvals/rules/:id/delete": {
		rule: "admin",
		build: async (w) => ({ url: `/approvals/rules/${await w.rule()}/delete`, options: form() }),
	},
	"GET /profile": { rule: "signedIn", build: () => ({ url: "/profile" }) },
	// Revokes the persona's own tokens: the helper follows the new one the answer names.
	// Break-glass sign-in: the form is anyone's; its POST wants the form's own token (bound to a
	// cookie the form sets), which no persona here has: refused before any password is looked at.
	"ALL /break-glass/*": { rule: "middleware" },
	"GET /break-glass": { rule: "public", status: 200, build: () => ({ url: "/break-glass" }) },
	"POST /break-glass": {
		rule: "public",
		status: 403,
		build: () => ({ url: "/break-glass", options: form({ username: "ada", password: "a wrong password" }) }),
	},
	// Signing out of a break-glass session: a signed-in form (without one it only clears the cookie).
	"POST /break-glass/sign-out": {
		rule: "signedIn",
		build: () => ({ url: "/break-glass/sign-out", options: form() }),
	},
	// Sign-in through the browser (an OIDC auth plugin, tests/oidc_test.ts): with the header plugin of
	// this matrix its pages are not there, for anyone; its sign-out is a signed-in form that only
	// clears the cookie. tests/oidc_test.ts checks them with the OIDC plugin and a real provider.
	"GET /sign-in": { rule: "public", status: 404, build: () => ({ url: "/sign-in" }) },
	"GET /sign-in/callback": {
		rule: "public",
		status: 404,
		build: () => ({ url: "/sign-in/callback?code=made-up&state=made-up" }),
	},
	"GET /signed-out": { rule: "public", status: 404, build: () => ({ url: "/signed-out" }) },
	"POST /sign-out": { rule: "signedIn", build: () => ({ url: "/sign-out", options: form() }) },
	"POST /profile/sign-out-everywhere": {
		rule: "signedIn",
		build: () => ({ url: "/profile/sign-out-everywhere", options: form() }),
	},
	"POST /profile/notices": {
		rule: "signedIn",
		build: () => ({ url: "/profile/notices", options: form({ banner: "on", email: "on" }) }),
	},
	"GET /clusters/:id": {
		rule: "control",
		owners: ["alice", "olga"],
		build: async (w, o) => ({ url: `/clusters/${await w.cluster(o!)}` }),
	},
	"GET /clusters/:id/panel": {
		rule: "control",
		owners: ["alice", "olga"],
		build: async (w, o) => ({ url: `/clusters/${await w.cluster(o!)}/panel` }),
	},
	"POST /ajax/cluster/:id/terminate": {
		rule: "ownerOrAdmin",
		owners: ["alice", "olga"],
		build: async (w, o) => ({ url: `/ajax/cluster/${await w.cluster(o!)}/terminate`, options: form() }),
	},
	"GET /ajax/cluster/:id/terminate": {
		rule: "refusedMethod",
		build: async (w) => ({ url: `/ajax/cluster/${await w.cluster("alice")}/terminate` }),
	},
	"PUT /ajax/cluster/:id/terminate": {
		rule: "refusedMethod",
		build: async (w) => ({
			url: `/ajax/cluster/${await w.cluster("alice")}/terminate`,
			options: { method: "PUT", form: {} },
		}),
	},
	"DELETE /ajax/cluster/:id/terminate": {
		rule: "refusedMethod",
		build: async (w) => ({
			url: `/ajax/cluster/${await w.cluster("alice")}/terminate`,
			options: { method: "DELETE", form: {} },
		}),
	},
	"PATCH /ajax/cluster/:id/terminate": {
		rule: "refusedMethod",
		build: async (w) => ({
			url: `/ajax/cluster/${await w.cluster("alice")}/terminate`,
			options: { method: "PATCH", form: {} },
		}),
	},
	// The JSON API: a persona's bearer token, the same rules as the pages it mirrors.
	"ALL /api/v1/*": { rule: "middleware" },
	"GET /api/v1/openapi.json": { rule: "public", status: 200, build: () => ({ url: "/api/v1/openapi.json" }) },
	"GET /api/v1/reference": { rule: "public", status: 200, build: () => ({ url: "/api/v1/reference" }) },
	"GET /api/v1/instances": { rule: "signedIn", build: () => ({ url: "/api/v1/instances" }) },
	"GET /api/v1/instances/:id": {
		rule: "control",
		owners: ["alice", "olga"],
		build: async (w, o) => ({ url: `/api/v1/instances/${await w.instance(o!)}` }),
	},
	"POST /api/v1/instances/:id/actions/:action": {
		rule: "control",
		owners: ["alice", "olga"],
		build: async (w, o) => ({
			url: `/api/v1/instances/${await w.instance(o!)}/actions/stop`,
			options: { method: "POST" },
		}),
	},
	"POST /api/v1/instances/:id/resize": {
		rule: "control",
		owners: ["alice", "olga"],
		build: async (w, o) => ({
			url: `/api/v1/instances/${await w.instance(o!, "stopped")}/resize`,
			options: {
				method: "POST",
				headers: { "Content-Type": "application/json" },
				body: JSON.stringify({ instanceType: "m4.large" }),
			},
		}),
	},
	"GET /api/v1/clusters": { rule: "signedIn", build: () => ({ url: "/api/v1/clusters" }) },
	"GET /api/v1/clusters/:id": {
		rule: "control",
		owners: ["alice", "olga"],
		build: async (w, o) => ({ url: `/api/v1/clusters/${await w.cluster(o!)}` }),
	},
	"POST /api/v1/clusters/:id/actions/:action": {
		rule: "ownerOrAdmin",
		owners: ["alice", "olga"],
		build: async (w, o) => ({
			url: `/api/v1/clusters/${await w.cluster(o!)}/actions/terminate`,
			options: { method: "POST" },
		}),
	},
	"GET /api/v1/launches": { rule: "signedIn", build: () => ({ url: "/api/v1/launches" }) },
	"GET /api/v1/launches/:id": {
		rule: "launcher",
		owners: ["alice", "olga"],
		build: async (w, o) => ({ url: `/api/v1/launches/${await w.launch(o!)}` }),
	},
	// Members of science pass the entitlement and get the form's 422 (no type chosen): nothing is launched.
	"POST /api/v1/launches": {
		rule: "member",
		build: (w) => ({
			url: "/api/v1/launches",
			options: {
				method: "POST",
				headers: { "Content-Type": "application/json" },
				body: JSON.stringify({ groupId: w.ids.science, configId: w.ids.config, form: {} }),
			},
		}),
	},
	"GET /api/v1/configurations": { rule: "signedIn", build: () => ({ url: "/api/v1/configurations" }) },
	"GET /api/v1/billing": { rule: "signedIn", build: () => ({ url: "/api/v1/billing" }) },
	// The profile's API tokens: anyone's own.
	"POST /profile/tokens": {
		rule: "signedIn",
		build: () => ({ url: "/profile/tokens", options: form({ name: `t${hex()}` }) }),
	},
	"POST /profile/tokens/:id/revoke": {
		rule: "tokenHolder",
		owners: ["alice", "olga"],
		build: async (w, o) => ({ url: `/profile/tokens/${await w.apiToken(o!)}/revoke`, options: form() }),
	},
};

// Admin routes: admins only, each with a request that would succeed for an admin.
const adminGets = [
	"/admin",
	"/admin/groups",
	"/admin/groups/new",
	"/admin/configs",
	"/admin/configs/new",
	"/admin/instance-types",
	"/admin/security-groups",
	"/admin/params",
	"/admin/users",
	"/admin/found",
	"/admin/instances?state=running&sort=owner&dir=desc",
	"/admin/clusters?q=j-&sort=type",
	"/admin/volumes?which=all&sort=size",
	"/admin/launches?kind=instance&sort=status&dir=asc",
	"/admin/catalog",
	"/admin/catalog.json",
	"/admin/catalog.yaml",
];
for (const path of adminGets) MATRIX[`GET ${path.split("?")[0]}`] = { rule: "admin", build: () => ({ url: path }) };
Object.assign(
	MATRIX,
	{
		"GET /admin/groups/:id": { rule: "admin", build: (w: World) => ({ url: `/admin/groups/${w.ids.ops}` }) },
		"GET /admin/configs/:id": { rule: "admin", build: (w: World) => ({ url: `/admin/configs/${w.ids.config}` }) },
		"GET /admin/instance-types/:id": {
			rule: "admin",
			build: (w: World) => ({ url: `/admin/instance-types/${w.ids.type}` }),
		},
		"GET /admin/security-groups/:id": {
			rule: "admin",
			build: (w: World) => ({ url: `/admin/security-groups/${w.ids.sg}` }),
		},
		"GET /admin/params/:id": { rule: "admin", build: (w: World) => ({ url: `/admin/params/${w.ids.param}` }) },
		"GET /admin/users/:id": { rule: "admin", build: (w: World) => ({ url: `/admin/users/${w.ids.olga}` }) },
		"GET /admin/found/:id": { rule: "admin", build: async (w: World) => ({ url: `/admin/found/${await w.found()}` }) },
		// Every machine's record (admin browsing): its pages and the actions on it.
		"GET /admin/instances/:id": {
			rule: "admin",
			build: async (w: World) => ({ url: `/admin/instances/${await w.instance("olga")}` }),
		},
		"GET /admin/clusters/:id": {
			rule: "admin",
			build: async (w: World) => ({ url: `/admin/clusters/${await w.cluster("olga")}` }),
		},
		"GET /admin/volumes/:id": {
			rule: "admin",
			build: async (w: World) => ({ url: `/admin/volumes/${await w.volume()}` }),
		},
		"GET /admin/volumes/:id/delete": {
			rule: "admin",
			build: async (w: World) => ({ url: `/admin/volumes/${await w.volume()}/delete` }),
		},
		"POST /admin/volumes/:id/delete": {
			rule: "admin",
			build: async (w: World) => ({
				url: `/admin/volumes/${await w.volume()}/delete`,
				options: form({ confirm: "on" }),
			}),
		},
		"POST /admin/instances/:id/archive": {
			rule: "admin",
			build: async (w: World) => ({
				url: `/admin/instances/${await w.instance("alice", "terminated")}/archive`,
				options: form(),
			}),
		},
		"POST /admin/instances/:id/unarchive": {
			rule: "admin",
			build: async (w: World) => ({
				url: `/admin/instances/${await w.instanceWith({ state: "terminated", archived: true })}/unarchive`,
				options: form(),
			}),
		},
		"POST /admin/instances/:id/lock": {
			rule: "admin",
			build: async (w: World) => ({
				url: `/admin/instances/${await w.instance("alice")}/lock`,
				options: form({ reason: "review" }),
			}),
		},
		"POST /admin/instances/:id/unlock": {
			rule: "admin",
			build: async (w: World) => ({
				url: `/admin/instances/${await w.instanceWith({ controlsLocked: true, manualLockReason: "review" })}/unlock`,
				options: form(),
			}),
		},
		"POST /admin/instances/:id/reassign": {
			rule: "admin",
			build: async (w: World) => ({
				url: `/admin/instances/${await w.instance("alice")}/reassign`,
				options: form({ username: "olga" }),
			}),
		},
		"POST /admin/clusters/:id/archive": {
			rule: "admin",
			build: async (w: World) => ({ url: `/admin/clusters/${await w.cluster("alice")}/archive`, options: form() }),
		},
		"POST /admin/clusters/:id/unarchive": {
			rule: "admin",
			build: async (w: World) => ({ url: `/admin/clusters/${await w.cluster("alice")}/unarchive`, options: form() }),
		},
		"POST /admin/clusters/:id/reassign": {
			rule: "admin",
			build: async (w: World) => ({
				url: `/admin/clusters/${await w.cluster("alice")}/reassign`,
				options: form({ username: "olga" }),
			}),
		},
		// Unconfirmed: an admin gets the form back (422), without AWS being asked.
		"POST /admin/found/:id/adopt": {
			rule: "admin",
			build: async (w: World) => ({
				url: `/admin/found/${await w.found()}/adopt`,
				options: form({ username: "olga" }),
			}),
		},
		"POST /admin/groups/new": {
			rule: "admin",
			build: () => ({ url: "/admin/groups/new", options: form({ name: `g${hex()}` }) }),
		},
		"POST /admin/groups/:id": {
			rule: "admin",
			build: (w: World) => ({ url: `/admin/groups/${w.ids.ops}`, options: form({ name: "ops" }) }),
		},
		"POST /admin/groups/:id/delete": {
			rule: "admin",
			build: async (w: World) => ({ url: `/admin/groups/${await w.group()}/delete`, options: form() }),
		},
		"POST /admin/configs/new": {
			rule: "admin",
			build: () => ({ url: "/admin/configs/new", options: form({ name: "" }) }),
		},
		"POST /admin/configs/:id": {
			rule: "admin",
			build: (w: World) => ({ url: `/admin/configs/${w.ids.config}`, options: form({ name: "" }) }),
		},
		"POST /admin/configs/:id/delete": {
			rule: "admin",
			build: async (w: World) => ({ url: `/admin/configs/${await w.config()}/delete`, options: form() }),
		},
		"POST /admin/instance-types/new": {
			rule: "admin",
			build: () => ({ url: "/admin/instance-types/new", options: form({ name: `z${counter++}.large` }) }),
		},
		"POST /admin/instance-types/:id": {
			rule: "admin",
			build: (w: World) => ({ url: `/admin/instance-types/${w.ids.type}`, options: form({ name: "t2.micro" }) }),
		},
		"POST /admin/instance-types/:id/delete": {
			rule: "admin",
			build: async (w: World) => ({ url: `/admin/instance-types/${await w.type()}/delete`, options: form() }),
		},
		"POST /admin/security-groups/new": {
			rule: "admin",
			build: () => ({ url: "/admin/security-groups/new", options: form({ sgId: `sg-${hex()}` }) }),
		},
		"POST /admin/security-groups/:id": {
			rule: "admin",
			build: (w: World) => ({
				url: `/admin/security-groups/${w.ids.sg}`,
				options: form({ sgId: "sg-0000000000000000a" }),
			}),
		},
		"POST /admin/security-groups/:id/delete": {
			rule: "admin",
			build: async (w: World) => ({ url: `/admin/security-groups/${await w.sg()}/delete`, options: form() }),
		},
		"POST /admin/params/new": {
			rule: "admin",
			build: () => ({ url: "/admin/params/new", options: form({ token: `T${counter++}` }) }),
		},
		"POST /admin/params/:id": {
			rule: "admin",
			build: (w: World) => ({ url: `/admin/params/${w.ids.param}`, options: form({ token: "SECRET", value: "x" }) }),
		},
		"POST /admin/params/:id/delete": {
			rule: "admin",
			build: async (w: World) => ({ url: `/admin/params/${await w.param()}/delete`, options: form() }),
		},
		// The audit trail: admins only (it names every user's machines and actions).
		"GET /admin/audit": { rule: "admin", build: () => ({ url: "/admin/audit?outcome=ok" }) },
		"GET /admin/audit.csv": { rule: "admin", build: () => ({ url: "/admin/audit.csv?outcome=ok" }) },
		"GET /admin/guide": { rule: "admin", build: () => ({ url: "/admin/guide" }) },
		"POST /admin/users/:id/revoke": {
			rule: "admin",
			build: async (w: World) => ({ url: `/admin/users/${await w.user()}/revoke`, options: form() }),
		},
		"POST /admin/users/:id": {
			rule: "admin",
			build: (w: World) => ({
				url: `/admin/users/${w.ids.olga}`,
				options: form({ role: "user", groups: [String(w.ids.ops)] }),
			}),
		},
		"POST /admin/catalog": {
			rule: "admin",
			build: () => ({ url: "/admin/catalog", options: form({ document: '{"version":1}' }) }),
		},
	} satisfies Record<string, RouteSpec>,
);

async function buildWorld(): Promise<World> {
	const aws = fakeAws(ACTIONS_ACCEPTED);
	// Break-glass sign-in on, so its routes answer as they do when an operator turns it on.
	const deps = await createTestDeps({ aws, settings: { BREAK_GLASS: true, BREAK_GLASS_PER_MINUTE: 100 } });
	const w = await seedWorld(deps.db);
	const sparkers = await addGroup(deps.db, "sparkers", { emrAccess: true });
	await addMember(deps.db, w.alice.id, sparkers.id);
	const spark = await addConfig(deps.db, "Spark", {
		kind: "cluster",
		templateBody: CLUSTER_TEMPLATE,
		types: [w.types["m4.large"]!.id],
		groups: [sparkers.id],
	});
	const param = await deps.db.insert(params).values({ token: "SECRET", value: "x" }).returning();
	const sam = await addUser(deps.db, "sam", { firstName: "Sam" });
	await addManager(deps.db, sam.id, w.science.id);
	const owners = { alice: w.alice, olga: w.olga };
	const groupOf = { alice: w.science.id, olga: w.ops.id };
	const viewerNamed = async (username: string) =>
		await viewerOf(deps.db, (await getUserByUsername(deps.db, username))!, deps.settings.ADMIN_USERNAMES);
	const tokens: World["tokens"] = {};
	for (const persona of PERSONAS.filter((p) => p !== "anonymous")) {
		const made = await createApiToken(deps, await viewerNamed(persona), {
			name: "matrix",
			...(persona === "ada" ? { admin: "on" } : {}),
		});
		tokens[persona] = made.token;
	}
	return {
		deps,
		tokens,
		async apiToken(owner) {
			return (await createApiToken(deps, await viewerNamed(owner), { name: `t${hex()}` })).row.id;
		},
		ids: {
			science: w.science.id,
			ops: w.ops.id,
			sparkers: sparkers.id,
			config: w.config.id,
			spark: spark.id,
			type: w.types["t2.nano"]!.id,
			sg: w.sgOptional.id,
			param: param[0]!.id,
			olga: w.olga.id,
		},
		async instance(owner, state = "running", privateIp) {
			const id = `i-${hex()}`;
			await addInstance(deps.db, {
				id,
				ownerId: owners[owner].id,
				groupId: groupOf[owner],
				state,
				stackId: "arn:stack",
				privateIp,
			});
			return id;
		},
		async launchedInstance() {
			const launch = await addLaunch(deps.db, {
				userId: w.alice.id,
				groupId: w.science.id,
				configId: w.config.id,
				stackName: "s",
				status: "complete",
			}, LAUNCH_TOKEN);
			const id = `i-${hex()}`;
			await addInstance(deps.db, { id, ownerId: w.alice.id, groupId: w.science.id, launchId: launch.id });
			return id;
		},
		async extendLink(owner) {
			const id = `i-${hex()}`;
			await addInstance(deps.db, { id, ownerId: owners[owner].id, groupId: groupOf[owner], state: "running" });
			const actAt = new Date(deps.clock().getTime() + 10 * 60_000);
			const action = await insertPolicyNotice(deps.db, {
				machineId: id,
				kind: "instance",
				ownerId: owners[owner].id,
				groupId: groupOf[owner],
				reason: "idle",
				action: "stop",
				deadline: actAt,
				actAt,
				noticedAt: deps.clock(),
				stateAtNotice: "running",
			});
			return extendPath(
				await extendToken(deps.secret, { actionId: action!.id, userId: owners[owner].id, expiresAt: actAt }),
			);
		},
		async cluster(owner) {
			const id = `j-${hex().toUpperCase()}`;
			await addCluster(deps.db, { id, ownerId: owners[owner].id, groupId: groupOf[owner], stackId: "arn:stack" });
			return id;
		},
		async instanceWith(values) {
			const id = `i-${hex()}`;
			await addInstance(deps.db, { id, ownerId: w.alice.id, groupId: w.science.id, ...values });
			return id;
		},
		async volume() {
			const id = `vol-${hex()}`;
			await insertVolume(deps.db, { id, ownerId: w.olga.id, groupId: w.ops.id, sizeGb: 8, state: "available" });
			return id;
		},
		async param() {
			return (await deps.db.insert(params).values({ token: `P${hex()}` }).returning())[0]!.id;
		},
		async group() {
			return (await addGroup(deps.db, `g${hex()}`)).id;
		},
		async config() {
			return (await addConfig(deps.db, `c${hex()}`, { types: [], groups: [] })).id;
		},
		async type() {
			return (await deps.db.insert(instanceTypes).values({ name: `z${hex()}.large` }).returning())[0]!.id;
		},
		async sg() {
			return (await addSecurityGroup(deps.db, `sg-${hex()}`)).id;
		},
		async found() {
			const id = `i-${hex()}`;
			const at = deps.clock();
			await saveFound(deps.db, {
				id,
				kind: "instance",
				state: "running",
				tags: { LaunchedBy: "MLIY", userid: "alice" },
				reason: "it has no launch-id tag",
				firstSeenAt: at,
				lastSeenAt: at,
			});
			return id;
		},
		async user() {
			return (await addUser(deps.db, `u${hex()}`)).id;
		},
		async approval(owner) {
			const request = await insertApproval(deps.db, {
				kind: "launch",
				requesterId: owners[owner].id,
				groupId: groupOf[owner],
				reasons: ["The instance type r4.4xlarge needs approval."],
				needs: ["type"],
				launch: { groupId: groupOf[owner], configId: w.config.id, form: { instanceType: "r4.4xlarge" } },
				until: new Date(deps.clock().getTime() + 86_400_000),
			});
			return request.id;
		},
		async budget() {
			return await saveBudget(deps.db, {
				scope: "user",
				target: budgetTarget("user", { userId: w.olga.id }),
				userId: w.olga.id,
				amount: 10 + ++counter,
			});
		},
		async rule() {
			return await insertApprovalRule(deps.db, { subject: "volume", minVolumeGb: 1000 + ++counter });
		},
		async launch(owner) {
			const launch = await addLaunch(deps.db, {
				userId: owners[owner].id,
				groupId: groupOf[owner],
				configId: w.config.id,
				stackName: "s",
				status: "complete",
			});
			return launch.id;
		},
	};
}

Deno.test("permission matrix: every registered route, every persona, resources of two groups", async () => {
	const world = await buildWorld();
	await using _ = world.deps;
	const registered = [...new Set(world.deps.app.routes.map((r) => `${r.method} ${r.path}`))];
	const missing = registered.filter((route) => !(route in MATRIX));
	assert.deepEqual(missing, [], "every route the app registers is in the matrix");
	const stale = Object.keys(MATRIX).filter((route) => !registered.includes(route));
	assert.deepEqual(stale, [], "the matrix lists no route the app does not have");

	let cases = 0;
	const failures: string[] = [];
	for (const route of registered) {
		const spec = MATRIX[route]!;
		if (spec.rule === "middleware") continue;
		for (const owner of spec.owners ?? [undefined]) {
			for (const persona of PERSONAS) {
				const { url, options } = await spec.build!(world, owner);
				const token = persona === "anonymous" ? undefined : world.tokens[persona];
				const res = url.startsWith("/api/")
					? await request(world.deps.app, url, {
						...options,
						headers: { ...options?.headers, ...(token ? { Authorization: `Bearer ${token}` } : {}) },
					})
					: await request(world.deps.app, url, { ...options, user: persona === "anonymous" ? undefined : persona });
				await res.body?.cancel();
				cases += 1;
				const rule = RULES[spec.rule];
				const expected = rule(persona, owner);
				const where = `${route} as ${persona}${owner ? ` on ${owner}'s` : ""} → ${res.status}`;
				if (res.status >= 500) failures.push(`${where}: server error`);
				else if (expected === "public") {
					if (res.status !== spec.status) failures.push(`${where}: a public route, expected ${spec.status}`);
				} else if (persona === "anonymous") {
					if (res.status !== 401) failures.push(`${where}: anonymous must get 401`);
				} else if (expected === "allow") {
					if ([401, 403, 404, 405].includes(res.status)) failures.push(`${where}: should be allowed`);
				} else if (![403, 404, 405].includes(res.status)) {
					failures.push(`${where}: should be refused`);
				}
			}
		}
	}
	assert.deepEqual(failures, [], `${failures.length} of ${cases} cases wrong`);
	assert.ok(cases > 400, `the matrix ran ${cases} cases`);
});

Deno.test("CSRF: every state-changing route refuses a cross-site request and one without the token", async () => {
	const world = await buildWorld();
	await using _ = world.deps;
	const stateChanging = [
		...new Set(
			world.deps.app.routes.filter((r) => !["GET", "ALL", "HEAD"].includes(r.method)).map((r) =>
				`${r.method} ${r.path}`
			),
		),
	];
	// The progress and activity callbacks are the instances' own, authenticated by their token or
	// address, not by a browser session; the JSON API takes bearer tokens, which no browser sends by
	// itself (tests/api_test.ts shows a bearer call needs no CSRF token and a session never counts there).
	const exempt = [
		"POST /ajax/progress/:instanceId/:spec",
		"POST /ajax/activity/:instanceId",
		"POST /ajax/activity/:instanceId/keepalive",
		...stateChanging.filter((route) => route.includes(" /api/")),
	];
	let checked = 0;
	for (const route of stateChanging.filter((r) => !exempt.includes(r))) {
		const spec = MATRIX[route]!;
		const { url, options } = await spec.build!(world, spec.owners?.[0]);
		const crossSite = await request(world.deps.app, url, {
			...options,
			user: "ada",
			headers: { Origin: "https://attacker.example", "Sec-Fetch-Site": "cross-site" },
		});
		assert.equal(crossSite.status, 403, `${route} cross-site`);
		assert.match(await crossSite.text(), /came from another site/);
		const noToken = await request(world.deps.app, url, { ...options, user: "ada", csrf: false });
		assert.equal(noToken.status, 403, `${route} without a token`);
		const wrongOrigin = await request(world.deps.app, url, {
			...options,
			user: "ada",
			headers: { Origin: "https://attacker.example" },
		});
		assert.equal(wrongOrigin.status, 403, `${route} with another origin`);
		checked += 1;
	}
	assert.equal(checked, stateChanging.length - exempt.length);
	assert.ok(checked >= 25, `${checked} state-changing routes checked`);
});

Deno.test("identity: forged headers from untrusted addresses and the development plugin off loopback are refused", async () => {
	await using deps = await createTestDeps({ settings: { TRUSTED_PROXIES: ["10.0.0.0/24"] } });
	await seedWorld(deps.db);
	for (const from of ["10.0.1.5", "192.168.0.1", "::ffff:10.0.1.9", "2001:db8::1"]) {
		const res = await request(deps.app, "/admin", { user: "ada", from });
		assert.equal(res.status, 401, from);
	}
	assert.equal((await request(deps.app, "/admin", { user: "ada", from: "10.0.0.7" })).status, 200);
	// A forwarded-for chain naming the proxy does not make an untrusted peer trusted.
	assert.equal(
		(await request(deps.app, "/", { user: "ada", from: "203.0.113.1", headers: { "X-Forwarded-For": "10.0.0.7" } }))
			.status,
		401,
	);
	// The development plugin answers loopback only, even when it is configured.
	await using dev = await createTestDeps({ settings: { AUTH_PLUGIN: "plugins/auth_dev", TRUSTED_PROXIES: [] } });
	assert.equal((await request(dev.app, "/", { from: "127.0.0.1" })).status, 200);
	assert.equal((await request(dev.app, "/", { from: "10.0.0.7" })).status, 401);
	assert.equal((await request(dev.app, "/", { from: "10.0.0.7", header: "X-Dev-User", user: "ada" })).status, 401);
});
