CREATE TABLE `group_managers` (
	`user_id` integer NOT NULL,
	`group_id` integer NOT NULL,
	`source` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	PRIMARY KEY(`user_id`, `group_id`, `source`),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`group_id`) REFERENCES `groups`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `group_managers_group_idx` ON `group_managers` (`group_id`);--> statement-breakpoint
ALTER TABLE `groups` ADD `manager_directory_name` text;