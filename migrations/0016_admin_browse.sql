ALTER TABLE `clusters` ADD `tags` text DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE `instances` ADD `manual_lock_reason` text;--> statement-breakpoint
ALTER TABLE `instances` ADD `tags` text DEFAULT '{}' NOT NULL;--> statement-breakpoint
CREATE INDEX `instances_admin_state_idx` ON `instances` (`archived`,`state`,`created_at`);--> statement-breakpoint
CREATE INDEX `instances_admin_type_idx` ON `instances` (`archived`,`instance_type`,`id`);--> statement-breakpoint
CREATE INDEX `instances_admin_name_idx` ON `instances` (`archived`,`name`,`id`);--> statement-breakpoint
CREATE INDEX `volumes_state_idx` ON `volumes` (`state`,`created_at`);