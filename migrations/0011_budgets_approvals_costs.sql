CREATE TABLE `actual_costs` (
	`day` text NOT NULL,
	`cost_center` text NOT NULL,
	`launch_id` text NOT NULL,
	`group_id` integer,
	`amount` real NOT NULL,
	`estimated` integer DEFAULT false NOT NULL,
	`fetched_at` integer NOT NULL,
	PRIMARY KEY(`day`, `cost_center`, `launch_id`),
	FOREIGN KEY (`group_id`) REFERENCES `groups`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `actual_costs_group_idx` ON `actual_costs` (`group_id`);--> statement-breakpoint
CREATE TABLE `approval_rules` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`subject` text NOT NULL,
	`instance_type` text,
	`config_id` integer,
	`min_volume_gb` integer,
	`note` text DEFAULT '' NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	FOREIGN KEY (`config_id`) REFERENCES `software_configs`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `approvals` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind` text NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`requester_id` integer NOT NULL,
	`group_id` integer,
	`budget_id` integer,
	`reasons` text DEFAULT '[]' NOT NULL,
	`needs` text DEFAULT '[]' NOT NULL,
	`launch` text,
	`amount` real,
	`until` integer NOT NULL,
	`note` text DEFAULT '' NOT NULL,
	`decided_by` integer,
	`decided_at` integer,
	`comment` text DEFAULT '' NOT NULL,
	`grant_amount` real,
	`grant_until` integer,
	`launch_id` text,
	`outcome` text,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	FOREIGN KEY (`requester_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`group_id`) REFERENCES `groups`(`id`) ON UPDATE no action ON DELETE set null,
	FOREIGN KEY (`budget_id`) REFERENCES `budgets`(`id`) ON UPDATE no action ON DELETE set null,
	FOREIGN KEY (`decided_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`launch_id`) REFERENCES `launches`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `approvals_status_idx` ON `approvals` (`status`,`grant_until`);--> statement-breakpoint
CREATE INDEX `approvals_requester_idx` ON `approvals` (`requester_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `approvals_launch_idx` ON `approvals` (`launch_id`);--> statement-breakpoint
CREATE TABLE `budgets` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`scope` text NOT NULL,
	`target` text NOT NULL,
	`group_id` integer,
	`user_id` integer,
	`cost_center` text,
	`amount` real NOT NULL,
	`warn_share` real DEFAULT 0.8 NOT NULL,
	`hard_share` real,
	`hard_amount` real,
	`notice_minutes` integer DEFAULT 60 NOT NULL,
	`created_by` integer,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	FOREIGN KEY (`group_id`) REFERENCES `groups`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`created_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `budgets_target_unique` ON `budgets` (`target`);--> statement-breakpoint
CREATE TABLE `user_notices` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`user_id` integer NOT NULL,
	`topic` text NOT NULL,
	`key` text NOT NULL,
	`message` text NOT NULL,
	`href` text DEFAULT '' NOT NULL,
	`at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `user_notices_once` ON `user_notices` (`user_id`,`key`);--> statement-breakpoint
CREATE INDEX `user_notices_user_idx` ON `user_notices` (`user_id`,`at`);