/**
 * The machine policy's fields of the group and configuration forms, as data: named `policy.<rule>`
 * (lib/policy/spec.ts reads them back). Working hours and the notice webhook are a group's only.
 */
import { WEEKDAYS } from "../../lib/policy/spec.ts";
import type { FormItem } from "../ui/forms.tsx";

const rule = (name: string) => `policy.${name}`;

/** The policy fields of a group's (`group`) or a configuration's form. */
export function policyFields(scope: "group" | "config"): FormItem[] {
	const items: FormItem[] = [
		{ heading: "Machine policy" },
		{
			note:
				"Each rule is off when its limit is empty. A machine follows the stricter of its group's and its configuration's rule; owners are told before every automated action, and may postpone it.",
		},
		{
			grid: [
				{
					control: "number",
					name: rule("idleMinutes"),
					label: "Idle stop after (minutes)",
					hint: "Users' default; a cluster is terminated",
				},
				{ control: "number", name: rule("idleMinMinutes"), label: "Users may choose from (minutes)" },
				{ control: "number", name: rule("idleMaxMinutes"), label: "… up to (minutes)" },
				{ control: "number", name: rule("idleNoticeMinutes"), label: "Idle notice ahead (minutes)", fallback: "10" },
				{ control: "number", name: rule("idleCpuPercent"), label: "Idle below CPU (%)", fallback: "10" },
				{ control: "number", name: rule("idleGpuPercent"), label: "Idle below GPU (%)", fallback: "10" },
				{ control: "number", name: rule("idleNetworkKBps"), label: "Idle below network (kB/s)", fallback: "50" },
			],
		},
		{
			grid: [
				{
					control: "number",
					name: rule("lifetimeHours"),
					label: "Terminate after (hours since launch)",
					hint: "Users may choose fewer",
				},
				{
					control: "number",
					name: rule("lifetimeNoticeMinutes"),
					label: "Lifetime notice ahead (minutes)",
					fallback: "1440",
				},
				{ control: "number", name: rule("dormancyDays"), label: "Terminate after stopped for (days)" },
				{
					control: "number",
					name: rule("dormancyNoticeMinutes"),
					label: "Dormancy notice ahead (minutes)",
					fallback: "1440",
				},
				{
					control: "number",
					name: rule("maxPostponeMinutes"),
					label: "Longest postponement (minutes)",
					hint: "Per extend link or keep-alive; lifetime and dormancy in all",
					fallback: "480",
				},
			],
		},
	];
	if (scope === "group") {
		items.push(
			{ heading: "Working hours (in the portal's time zone)" },
			{
				control: "checks",
				name: rule("workDays"),
				label: "Working days",
				options: WEEKDAYS.map((d) => ({ value: d, label: d[0]!.toUpperCase() + d.slice(1) })),
				hint: "Machines running when a working day ends are stopped; other days are left alone.",
			},
			{
				grid: [
					{ control: "text", name: rule("workStart"), label: "From", placeholder: "08:00" },
					{ control: "text", name: rule("workEnd"), label: "To", placeholder: "19:00" },
					{
						control: "number",
						name: rule("scheduleNoticeMinutes"),
						label: "Stop notice ahead (minutes)",
						fallback: "15",
					},
				],
			},
			{
				control: "checkbox",
				name: rule("workAutoStart"),
				label: "Start the machines it stopped when working hours begin",
			},
			{
				control: "text",
				name: "noticeWebhook",
				label: "Notice webhook",
				hint: "A Slack-compatible incoming webhook: every notice of the group's machines is posted there.",
			},
		);
	}
	return items;
}
