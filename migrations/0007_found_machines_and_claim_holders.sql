CREATE TABLE `found_machines` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`name` text DEFAULT '' NOT NULL,
	`instance_type` text DEFAULT '' NOT NULL,
	`state` text NOT NULL,
	`tags` text DEFAULT '{}' NOT NULL,
	`reason` text NOT NULL,
	`claimed_launch_id` text,
	`cost_description` text DEFAULT '' NOT NULL,
	`hourly_rate` real,
	`launched_at` integer,
	`first_seen_at` integer NOT NULL,
	`last_seen_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `found_machines_kind_idx` ON `found_machines` (`kind`,`last_seen_at`);--> statement-breakpoint
ALTER TABLE `launches` ADD `claimed_by` text;