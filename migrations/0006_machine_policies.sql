CREATE TABLE `machine_activity` (
	`machine_id` text PRIMARY KEY NOT NULL,
	`reported_at` integer,
	`signal_at` integer NOT NULL,
	`active_at` integer,
	`source` text NOT NULL,
	`cpu_percent` real,
	`gpu_percent` real,
	`kernels_busy` integer,
	`sessions` integer,
	`network_bytes_per_second` integer
);
--> statement-breakpoint
CREATE TABLE `machine_policies` (
	`machine_id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`idle_minutes` integer,
	`lifetime_hours` integer,
	`auto_start` integer,
	`keep_alive_until` integer,
	`idle_postponed_until` integer,
	`schedule_postponed_until` integer,
	`lifetime_postponed_until` integer,
	`dormancy_postponed_until` integer,
	`schedule_stopped_at` integer,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `notice_channels` (
	`user_id` integer PRIMARY KEY NOT NULL,
	`banner` integer DEFAULT true NOT NULL,
	`email` integer DEFAULT true NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `policy_actions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`machine_id` text NOT NULL,
	`kind` text NOT NULL,
	`owner_id` integer NOT NULL,
	`group_id` integer,
	`reason` text NOT NULL,
	`action` text NOT NULL,
	`deadline` integer NOT NULL,
	`act_at` integer NOT NULL,
	`noticed_at` integer NOT NULL,
	`status` text DEFAULT 'noticed' NOT NULL,
	`detail` text DEFAULT '' NOT NULL,
	`state_at_notice` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer,
	`last_error` text,
	`ended_at` integer,
	`hourly_rate` real,
	`postponed_by` integer,
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`group_id`) REFERENCES `groups`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`postponed_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `policy_actions_one_open` ON `policy_actions` (`machine_id`,`reason`) WHERE status IN ('noticed', 'acting', 'failed');--> statement-breakpoint
CREATE INDEX `policy_actions_status_idx` ON `policy_actions` (`status`);--> statement-breakpoint
CREATE INDEX `policy_actions_owner_idx` ON `policy_actions` (`owner_id`,`noticed_at`);--> statement-breakpoint
CREATE INDEX `policy_actions_group_idx` ON `policy_actions` (`group_id`,`ended_at`);--> statement-breakpoint
ALTER TABLE `audit_events` ADD `reason` text;--> statement-breakpoint
ALTER TABLE `groups` ADD `policy` text DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE `groups` ADD `notice_webhook` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `software_configs` ADD `policy` text DEFAULT '{}' NOT NULL;