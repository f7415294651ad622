CREATE TABLE `instance_resizes` (
	`instance_id` text PRIMARY KEY NOT NULL,
	`from_type` text NOT NULL,
	`to_type` text NOT NULL,
	`requested_by` integer NOT NULL,
	`step` text DEFAULT 'stopping' NOT NULL,
	`audit_id` integer,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	FOREIGN KEY (`requested_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `progress_reports` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`instance_id` text NOT NULL,
	`config_id` integer,
	`stage` text NOT NULL,
	`percent` integer NOT NULL,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `progress_reports_instance_idx` ON `progress_reports` (`instance_id`,`at`);--> statement-breakpoint
CREATE INDEX `progress_reports_config_idx` ON `progress_reports` (`config_id`,`at`);--> statement-breakpoint
CREATE TABLE `stack_events` (
	`launch_id` text PRIMARY KEY NOT NULL,
	`stack_id` text NOT NULL,
	`events` text NOT NULL,
	`stored_at` integer NOT NULL,
	FOREIGN KEY (`launch_id`) REFERENCES `launches`(`id`) ON UPDATE no action ON DELETE cascade
);
